import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { checkMirror, readAllowList } from "../tools/mirror/check";
import { compareStacks, flatten, normalise, type Side } from "../tools/mirror/compare";
import type { Plan, PlannedResource } from "../tools/offline/plan";
import { PROJECT_DIR } from "./helpers/plan";

const FIXTURES = path.join(PROJECT_DIR, "tests", "fixtures", "mirror");
const fixture = (name: string, stack: string) => path.join(FIXTURES, name, `Pulumi.${stack}.yaml`);

describe("mirror-check on the real stack files", () => {
  it("passes, with every difference declared and explained", async () => {
    const result = await checkMirror({ projectDir: PROJECT_DIR });
    expect(result.violations).toEqual([]);
    const allowedKeys = result.differences.filter((d) => d.kind !== "setting" && d.kind !== "resource-missing").map((d) => d.where);
    expect(allowedKeys).toEqual(expect.arrayContaining(["zenml-platform:zenmlVersion", "zenml-platform:dbInstanceClass", "zenml-platform:serverHostname"]));
    for (const d of result.differences) expect(d.note.length).toBeGreaterThan(5);
  });
});

describe("mirror-check on fixtures that each break the mirror one way", () => {
  it("a config key present in one file only", async () => {
    const { violations } = await checkMirror({ projectDir: PROJECT_DIR, prodFile: fixture("missing-key", "prod") });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ kind: "config-key-missing", where: "zenml-platform:pipelinesNamespace" });
    expect(violations[0].note).toMatch(/set zenml-platform:pipelinesNamespace in Pulumi\.prod\.yaml too/);
  });

  it("a setting changed in one stack only (MySQL major version)", async () => {
    const { violations } = await checkMirror({ projectDir: PROJECT_DIR, prodFile: fixture("engine-differs", "prod") });
    expect(violations.map((v) => `${v.kind} ${v.where} ${v.path ?? ""}`.trim())).toEqual(
      expect.arrayContaining([
        "config-value zenml-platform:dbEngineVersion",
        "setting aws:rds/instance:Instance zenml-database-instance engineVersion",
        "setting aws:rds/parameterGroup:ParameterGroup zenml-database-params family",
      ]),
    );
    expect(violations.find((v) => v.kind === "config-value")?.note).toMatch(/make zenml-platform:dbEngineVersion equal in Pulumi\.staging\.yaml or Pulumi\.prod\.yaml/);
  });

  it("prod ahead of staging", async () => {
    const { violations } = await checkMirror({ projectDir: PROJECT_DIR, prodFile: fixture("prod-ahead", "prod") });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ kind: "version-order", where: "zenml-platform:zenmlVersion", left: "0.98.0", right: "0.99.0" });
    expect(violations[0].note).toMatch(/prod \(0\.99\.0\) must never be ahead of staging \(0\.98\.0\)/);
  });

  it("a Kubernetes version changed in staging only", async () => {
    const { violations } = await checkMirror({ projectDir: PROJECT_DIR, stagingFile: fixture("k8s-differs", "staging") });
    expect(violations.map((v) => v.path ?? v.where)).toEqual(["zenml-platform:kubernetesVersion", "version"]);
    expect(violations[1].where).toBe("eks:index:Cluster zenml-cluster");
  });

  it("the CLI exits 1 with a JSON report for CI", async () => {
    const tsx = path.join(PROJECT_DIR, "node_modules", ".bin", "tsx");
    const failed = await promisify(execFile)(tsx, ["tools/mirror-check.ts", "--json", "--prod-file", fixture("prod-ahead", "prod")], { cwd: PROJECT_DIR, maxBuffer: 16 << 20 }).catch((e: { code: number; stdout: string }) => e);
    expect((failed as { code: number }).code).toBe(1);
    const report = JSON.parse((failed as { stdout: string }).stdout);
    expect(report.ok).toBe(false);
    expect(report.violations[0].where).toBe("zenml-platform:zenmlVersion");
  });
});

describe("comparison rules", () => {
  const resource = (type: string, name: string, inputs: Record<string, unknown>, protect = false): PlannedResource => ({ urn: `urn:${type}::${name}`, type, name, parent: null, custom: true, inputs, options: { protect, retainOnDelete: false, dependsOn: [] } });
  const side = (stack: string, resources: PlannedResource[], config: Record<string, string> = {}): Side => ({ stack, file: `Pulumi.${stack}.yaml`, config, plan: { stack, project: "p", note: "", resources, outputs: {}, warnings: [] } as Plan });
  const allow = readAllowList(path.join(PROJECT_DIR, "mirror.allow.yaml"));

  it("reports a resource that exists in one stack only", () => {
    const diffs = compareStacks(side("staging", [resource("aws:sqs/queue:Queue", "jobs", {})]), side("prod", []), allow);
    expect(diffs).toEqual([expect.objectContaining({ kind: "resource-missing", where: "aws:sqs/queue:Queue jobs", allowed: false, note: expect.stringMatching(/exists only in staging/) })]);
  });

  it("ignores the stack's own name inside values but nothing else", () => {
    expect(normalise("arn:aws:iam::1:role/zenml-staging-connector", "staging")).toBe("arn:aws:iam::1:role/zenml-<stack>-connector");
    expect(normalise("stagingarea", "staging")).toBe("stagingarea");
    const diffs = compareStacks(side("staging", [resource("t:a:B", "x", { name: "zenml-staging", size: 1 })]), side("prod", [resource("t:a:B", "x", { name: "zenml-prod", size: 2 })]), allow);
    expect(diffs.map((d) => d.path)).toEqual(["size"]);
  });

  it("opens JSON documents held in strings, so one changed statement is named", () => {
    const flat = flatten({ policy: JSON.stringify({ Statement: [{ Action: "s3:GetObject" }] }) });
    expect([...flat.keys()]).toEqual(["policy#Statement.0.Action"]);
  });

  it("requires a reason for every allowed difference", () => {
    expect(allow.config.every((c) => c.reason.length > 5) && allow.resources.every((r) => r.reason.length > 5)).toBe(true);
  });
});
