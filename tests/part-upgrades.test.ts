// Every versioned part (Kubernetes, MySQL, EKS add-ons) under the same discipline as ZenML, planned
// with the real program under mocks: each refusal and each accepted move, per stack.
import { describe, expect, it } from "vitest";
import { calendarStaleness, eksSupportWarning, inStandardSupport } from "../components/support-calendar";
import { mockAddonVersion } from "../tools/offline/mocks";
import { ProgramFailed, type Plan } from "../tools/offline/plan-result";
import { deployedOutputs } from "../tools/offline/plan-inputs";
import { readStackConfig } from "../tools/offline/stack-files";
import { PROJECT_DIR, STACKS, at, named, ofType, one, plan, stackRef } from "./helpers/plan";

const RDS = "aws:rds/instance:Instance";
const SNAPSHOT = "aws:rds/snapshot:Snapshot";
const PARAMS = "aws:rds/parameterGroup:ParameterGroup";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const ADDON = "aws:eks/addon:Addon";
const CW = "amazon-cloudwatch-observability";
const CW_PART = `addon:${CW}`;

/** What a stack reports after running these part versions (every part given, history = only these). */
function runs(stack: string, parts: { zenml: string; kubernetes: string; mysql: string; addon?: string }, history: Record<string, string[]> = {}) {
  const { addon, ...rest } = parts;
  return { [stackRef(stack)]: deployedOutputs({ ...rest, [CW_PART]: addon ?? mockAddonVersion(CW, parts.kubernetes) }, history) };
}

/** The repo's own pins of a stack (these tests start from what the files say today). */
const pinOf = (stack: string, key: string) => readStackConfig(PROJECT_DIR, stack).values[`zenml-platform:${key}`];
const k8sPin = (stack: string) => pinOf(stack, "kubernetesVersion");
const minorsFrom = (version: string, n: number) => `1.${Number(version.split(".")[1]) + n}`;
const PIN = { mysql: "8.4" };
const zenmlPin = (stack: string) => pinOf(stack, "zenmlVersion");
/** Staging has run everything prod might take in these tests. */
const stagingRanAll = runs("staging", { zenml: "0.98.0", kubernetes: "1.35", mysql: "8.4" }, { zenml: ["0.97.0"], kubernetes: ["1.33", "1.34"], mysql: ["8.0"], [CW_PART]: [mockAddonVersion(CW, "1.33"), mockAddonVersion(CW, "1.34")] });

async function failure(promise: Promise<unknown>): Promise<ProgramFailed> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProgramFailed);
  const failed = err as ProgramFailed;
  expect(failed.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference"), "nothing registered before a refusal").toEqual([]);
  return failed;
}

const reportOf = (p: Plan) => (p.upgradeReport as { parts: { part: string; deployed: string | null; desired: string; move: string; effects: string[] }[] }).parts;
const entry = (p: Plan, part: string) => reportOf(p).find((e) => e.part === part)!;

describe.each(STACKS)("Kubernetes on %s", (stack) => {
  const world = (k8s: string) => ({ ...stagingRanAll, ...runs(stack, { zenml: zenmlPin(stack), kubernetes: k8s, mysql: PIN.mysql }) });

  it("accepts one minor: the cluster moves, the add-on follows after the control plane, the report says nodes are replaced", async () => {
    const p = await plan(stack, { overrides: { kubernetesVersion: "1.34" }, deployed: world("1.33") });
    expect(one(p, "eks:index:Cluster").inputs.version).toBe("1.34");
    const addon = one(p, ADDON);
    expect(addon.inputs.addonVersion).toBe(mockAddonVersion(CW, "1.34"));
    expect(addon.options.dependsOn).toContain(one(p, "eks:index:Cluster").urn);
    expect(entry(p, "kubernetes")).toMatchObject({ deployed: "1.33", desired: "1.34", move: "upgrade" });
    expect(entry(p, "kubernetes").effects.join()).toMatch(/replaces every node/);
    expect(entry(p, CW_PART)).toMatchObject({ move: "upgrade" });
    expect(p.outputs.partVersions).toMatchObject({ kubernetes: "1.34", [CW_PART]: mockAddonVersion(CW, "1.34") });
    expect(p.outputs.versionHistory).toMatchObject({ parts: { kubernetes: { deployed: "1.34", versions: ["1.33", "1.34"] } } });
    expect(ofType(p, SNAPSHOT)).toHaveLength(0);
  });

  it("refuses a jump of two minors, naming the step to take first", async () => {
    const err = await failure(plan(stack, { overrides: { kubernetesVersion: "1.35" }, deployed: world("1.33") }));
    expect(err.message).toMatch(/^Stack "\w+": kubernetesVersion 1\.33 -> 1\.35 for kubernetes is refused: EKS upgrades one minor version per update: go 1\.33 -> 1\.34 first/);
    expect(err.message).toMatch(/kubernetes +1\.33 -> 1\.35 +REFUSED/);
  });

  it("refuses a lower version, naming the key and the deployed version", async () => {
    const err = await failure(plan(stack, { overrides: { kubernetesVersion: "1.32" }, deployed: world("1.33") }));
    expect(err.message).toMatch(/kubernetesVersion "1\.32" is lower than the deployed "1\.33": EKS cannot downgrade/);
  });

  it("records the version of a stack an older program deployed, with a warning, and checks the next change", async () => {
    const legacy = { ...stagingRanAll, [stackRef(stack)]: { zenmlVersion: zenmlPin(stack), zenmlVersionHistory: [zenmlPin(stack)] } };
    const p = await plan(stack, { deployed: legacy });
    expect(entry(p, "kubernetes")).toMatchObject({ deployed: null, move: "first-record" });
    expect(p.warnings.join("\n")).toMatch(/no kubernetes version was recorded by the last update/);
    expect(p.outputs.partVersions).toMatchObject({ kubernetes: k8sPin(stack), mysql: "8.4" });
  });
});

describe("Kubernetes standard support", () => {
  it.each(STACKS)("%s's file pins a version inside EKS standard support today (the calendar says so, and it is not stale)", (stack) => {
    expect(calendarStaleness(new Date())).toBeUndefined();
    expect(inStandardSupport(k8sPin(stack), new Date()), `${stack} pins Kubernetes ${k8sPin(stack)}: ${eksSupportWarning(stack, k8sPin(stack), new Date())}`).toBe(true);
  });

  it("a plan pinned past support warns with the dates, the source and the path one minor at a time", async () => {
    // 1.33 left standard support on 2026-07-29 and 1.34 on 2026-12-02 (AWS calendar); the plans run after that.
    const p = await plan("staging", { overrides: { kubernetesVersion: "1.33" }, deployed: runs("staging", { zenml: zenmlPin("staging"), kubernetes: "1.33", mysql: "8.4" }) });
    expect(p.warnings.join("\n")).toMatch(/Kubernetes 1\.33 left EKS standard support on 2026-07-29.*So did 1\.34 \(2026-12-02\)\. Upgrade one minor per update, staging first: 1\.33 -> 1\.34 -> 1\.35.*Next step: kubernetesVersion "1\.34".*Amazon EKS Kubernetes release calendar/);
  });
});

describe.each(STACKS)("MySQL on %s", (stack) => {
  const world = (mysql: string) => ({ ...stagingRanAll, ...runs(stack, { zenml: zenmlPin(stack), kubernetes: k8sPin(stack), mysql }) });

  it("8.0 -> 8.4: retained snapshot first, new-family parameter group before the switch, allowMajorVersionUpgrade, maintenance window", async () => {
    const p = await plan(stack, { deployed: world("8.0") });
    const snapshot = one(p, SNAPSHOT);
    expect(snapshot.inputs).toMatchObject({ dbSnapshotIdentifier: `zenml-${stack}-pre-mysql-upgrade-8-0-to-8-4`, dbInstanceIdentifier: `zenml-${stack}` });
    expect(snapshot.options.retainOnDelete).toBe(true);
    const groups = ofType(p, PARAMS);
    expect(groups.map((g) => g.inputs.family).sort()).toEqual(["mysql8.0", "mysql8.4"]);
    const oldGroup = groups.find((g) => g.inputs.family === "mysql8.0")!;
    const newGroup = groups.find((g) => g.inputs.family === "mysql8.4")!;
    expect(oldGroup.options.retainOnDelete, "the old group may still be in use until the window").toBe(true);
    const instance = one(p, RDS);
    expect(instance.inputs).toMatchObject({ engineVersion: "8.4", allowMajorVersionUpgrade: true, applyImmediately: false, parameterGroupName: newGroup.name });
    expect(instance.options.dependsOn).toEqual(expect.arrayContaining([snapshot.urn, newGroup.urn]));
    expect(one(p, RELEASE).options.dependsOn).toContain(snapshot.urn);
    expect(entry(p, "mysql")).toMatchObject({ deployed: "8.0", desired: "8.4", move: "upgrade" });
    expect(p.outputs.versionHistory, "ZenML's way back is not a MySQL snapshot").toMatchObject({ parts: { mysql: { snapshots: [`zenml-${stack}-pre-mysql-upgrade-8-0-to-8-4`] }, zenml: { snapshots: [] } } });
  });

  it("applies the major upgrade immediately only when the stack says so", async () => {
    const p = await plan(stack, { overrides: { dbMajorUpgradeApplyImmediately: "true" }, deployed: world("8.0") });
    expect(one(p, RDS).inputs.applyImmediately).toBe(true);
  });

  it("outside a major upgrade: one group of the engine's family, no allowMajorVersionUpgrade, no snapshot", async () => {
    const p = await plan(stack, { deployed: world("8.4") });
    expect(ofType(p, PARAMS).map((g) => [g.name, g.inputs.family])).toEqual([["zenml-database-params-mysql8-4", "mysql8.4"]]);
    expect(one(p, RDS).inputs.allowMajorVersionUpgrade).toBeUndefined();
    expect(one(p, RDS).inputs.applyImmediately).toBe(false);
    expect(ofType(p, SNAPSHOT)).toHaveLength(0);
  });

  it("refuses 8.4 -> 8.0: RDS cannot downgrade a major", async () => {
    const err = await failure(plan(stack, { overrides: { dbEngineVersion: "8.0" }, deployed: world("8.4") }));
    expect(err.message).toMatch(/dbEngineVersion "8\.0" is lower than the deployed "8\.4": RDS cannot downgrade a MySQL major version/);
  });
});

describe("one part per update", () => {
  const pin = k8sPin("staging");
  const behind = minorsFrom(pin, -1);
  const zenml = zenmlPin("staging");

  it("refuses ZenML and Kubernetes together, with the order to do them in", async () => {
    const world = runs("staging", { zenml: "0.97.0", kubernetes: behind, mysql: "8.4" });
    const err = await failure(plan("staging", { overrides: { zenmlVersion: "0.98.0" }, deployed: world }));
    expect(err.message).toMatch(new RegExp(`this update moves 2 parts at once.*1\\. kubernetes ${behind} -> ${pin} \\(kubernetesVersion\\), 2\\. zenml 0\\.97\\.0 -> 0\\.98\\.0 \\(zenmlVersion\\)`));
  });

  it("refuses MySQL and ZenML together, MySQL first", async () => {
    const err = await failure(plan("staging", { overrides: { zenmlVersion: "0.98.0" }, deployed: runs("staging", { zenml: "0.97.0", kubernetes: pin, mysql: "8.0" }) }));
    expect(err.message).toMatch(/1\. mysql 8\.0 -> 8\.4 \(dbEngineVersion\), 2\. zenml 0\.97\.0 -> 0\.98\.0/);
    expect(zenml, "the file's own pin is the one the world runs elsewhere").toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("counts an add-on that AWS moved on its own as a part: with a ZenML upgrade it is refused", async () => {
    const world = runs("staging", { zenml: "0.97.0", kubernetes: pin, mysql: "8.4", addon: "v0.1.0-eksbuild.1" });
    const err = await failure(plan("staging", { overrides: { zenmlVersion: "0.98.0" }, deployed: world }));
    expect(err.message).toMatch(/1\. addon:amazon-cloudwatch-observability v0\.1\.0-eksbuild\.1 -> .*2\. zenml/);
  });
});

describe("EKS add-ons", () => {
  const world = (addon: string) => runs("staging", { zenml: zenmlPin("staging"), kubernetes: k8sPin("staging"), mysql: "8.4", addon });

  it("a pin in eksAddonVersions wins over AWS's default", async () => {
    const p = await plan("staging", { overrides: { eksAddonVersions: JSON.stringify([`${CW}=v9.0.0-eksbuild.2`]) }, deployed: world("v8.0.0-eksbuild.1") });
    expect(one(p, ADDON).inputs.addonVersion).toBe("v9.0.0-eksbuild.2");
  });

  it("refuses a pin below the deployed add-on", async () => {
    const err = await failure(plan("staging", { overrides: { eksAddonVersions: JSON.stringify([`${CW}=v1.0.0-eksbuild.1`]) }, deployed: world("v2.0.0-eksbuild.1") }));
    expect(err.message).toMatch(/eksAddonVersions "v1\.0\.0-eksbuild\.1" for addon:amazon-cloudwatch-observability is lower than the deployed "v2\.0\.0-eksbuild\.1"/);
  });

  it("refuses a malformed pin before anything is read", async () => {
    const err = await failure(plan("staging", { overrides: { eksAddonVersions: JSON.stringify(["amazon-cloudwatch-observability=latest"]) } }));
    expect(err.message).toMatch(/zenml-platform:eksAddonVersions: .*allowed: \[\]/);
  });
});

describe("prod runs no part version staging has not run", () => {
  const prodAt = (k8s: string) => runs("prod", { zenml: "0.97.0", kubernetes: k8s, mysql: "8.4" });
  const stagingAt = (k8s: string, history: string[]) => runs("staging", { zenml: "0.98.0", kubernetes: k8s, mysql: "8.4" }, { zenml: ["0.97.0"], kubernetes: history });

  it("refuses Kubernetes 1.34 on prod before staging ran it", async () => {
    const err = await failure(plan("prod", { overrides: { kubernetesVersion: "1.34" }, deployed: { ...stagingAt("1.33", []), ...prodAt("1.33") } }));
    expect(err.message).toMatch(/kubernetesVersion "1\.34" has not run on organization\/zenml-platform\/staging \(it runs "1\.33"; versions it ran: 1\.33\)/);
  });

  it("accepts it once staging ran it", async () => {
    const p = await plan("prod", { overrides: { kubernetesVersion: "1.34" }, deployed: { ...stagingAt("1.34", ["1.33"]), ...prodAt("1.33") } });
    expect(entry(p, "kubernetes")).toMatchObject({ move: "upgrade" });
  });

  it("accepts an override with a reason, recorded in the outputs, like ZenML's", async () => {
    const reason = "INC-512: AWS forced 1.34 on staging's account first";
    const p = await plan("prod", { overrides: { kubernetesVersion: "1.34", promotionOverrideReason: reason }, deployed: { ...stagingAt("1.33", []), ...prodAt("1.33") } });
    expect(p.outputs.promotionOverrideReason).toBe(reason);
    expect(p.warnings.join("\n")).toMatch(/promotion gate overridden for kubernetes "1\.34".*INC-512/);
  });
});

describe.each(STACKS)("availability objects on %s", (stack) => {
  it("a PodDisruptionBudget, zone spread, a surge-only rollout and a one-node disruption budget", async () => {
    const p = await plan(stack);
    const pdb = one(p, "kubernetes:policy/v1:PodDisruptionBudget");
    expect(pdb.inputs).toMatchObject({ metadata: { name: "zenml-server", namespace: "zenml" }, spec: { minAvailable: stack === "prod" ? 1 : 0, selector: { matchLabels: { "app.kubernetes.io/name": "zenml", "app.kubernetes.io/instance": "zenml" } } } });
    const patch = one(p, "kubernetes:apps/v1:DeploymentPatch");
    expect(patch.inputs).toMatchObject({ metadata: { name: "zenml", namespace: "zenml" }, spec: { strategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } } });
    expect(patch.options.dependsOn).toContain(one(p, RELEASE).urn);
    const spread = at(patch.inputs, "spec.template.spec.topologySpreadConstraints") as { topologyKey: string; whenUnsatisfiable: string }[];
    expect(spread.find((c) => c.topologyKey === "topology.kubernetes.io/zone")).toMatchObject({ whenUnsatisfiable: "DoNotSchedule" });
    expect(at(named(p, "zenml-cluster-node-pool").inputs, "spec.disruption.budgets")).toEqual([{ nodes: "1" }]);
  });
});
