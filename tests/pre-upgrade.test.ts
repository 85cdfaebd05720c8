// Before the server moves: inventory -> drain -> snapshot -> restore-test -> release, in every update
// that upgrades ZenML and in no other; the restore-test's reach; the spec's names and documents.
import { describe, expect, it } from "vitest";
import { documentKeys, drainCommand, preUpgradeJobNames, restoreTestIdentifier, restoreTestRdsStatements, upgradeFolder } from "../components/pre-upgrade/pre-upgrade-spec";
import { ProgramFailed, type Plan } from "../tools/offline/plan-result";
import { STACKS, at, named, ofType, one, plan, stackRef } from "./helpers/plan";

const JOB = "kubernetes:batch/v1:Job";
const SNAPSHOT = "aws:rds/snapshot:Snapshot";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const DIGEST = "sha256:" + "ab".repeat(32);
const stagingRan = { [stackRef("staging")]: { zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.96.0", "0.97.0", "0.98.0"], serverImageDigests: { "0.97.0": DIGEST } } };
const ran = (stack: string, version: string, extra: Record<string, unknown> = {}) => ({ [stackRef(stack)]: { zenmlVersion: version, zenmlVersionHistory: [version], ...extra } });

function upgrade(stack: string, overrides: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<Plan> {
  return plan(stack, { overrides: { zenmlVersion: "0.98.0", ...overrides }, deployed: { ...stagingRan, ...ran(stack, "0.97.0", extra) } });
}

const preUpgradeJobs = (p: Plan) => ofType(p, JOB).filter((j) => /^zenml-(inventory|drain|restore-test)-/.test(String(at(j.inputs, "metadata.name"))));
const container = (job: { inputs: Record<string, unknown> }) => (at(job.inputs, "spec.template.spec.containers") as Record<string, unknown>[])[0];

describe.each(STACKS)("a ZenML upgrade of %s", (stack) => {
  it("plans inventory -> drain -> snapshot -> restore-test -> release, each waiting for the one before", async () => {
    const p = await upgrade(stack);
    const inventory = named(p, "zenml-pre-upgrade-inventory");
    const drain = named(p, "zenml-pre-upgrade-drain");
    const snapshot = one(p, SNAPSHOT);
    const restoreTest = named(p, "zenml-restore-test-job");
    const release = one(p, RELEASE);
    expect(drain.options.dependsOn).toContain(inventory.urn);
    expect(snapshot.options.dependsOn).toContain(drain.urn);
    expect(restoreTest.options.dependsOn).toContain(snapshot.urn);
    expect(release.options.dependsOn).toEqual(expect.arrayContaining([snapshot.urn, restoreTest.urn]));
    // Registered before anything that comes after them in the upgrade.
    const index = (urn: string) => p.resources.findIndex((r) => r.urn === urn);
    expect([inventory, drain, snapshot, restoreTest, release].map((r) => index(r.urn))).toEqual([...[inventory, drain, snapshot, restoreTest, release].map((r) => index(r.urn))].sort((a, b) => a - b));
  });

  it("runs FROM's client, with the image digest FROM ran, and writes to the upgrade's folder", async () => {
    const p = await upgrade(stack, {}, { serverImageDigests: { "0.97.0": DIGEST } });
    for (const job of preUpgradeJobs(p)) expect(String(container(job).image)).toMatch(new RegExp(`/zenmldocker/zenml-server:0\\.97\\.0@${DIGEST}$`));
    const command = container(named(p, "zenml-pre-upgrade-inventory")).command as string[];
    expect(command.slice(1)).toEqual(expect.arrayContaining(["--from-version", "0.97.0", "--to-version", "0.98.0"]));
    expect(command.at(-1)).toMatch(new RegExp(`^s3://[^/]+/upgrades/${stack}/0\\.97\\.0-0\\.98\\.0/inventory\\.json$`));
    expect(p.outputs.preUpgrade).toMatchObject({ from: "0.97.0", to: "0.98.0", inventory: command.at(-1), drainOverrideReason: null });
  });

  it("the drain waits upgradeDrainMinutes, refuses after (no retry), and an override reason is a new Job that records it", async () => {
    const p = await upgrade(stack, { upgradeDrainMinutes: "45" });
    const drain = named(p, "zenml-pre-upgrade-drain");
    expect(container(drain).command).toEqual(expect.arrayContaining(["--wait-minutes", "45", "--guard-minutes", "15"]));
    expect(container(drain).command).not.toContain("--override-reason");
    expect(at(drain.inputs, "spec.backoffLimit")).toBe(0);
    expect(at(drain.inputs, "metadata.annotations")).toEqual({ "pulumi.com/replaceUnready": "true" });
    const overridden = await upgrade(stack, { upgradeDrainMinutes: "45", upgradeDrainOverrideReason: "INC-1234: the server must move tonight" });
    const again = named(overridden, "zenml-pre-upgrade-drain");
    expect(container(again).command).toEqual(expect.arrayContaining(["--override-reason", "INC-1234: the server must move tonight"]));
    expect(at(again.inputs, "metadata.name")).not.toBe(at(drain.inputs, "metadata.name"));
    expect(overridden.outputs.preUpgrade).toMatchObject({ drainOverrideReason: "INC-1234: the server must move tonight" });
  });

  it("the restore-test can touch its own copy only, and never holds a password of the live database", async () => {
    const p = await upgrade(stack);
    const policy = JSON.parse(String(named(p, "zenml-restore-test-policy").inputs.policy)) as { Statement: { Action: string[]; Resource: string | string[] }[] };
    const rdsResources = policy.Statement.filter((s) => s.Action.some((a) => a.startsWith("rds:"))).flatMap((s) => [s.Resource].flat());
    const matches = (pattern: string, arn: string) => new RegExp(`^${pattern.split("*").map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(arn);
    const live = String(one(p, "aws:rds/instance:Instance").inputs.identifier);
    expect(new Set(rdsResources.filter((r) => r.includes(":db:")))).toEqual(new Set([`arn:aws:rds:eu-west-1:123456789012:db:${restoreTestIdentifier(stack)}`]));
    expect(rdsResources.some((r) => matches(r, `arn:aws:rds:eu-west-1:123456789012:db:${live}`))).toBe(false);
    const job = named(p, "zenml-restore-test-job");
    expect(JSON.stringify(container(job).env)).not.toMatch(/zenml-db-password|ZENML_STORE|secretKeyRef/);
    expect(container(job).command).toEqual(expect.arrayContaining(["--snapshot", `zenml-${stack}-pre-upgrade-0-97-0-to-0-98-0`, "--instance", `zenml-${stack}-restore-test`]));
    const egress = named(p, "zenml-restore-test-database-egress");
    expect(at(egress.inputs, "spec.podSelector.matchLabels")).toEqual(at(job.inputs, "spec.template.metadata.labels"));
  });

  it("without the restore-test (prod may choose), the release waits for the snapshot, which waits for the drain", async () => {
    if (stack === "staging") {
      const err = await upgrade(stack, { restoreTestBeforeUpgrade: "false" }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ProgramFailed);
      expect((err as Error).message).toMatch(/zenml-platform:restoreTestBeforeUpgrade: staging proves every pre-upgrade snapshot restorable before the server moves \(allowed: true or false \(staging: true\)\)/);
      expect((err as ProgramFailed).registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
      return;
    }
    const p = await upgrade(stack, { restoreTestBeforeUpgrade: "false" });
    expect(p.resources.filter((r) => r.name.startsWith("zenml-restore-test"))).toEqual([]);
    expect(one(p, RELEASE).options.dependsOn).toContain(one(p, SNAPSHOT).urn);
    expect(one(p, SNAPSHOT).options.dependsOn).toContain(named(p, "zenml-pre-upgrade-drain").urn);
    expect(p.outputs.preUpgrade).toMatchObject({ restoreTest: null, jobs: { restoreTest: null } });
  });

  it("the Helm release allows maxMigrationMinutes plus 10 for the migration hook and the rollout", async () => {
    expect(one(await upgrade(stack, { maxMigrationMinutes: "45" }), RELEASE).inputs.timeout).toBe(55 * 60);
  });
});

describe("updates that do not upgrade ZenML run none of it", () => {
  it.each([
    ["steady", () => plan("staging")],
    ["first deploy", () => plan("staging", { deployed: { [stackRef("staging")]: null } })],
    ["rollback", () => plan("staging", { overrides: { zenmlVersion: "0.97.0", rollbackSnapshot: "zenml-staging-pre-upgrade-0-97-0-to-0-98-0" }, deployed: ran("staging", "0.98.0", { zenmlVersionHistory: ["0.97.0", "0.98.0"] }) })],
  ])("%s", async (_, planned) => {
    const p = await planned();
    expect(preUpgradeJobs(p)).toEqual([]);
    expect(p.resources.filter((r) => /PreUpgrade|RestoreTest/.test(r.type))).toEqual([]);
    expect(p.outputs.preUpgrade).toBeUndefined();
  });
});

describe("the pre-upgrade spec", () => {
  const move = { stack: "prod", from: "0.97.0", to: "0.98.0" };

  it("keeps one folder per upgrade, a document each", () => {
    expect(upgradeFolder(move)).toBe("upgrades/prod/0.97.0-0.98.0");
    expect(documentKeys(move)).toEqual({ inventory: "upgrades/prod/0.97.0-0.98.0/inventory.json", drain: "upgrades/prod/0.97.0-0.98.0/drain.json", restoreTest: "upgrades/prod/0.97.0-0.98.0/restore-test.json" });
  });

  it("names the Jobs by what they run with: a changed script, image or drain setting runs them again", () => {
    const base = preUpgradeJobNames(move, "0.97.0", { waitMinutes: 30, overrideReason: "" }, ["a"]);
    expect(base.drain).toMatch(/^zenml-drain-[0-9a-f]{10}$/);
    expect(preUpgradeJobNames(move, "0.97.0", { waitMinutes: 30, overrideReason: "" }, ["a"])).toEqual(base);
    for (const other of [
      preUpgradeJobNames(move, "0.97.0", { waitMinutes: 30, overrideReason: "INC-1: now" }, ["a"]),
      preUpgradeJobNames(move, "0.97.0", { waitMinutes: 31, overrideReason: "" }, ["a"]),
      preUpgradeJobNames(move, `0.97.0@${DIGEST}`, { waitMinutes: 30, overrideReason: "" }, ["a"]),
      preUpgradeJobNames(move, "0.97.0", { waitMinutes: 30, overrideReason: "" }, ["b"]),
      preUpgradeJobNames({ ...move, to: "0.99.0" }, "0.97.0", { waitMinutes: 30, overrideReason: "" }, ["a"]),
    ])
      expect(other.drain).not.toBe(base.drain);
  });

  it("passes the override reason only when there is one", () => {
    expect(drainCommand(move, "b", { waitMinutes: 0, overrideReason: "  " })).not.toContain("--override-reason");
    expect(drainCommand(move, "b", { waitMinutes: 0, overrideReason: " INC-9 why " })).toEqual(expect.arrayContaining(["--override-reason", "INC-9 why"]));
  });

  it("lets the restore-test restore only this stack's pre-upgrade snapshots", () => {
    const [restore, own] = restoreTestRdsStatements({ partition: "aws", region: "eu-west-1", account: "1", stack: "prod", engineVersion: "8.4", subnetGroupName: "g", parameterGroupName: "p" }) as { Resource: string | string[] }[];
    expect(restore.Resource).toContain("arn:aws:rds:eu-west-1:1:snapshot:zenml-prod-pre-upgrade-*");
    expect(restore.Resource).toContain("arn:aws:rds:eu-west-1:1:og:default:mysql-8-4");
    expect(own.Resource).toBe("arn:aws:rds:eu-west-1:1:db:zenml-prod-restore-test");
  });
});
