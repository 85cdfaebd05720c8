// The replacement guard's edits and verdicts (tools/engine/guard*.ts), without the engine: every
// config key has an edit, every edit is a valid config, and a preview that replaces or deletes a
// stateful resource fails the guard.
import { describe, expect, it } from "vitest";
import { FIELDS, parseConfig } from "../components/config";
import { batches, verdictOf } from "../tools/engine/guard";
import { GUARD_VARIANTS, isFixed, type Variant } from "../tools/engine/guard-variants";
import { FIRST_PINS } from "../tools/engine/story";
import type { Outcome, Step } from "../tools/engine/world";
import { readStackConfig } from "../tools/offline/stack-files";
import { PROJECT_DIR } from "./helpers/plan";

/** Prod's config as the story has deployed it when the guard runs (see GUARD_VARIANTS' doc). */
const PROD_AT_GUARD = { ...FIRST_PINS, zenmlVersion: "0.98.0", mlflowVersion: "3.17.2", mlflowImage: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow-server:3.17.2@sha256:${"0123456789abcdef".repeat(4)}`, mlflowHostname: "mlflow.example.com" };

function prodConfig(change: Record<string, unknown>): Record<string, string> {
  const values = { ...readStackConfig(PROJECT_DIR, "prod").values };
  for (const [key, value] of Object.entries({ ...PROD_AT_GUARD, ...change })) values[`zenml-platform:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  return values;
}

const step = (op: Step["op"], type: string, name: string, extra: Partial<Step> = {}): Step => ({ op, type, name, urn: `urn:pulumi:prod::zenml-platform::${type}::${name}`, diffs: [], retained: false, started: 1, ...extra });
const outcome = (steps: Step[], error?: string): Outcome => ({ ok: error === undefined, steps, error, warnings: [], seconds: 1 });

describe("the guard's edits", () => {
  it("cover every config key", () => {
    const covered = new Set(GUARD_VARIANTS.map((v) => v.key));
    expect(Object.keys(FIELDS).filter((k) => !covered.has(k))).toEqual([]);
  });

  it.each(GUARD_VARIANTS.filter((v): v is Variant => !isFixed(v)).map((v) => [v.key, v] as const))("%s: the edit is a valid prod config", (_key, variant) => {
    expect(() => parseConfig("prod", prodConfig(variant.change))).not.toThrow();
  });

  it("list a key as fixed only when prod accepts no other value", () => {
    const other: Record<string, unknown> = { environment: "staging", availabilityZones: 2, natGateways: "Single", dbMultiAz: false };
    for (const fixed of GUARD_VARIANTS.filter(isFixed)) expect(() => parseConfig("prod", prodConfig({ [fixed.key]: other[fixed.key] })), fixed.key).toThrow(fixed.key);
  });

  it("batch edits without a key twice and with one versioned part at most", () => {
    const variants = GUARD_VARIANTS.filter((v): v is Variant => !isFixed(v));
    const parts = ["zenmlVersion", "kubernetesVersion", "dbEngineVersion", "mlflowVersion", "eksAddonVersions", "rollbackSnapshot"];
    const all = batches(variants, 8);
    expect(all.flat()).toHaveLength(variants.length);
    for (const b of all) {
      const keys = b.flatMap((v) => Object.keys(v.change));
      expect(new Set(keys).size).toBe(keys.length);
      expect(b.filter((v) => Object.keys(v.change).some((k) => parts.includes(k))).length).toBeLessThanOrEqual(1);
    }
  });
});

describe("the guard's verdict on a preview", () => {
  it("fails an edit that replaces the database", () => {
    const v = verdictOf(outcome([step("create-replacement", "aws:rds/instance:Instance", "zenml-database-instance"), step("replace", "aws:rds/instance:Instance", "zenml-database-instance")]));
    expect(v.verdict).toBe("loses");
    expect(v.detail).toContain("replaces database zenml-database-instance");
  });

  it("fails an edit that deletes a generated secret, or that the engine stops on a protected resource", () => {
    expect(verdictOf(outcome([step("delete", "random:index/randomPassword:RandomPassword", "zenml-mlflow-admin-password")])).verdict).toBe("loses");
    expect(verdictOf(outcome([], 'resource "urn:...RandomPassword::x" cannot be deleted because it is protected')).verdict).toBe("loses");
  });

  it("passes replacements of what holds no state, a retained snapshot released, and a refusal by the program", () => {
    expect(verdictOf(outcome([step("replace", "kubernetes:batch/v1:Job", "zenml-post-upgrade-job"), step("delete", "aws:rds/snapshot:Snapshot", "s", { retained: true })])).verdict).toBe("safe");
    expect(verdictOf(outcome([], 'Stack "prod": vpcCidr cannot change on a deployed stack')).verdict).toBe("refused");
  });
});
