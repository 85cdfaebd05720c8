// The policy pack as `pulumi preview --policy-pack policy` runs it: Pulumi's own policy runner
// loads policy/ (its .ts through tools/loader, policy/index.cjs) and serves the Analyzer gRPC API; we play the engine and send it
// the offline plans. This covers what the plain-function tests cannot: that the pack loads and
// compiles in that runtime (transpile-only: npm run typecheck checks it), announces every rule,
// reads the stack file, and maps results back.
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCE_RULES, STACK_RULES } from "../policy/rules";
import type { Plan, PlannedResource } from "../tools/offline/plan";
import { STACKS, plan, stackRef } from "./helpers/plan";
import { startPolicyPack, type RunningPack } from "./helpers/policy-pack";

let pack: RunningPack;
const plans: Record<string, Plan> = {};

beforeAll(async () => {
  const starting = startPolicyPack();
  // Plans one at a time: Pulumi's runtime state is global to the process.
  for (const stack of STACKS) plans[stack] = await plan(stack);
  pack = await starting;
}, 120_000);
afterAll(() => pack?.stop());

const clone = (p: Plan): PlannedResource[] => JSON.parse(JSON.stringify(p.resources)) as PlannedResource[];
const find = (rs: PlannedResource[], type: string) => rs.find((r) => r.type === type)!;

describe("the policy pack under Pulumi's policy runner", () => {
  it("announces every rule with its enforcement level", async () => {
    const announced = await pack.policies();
    const expected = [...RESOURCE_RULES, ...STACK_RULES].map((r) => ({ name: r.name, enforcement: r.enforcement }));
    expect(announced.map(({ name, enforcement }) => ({ name, enforcement }))).toEqual(expected);
  });

  it("loads its TypeScript through the project's loader, so ts-node (the runner's, type-checking) compiles none of it", async () => {
    // On a fresh CI runner ts-node's cache is empty, and compiling the pack with it took 5.7 s.
    expect(await pack.policies()).not.toHaveLength(0);
    const compiled = fs.readdirSync(pack.tsNodeCache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(compiled.map((e) => e.name)).toEqual([]);
  });

  it.each(STACKS)("finds nothing in the real plan of %s", async (stack) => {
    expect(await pack.preview(plans[stack].resources)).toEqual([]);
  });

  it("reports resource and stack violations with the fix", async () => {
    const rs = clone(plans.prod);
    const rds = find(rs, "aws:rds/instance:Instance");
    rds.inputs.multiAz = false;
    rds.options.protect = false;
    const found = await pack.preview(rs);
    expect(found.map((d) => [d.policy, d.enforcement])).toEqual([
      ["rds-multi-az-prod", "mandatory"],
      ["prod-stateful-protected", "mandatory"],
    ]);
    expect(found[0].message).toMatch(/prod database is single-AZ\. Fix: Set dbMultiAz: true in Pulumi\.prod\.yaml/);
    expect(found[1].urn).toBe(rds.urn);
  });

  it("checks the release against the pin in the stack's own file", async () => {
    const rs = clone(plans.prod);
    const release = find(rs, "kubernetes:helm.sh/v3:Release");
    release.inputs.version = "0.98.0";
    (release.inputs.values as { zenml: { image: { tag: string } } }).zenml.image.tag = "0.98.0";
    const found = await pack.preview(rs);
    expect(found.map((d) => d.policy)).toEqual(["zenml-release-versions-match"]);
    expect(found[0].message).toMatch(/chart version 0\.98\.0 is not the pinned zenmlVersion 0\.97\.0/);
  });

  it("keeps the public-endpoint finding advisory", async () => {
    const rs = clone(plans.staging);
    find(rs, "eks:index:Cluster").inputs.publicAccessCidrs = ["0.0.0.0/0"];
    expect((await pack.preview(rs)).map((d) => [d.policy, d.enforcement])).toEqual([["eks-public-endpoint-allow-list", "advisory"]]);
  });

  it("sees the release's dependencies during an upgrade", async () => {
    const upgrade = await plan("staging", { deployed: { [stackRef("staging")]: { zenmlVersion: "0.97.0", zenmlVersionHistory: ["0.97.0"] } } });
    expect(await pack.preview(upgrade.resources)).toEqual([]);
    const rs = clone(upgrade);
    const release = find(rs, "kubernetes:helm.sh/v3:Release");
    release.options.dependsOn = release.options.dependsOn.filter((u) => !u.includes("aws:rds/snapshot:Snapshot"));
    expect((await pack.preview(rs)).map((d) => d.policy)).toEqual(["snapshot-before-upgrade"]);
  });
});
