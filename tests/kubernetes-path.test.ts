// Both stacks leave Kubernetes 1.33 the way a user moves them (docs/UPGRADING.md, the loop with --part):
// staging 1.33 -> 1.34 -> 1.35, one minor per update, then prod through promote, one step at a time.
// Each step is the plan the PR previews (what runs before it -> the pin after it), held here.
import { describe, expect, it } from "vitest";
import { mockAddonVersion } from "../tools/offline/mocks";
import { ProgramFailed, type Plan } from "../tools/offline/plan-result";
import { historyOutputs } from "../tools/offline/plan-inputs";
import { one, plan, stackRef } from "./helpers/plan";

const CW = "amazon-cloudwatch-observability";
const ZENML = { staging: "0.98.0", prod: "0.97.0" };

/** What a stack reports after running Kubernetes `k8s` (and the add-on's default for it), having run `before`. */
function ran(stack: "staging" | "prod", k8s: string, before: string[] = []) {
  const parts = { kubernetes: k8s, [`addon:${CW}`]: mockAddonVersion(CW, k8s), mysql: "8.4", zenml: ZENML[stack] };
  const history = { kubernetes: before, [`addon:${CW}`]: before.map((v) => mockAddonVersion(CW, v)), zenml: stack === "staging" ? ["0.97.0"] : [] };
  return { [stackRef(stack)]: historyOutputs(parts, history, stack) };
}

const pins = (stack: "staging" | "prod", k8s: string) => ({ kubernetesVersion: k8s, zenmlVersion: ZENML[stack], dbEngineVersion: "8.4" });
const moves = (p: Plan) => (p.upgradeReport as { parts: { part: string; deployed: string; desired: string; move: string }[] }).parts.filter((e) => e.move !== "unchanged").map((e) => `${e.part} ${e.deployed} -> ${e.desired} ${e.move}`);

/** One step: the stack's plan from what it runs to its new pin; the cluster moves, the add-on follows it, nothing else. */
async function step(stack: "staging" | "prod", from: string, to: string, world: Record<string, unknown>) {
  const p = await plan(stack, { overrides: pins(stack, to), deployed: world as never });
  expect(moves(p)).toEqual([`kubernetes ${from} -> ${to} upgrade`, `addon:${CW} ${mockAddonVersion(CW, from)} -> ${mockAddonVersion(CW, to)} upgrade`]);
  const cluster = one(p, "eks:index:Cluster");
  expect(cluster.inputs).toMatchObject({ name: `zenml-${stack}`, version: to, upgradePolicy: { supportType: "STANDARD" } });
  expect(one(p, "aws:eks/addon:Addon").options.dependsOn).toContain(cluster.urn);
  expect(p.resources.filter((r) => r.type === "aws:rds/snapshot:Snapshot"), "Kubernetes takes no database snapshot").toEqual([]);
  return p;
}

describe("the stacks' path off Kubernetes 1.33", () => {
  it("1. staging 1.33 -> 1.34 (npm run bump -- --stack staging --part kubernetes --version 1.34); prod's preview shows nothing", async () => {
    await step("staging", "1.33", "1.34", { ...ran("staging", "1.33"), ...ran("prod", "1.33") });
    const prod = await plan("prod", { overrides: pins("prod", "1.33"), deployed: { ...ran("staging", "1.34", ["1.33"]), ...ran("prod", "1.33") } });
    expect(moves(prod)).toEqual([]);
  });

  it("2. staging 1.34 -> 1.35 (the next minor, once 1.34 deployed green)", async () => {
    await step("staging", "1.34", "1.35", { ...ran("staging", "1.34", ["1.33"]), ...ran("prod", "1.33") });
  });

  it("3. prod 1.33 -> 1.34 (npm run promote -- --part kubernetes: the step staging performed), while 1.33 -> 1.35 at once is refused", async () => {
    const world = { ...ran("staging", "1.35", ["1.33", "1.34"]), ...ran("prod", "1.33") };
    await step("prod", "1.33", "1.34", world);
    const err = await plan("prod", { overrides: pins("prod", "1.35"), deployed: world }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProgramFailed);
    expect((err as Error).message).toMatch(/kubernetesVersion 1\.33 -> 1\.35 for kubernetes is refused: EKS upgrades one minor version per update: go 1\.33 -> 1\.34 first/);
  });

  it("4. prod 1.34 -> 1.35 (promote again); staging's preview shows nothing", async () => {
    const world = { ...ran("staging", "1.35", ["1.33", "1.34"]), ...ran("prod", "1.34", ["1.33"]) };
    const p = await step("prod", "1.34", "1.35", world);
    expect(p.outputs.versionHistory).toMatchObject({ parts: { kubernetes: { deployed: "1.35", versions: ["1.33", "1.34", "1.35"] } } });
    expect(moves(await plan("staging", { overrides: pins("staging", "1.35"), deployed: world }))).toEqual([]);
  });

  it("the issue's starting point: a cluster EKS moved to 1.35 by itself while the files said 1.33 is refused with the fix, and the fix records AWS's move", async () => {
    const world = { ...ran("staging", "1.33"), ...ran("prod", "1.33") };
    const err = await plan("staging", { overrides: pins("staging", "1.33"), deployed: world, live: { kubernetes: "1.35", [`addon:${CW}`]: mockAddonVersion(CW, "1.33") } }).catch((e: unknown) => e);
    expect((err as ProgramFailed).message).toMatch(/^Stack "staging": kubernetesVersion "1\.33" is below the Kubernetes 1\.35 that AWS runs now .*Fix: npm run bump -- --stack staging --part kubernetes --version 1\.35$/m);
    expect((err as ProgramFailed).registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
    const fixed = await plan("staging", { overrides: pins("staging", "1.35"), deployed: world, live: { kubernetes: "1.35", [`addon:${CW}`]: mockAddonVersion(CW, "1.33") } });
    expect(moves(fixed)).toEqual([`addon:${CW} ${mockAddonVersion(CW, "1.33")} -> ${mockAddonVersion(CW, "1.35")} upgrade`]);
    expect(fixed.outputs.versionHistory).toMatchObject({ parts: { kubernetes: { deployed: "1.35", versions: ["1.33", "1.35"], awsMoves: [{ from: "1.33", to: "1.35" }] } } });
  });
});
