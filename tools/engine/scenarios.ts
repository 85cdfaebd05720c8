// The upgrade flow under Pulumi's own engine: each scenario is one or more `pulumi up`/`preview`/
// `destroy` on the shared backend, in the order the story needs (staging first, prod after).
import * as fs from "node:fs";
import { readHistory } from "../../components/part-history";
import { PARTS } from "../../components/parts";
import { defineStack } from "../../components/stack";
import type { PartReportEntry } from "../../components/version-policy";
import { Checks, Story, mlflowConfig, type ScenarioResult, type StackName } from "./story";
import { STATEFUL_TYPES, effectiveSteps, firstLines, isStateful, span, statefulLosses, summarize } from "./steps";
import type { Outcome, Step } from "./world";

const byName = (name: string) => (s: Step) => s.name === name || s.name.endsWith(`-${name}`);
const ofType = (type: string) => (s: Step) => s.type === type;

/**
 * The resources the stack manages as the state holds them, comparable across updates. Reads
 * (StackReferences) are left out: the engine reads them again on every run, refused or not.
 */
async function stateOf(story: Story, stack: StackName): Promise<string> {
  const resources = (await story.world.resources(stack)).filter((r) => r.type !== "pulumi:pulumi:StackReference");
  return JSON.stringify(resources.map((r) => ({ urn: r.urn, inputs: r.inputs, outputs: r.outputs, protect: r.protect })));
}

/** A secret as `pulumi stack export --show-secrets` shows it, in plain text; undefined when the value is not secret. */
function secretText(value: unknown): string | undefined {
  const v = value as Record<string, unknown> | undefined;
  if (v?.["4dabf18193072939515e22adb298388d"] !== "1b47061264138c4ac30d75fd1eb44270" || typeof v.plaintext !== "string") return undefined;
  return String(JSON.parse(v.plaintext));
}

/** Whether the snapshot of this update finished before the Helm release (or `target`) started changing. */
function snapshotFirst(c: Checks, outcome: Outcome, stack: string, target = "zenml-server-release"): void {
  const snapshot = span(outcome, ofType("aws:rds/snapshot:Snapshot"));
  const release = span(outcome, (s) => s.name === target && s.op !== "same");
  if (c.that(snapshot.finished !== undefined, `${stack}: no snapshot was created`) && c.that(release.started !== undefined, `${stack}: ${target} was not touched`)) {
    c.that(snapshot.finished! < release.started!, `${stack}: ${target} started (event ${release.started}) before the snapshot finished (event ${snapshot.finished})`);
  }
}

/**
 * The last update of `stack` read what AWS runs for every part it can move (cluster, add-on, MySQL)
 * and found what the stack deployed: the plugins answer the live reads with it (tools/engine/world.ts).
 */
function liveMatchesRecord(c: Checks, story: Story, stack: StackName, outcome: Outcome): void {
  const report = story.world.deployedOutputs(stack).upgradeReport as { parts?: PartReportEntry[] } | undefined;
  const readable = (report?.parts ?? []).filter((e) => PARTS[e.part]?.live);
  c.that(readable.length >= 3 && readable.every((e) => e.live !== undefined), `${stack}: the update did not read what AWS runs: ${JSON.stringify(readable)}`);
  for (const e of readable) c.that(e.live === e.deployed && e.awsMove === undefined, `${stack}: AWS runs ${e.part} ${e.live}, not the ${e.deployed} the stack deployed`);
  c.that(!outcome.warnings.some((w) => /could not read/.test(w)), `${stack}: a live read failed: ${outcome.warnings.find((w) => /could not read/.test(w))}`);
}

/**
 * The work before ZenML's server moves, in the engine's order: the inventory and the drain finish
 * before the snapshot starts; the restore-test starts after the snapshot and finishes before the release.
 */
function preUpgradeInOrder(c: Checks, outcome: Outcome, stack: string): void {
  const at = (name: string) => span(outcome, (s) => s.name === name && s.op !== "same");
  const snapshot = span(outcome, ofType("aws:rds/snapshot:Snapshot"));
  const release = at("zenml-server-release");
  const restore = at("zenml-restore-test-job");
  for (const job of ["zenml-pre-upgrade-inventory", "zenml-pre-upgrade-drain"]) {
    const s = at(job);
    if (c.that(s.finished !== undefined, `${stack}: ${job} did not run`)) c.that(s.finished! < snapshot.started!, `${stack}: the snapshot started before ${job} finished`);
  }
  if (c.that(restore.finished !== undefined, `${stack}: the restore-test Job did not run`)) {
    c.that(snapshot.finished! < restore.started! && restore.finished! < release.started!, `${stack}: the restore-test ran outside snapshot -> release (events ${restore.started}-${restore.finished})`);
  }
}

async function firstDeploy(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const staging = c.ran(await story.up("staging", {}, "first deploy"), true);
  const prod = c.ran(await story.up("prod", {}, "first deploy, promoted from staging"), true);
  for (const [stack, outcome] of [["staging", staging], ["prod", prod]] as const) {
    c.that(effectiveSteps(outcome).every((s) => s.op === "create"), `${stack}: a first deploy only creates`);
  }
  // The promotion gate reads staging's versionHistory through this reference.
  const ref = (await story.world.resources("prod")).find((r) => r.type === "pulumi:pulumi:StackReference" && r.urn.endsWith("::promotion-source"));
  const read = readHistory(ref?.outputs?.outputs as Record<string, unknown> | undefined);
  const zenml = read.migrated ? undefined : read.parts.zenml?.deployed;
  c.that(zenml === "0.97.0", `prod's StackReference to staging read ZenML ${JSON.stringify(zenml)} from versionHistory, not staging's "0.97.0"`);
  return c.done("first deploy: staging, then prod reading staging", `staging ${summarize(staging, 0)}; prod ${summarize(prod, 0)}, read staging's versionHistory (ZenML ${zenml})`);
}

/** An update the program must refuse, leaving the stack's state as it was. */
async function refusedUnchanged(story: Story, c: Checks, stack: StackName, change: Record<string, string>, label: string, expected: RegExp): Promise<string> {
  const before = await stateOf(story, stack);
  const outcome = c.ran(await story.up(stack, change, label), false);
  c.that(expected.test(outcome.error ?? ""), `${stack}: the refusal does not say ${expected}: ${firstLines(outcome.error)}`);
  c.that(effectiveSteps(outcome).length === 0, `${stack}: the refused update still stepped: ${summarize(outcome)}`);
  c.that((await stateOf(story, stack)) === before, `${stack}: the state changed although the update was refused`);
  return firstLines(outcome.error, 1);
}

async function prodBeforeStaging(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const why = await refusedUnchanged(story, c, "prod", { zenmlVersion: "0.98.0" }, "0.97.0 -> 0.98.0 before staging ran it", /has not run on organization\/zenml-platform\/staging/);
  return c.done("prod refused before staging ran 0.98.0, state unchanged", why);
}

async function zenmlUpgrade(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const outcome = c.ran(await story.up("staging", { zenmlVersion: "0.98.0" }, "ZenML 0.97.0 -> 0.98.0"), true);
  snapshotFirst(c, outcome, "staging");
  preUpgradeInOrder(c, outcome, "staging");
  c.that(statefulLosses(outcome).length === 0, `staging: the upgrade replaced or deleted ${statefulLosses(outcome).map((s) => s.name).join(", ")}`);
  liveMatchesRecord(c, story, "staging", outcome);
  const zenml = readHistory(story.world.deployedOutputs("staging")).parts.zenml;
  c.that(zenml?.snapshots.includes("zenml-staging-pre-upgrade-0-97-0-to-0-98-0") === true, `staging: versionHistory does not record the pre-upgrade snapshot: ${JSON.stringify(zenml)}`);
  return c.done("ZenML upgrade on staging: inventory, drain, snapshot, restore-test, then the Helm release", summarize(outcome));
}

async function prodAfterStaging(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const outcome = c.ran(await story.up("prod", { zenmlVersion: "0.98.0" }, "0.97.0 -> 0.98.0 after staging"), true);
  snapshotFirst(c, outcome, "prod");
  preUpgradeInOrder(c, outcome, "prod");
  liveMatchesRecord(c, story, "prod", outcome);
  return c.done("prod accepted after staging ran 0.98.0", summarize(outcome));
}

async function downgrade(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  c.ran(await story.up("staging", { zenmlVersion: "0.99.0" }, "ZenML 0.98.0 -> 0.99.0"), true);
  const why = await refusedUnchanged(story, c, "staging", { zenmlVersion: "0.98.0" }, "0.99.0 -> 0.98.0", /lower than the deployed "0\.99\.0"/);
  return c.done("downgrade refused on staging, state unchanged", why);
}

async function partsOneByOne(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const both = await refusedUnchanged(story, c, "staging", { kubernetesVersion: "1.35", dbEngineVersion: "8.4" }, "Kubernetes and MySQL at once", /one part/i);
  const k8s = c.ran(await story.up("staging", { kubernetesVersion: "1.35" }, "Kubernetes 1.34 -> 1.35"), true);
  const cluster = effectiveSteps(k8s).find(ofType("aws:eks/cluster:Cluster"));
  c.that(cluster?.op === "update" && cluster.diffs.includes("version"), `staging: the EKS cluster was not updated in place (${cluster?.op ?? "untouched"})`);
  const mysql = c.ran(await story.up("staging", { dbEngineVersion: "8.4" }, "MySQL 8.0 -> 8.4"), true);
  const db = effectiveSteps(mysql).find((s) => s.type === "aws:rds/instance:Instance");
  c.that(db?.op === "update", `staging: the database was ${db?.op ?? "untouched"}, not updated in place`);
  snapshotFirst(c, mysql, "staging", db?.name ?? "zenml-database-instance");
  c.that(statefulLosses(k8s).length + statefulLosses(mysql).length === 0, "staging: a part upgrade replaced or deleted a stateful resource");
  liveMatchesRecord(c, story, "staging", mysql);
  return c.done("Kubernetes, then MySQL major, one part per update", `both at once refused (${both.slice(0, 90)}...); Kubernetes: ${summarize(k8s, 3)}; MySQL: ${summarize(mysql, 3)}`);
}

async function mlflowOn(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const staging = c.ran(await story.up("staging", mlflowConfig("staging", "3.17.2"), "MLflow 3.17.2 on"), true);
  const prod = c.ran(await story.up("prod", mlflowConfig("prod", "3.17.2"), "MLflow 3.17.2 on, after staging"), true);
  return c.done("MLflow turned on, staging then prod", `staging ${summarize(staging, 0)}; prod ${summarize(prod, 0)}`);
}

async function rollback(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const snapshot = "zenml-staging-pre-upgrade-0-98-0-to-0-99-0";
  const outcome = c.ran(await story.up("staging", { zenmlVersion: "0.98.0", rollbackSnapshot: snapshot }, `rollback onto ${snapshot}`), true);
  const steps = effectiveSteps(outcome);
  const restored = steps.find((s) => s.type === "aws:rds/instance:Instance" && s.op === "create");
  c.that(restored !== undefined, "staging: no database was restored from the snapshot");
  c.that(statefulLosses(outcome).length === 0, `staging: the rollback replaced or deleted ${statefulLosses(outcome).map((s) => s.name).join(", ")}`);
  const release = steps.find(byName("server-release"));
  c.that(release?.op === "update", "staging: the Helm release was not pointed at the restored database");
  if (restored && release) c.that((restored.finished ?? Infinity) < release.started, "staging: the release changed before the restored database existed");
  return c.done("rollback on staging: restored into a new database, nothing deleted", summarize(outcome, 4));
}

/** EKS moves a cluster whose version left standard support (1.34: 2026-12-02) by itself: the program reads it. */
async function awsMovedCluster(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  story.world.awsMoves.set("prod", { kubernetes: "1.35" });
  try {
    const why = await refusedUnchanged(story, c, "prod", {}, "pin 1.34 while AWS runs 1.35", /kubernetesVersion "1\.34" is below the Kubernetes 1\.35 that AWS runs now.*Fix: npm run bump -- --stack prod --part kubernetes --version 1\.35/);
    const outcome = c.ran(await story.up("prod", { kubernetesVersion: "1.35" }, "pin set to the 1.35 AWS runs"), true);
    const record = readHistory(story.world.deployedOutputs("prod")).parts.kubernetes;
    c.that(record?.deployed === "1.35" && record.awsMoves.some((m) => m.from === "1.34" && m.to === "1.35"), `prod: versionHistory does not record the move AWS made: ${JSON.stringify(record)}`);
    c.that(outcome.warnings.some((w) => /recorded as a move AWS made/.test(w)), "prod: no warning says AWS moved the cluster");
    c.that(statefulLosses(outcome).length === 0, `prod: following AWS replaced or deleted ${statefulLosses(outcome).map((s) => s.name).join(", ")}`);
    return c.done("AWS moved prod's cluster: the old pin refused, the new one records the move", `${why.slice(0, 110)}...; then ${summarize(outcome, 3)}`);
  } finally {
    story.world.awsMoves.delete("prod");
  }
}

/** The real engine is no mock: an image we build without a digest in images.lock.yaml stops the program. */
async function builtImageUnlocked(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const outcome = c.ran(await story.preview("staging", {}, "the program as a deploy runs it (no stand-in digests)", {}, async () => defineStack()), false);
  c.that(/images\.lock\.yaml has no digest for .*gh workflow run images\.yml/s.test(outcome.error ?? ""), `the refusal does not name the lock and the workflow: ${firstLines(outcome.error)}`);
  c.that(effectiveSteps(outcome).length === 0, `the refused preview still planned: ${summarize(outcome)}`);
  return c.done("a built image without a locked digest refused under the engine", firstLines(outcome.error, 1));
}

async function wrongType(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const outcome = c.ran(await story.preview("staging", {}, "availabilityZones: \"two\"", { "zenml-platform:availabilityZones": "two" }), false);
  c.that(/availabilityZones/.test(outcome.error ?? "") && /integer/i.test(outcome.error ?? ""), `the error does not name the key and its type: ${firstLines(outcome.error)}`);
  c.that(outcome.steps.length === 0, "the program ran although the config has the wrong type");
  return c.done("wrong-typed config stopped by Pulumi.yaml's schema", firstLines(outcome.error, 1));
}

async function secretsInState(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  let checked = 0;
  for (const stack of ["staging", "prod"] as const) {
    const raw = fs.readFileSync(story.world.stateFile(stack), "utf8");
    const passwords = (await story.world.resources(stack)).filter((r) => r.type === "random:index/randomPassword:RandomPassword");
    c.that(passwords.length > 0, `${stack}: no generated secrets in the state`);
    for (const p of passwords) {
      const name = p.urn.split("::").pop();
      const value = secretText(p.outputs?.result);
      checked++;
      if (!c.that(value !== undefined && value.length >= 16, `${stack}: ${name}'s result is not a secret in the state`)) continue;
      c.that(!raw.includes(value!), `${stack}: ${name} is in the state file in plain text`);
    }
    const admin = secretText((await story.world.resources(stack)).find((r) => r.type === "pulumi:pulumi:Stack")?.outputs?.adminPassword);
    c.that(admin !== undefined && !raw.includes(admin), `${stack}: the adminPassword output is not kept as a secret`);
    c.that(raw.includes("ciphertext"), `${stack}: the state file holds no ciphertext at all`);
  }
  return c.done("no generated secret in plain text in the state files", `${checked} generated secrets, each only as ciphertext`);
}

async function destroyProd(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const before = await story.world.resources("prod");
  const stateful = before.filter((r) => isStateful(r.type));
  for (const r of stateful) {
    c.that(r.protect === true || r.retainOnDelete === true, `prod: ${STATEFUL_TYPES[r.type]} ${r.urn.split("::").pop()} is neither protected nor retained`);
  }
  const outcome = c.ran(await story.destroy("prod", "destroy"), false);
  const after = new Set((await story.world.resources("prod")).map((r) => r.urn));
  const lost = stateful.filter((r) => r.protect === true && !after.has(r.urn));
  c.that(lost.length === 0, `prod: destroy removed protected ${lost.map((r) => r.urn.split("::").pop()).join(", ")}`);
  c.that(/protect/i.test(outcome.error ?? ""), `prod: destroy failed for another reason: ${firstLines(outcome.error)}`);
  const kept = stateful.filter((r) => after.has(r.urn)).length;
  // The engine deletes what nothing protected depends on before it stops: say what went.
  const gone = before.filter((r) => !after.has(r.urn) && r.type !== "pulumi:pulumi:StackReference" && !r.type.startsWith("pulumi:"));
  const release = gone.some((r) => r.type === "kubernetes:helm.sh/v3:Release") ? ", the ZenML Helm release among them" : "";
  return c.done(
    "destroy of prod stopped by protect",
    `${kept} of ${stateful.length} stateful resources kept (${stateful.length - kept} retained snapshots released); ${gone.length} other resources deleted before the engine stopped${release}`,
  );
}

export type Scenario = (story: Story) => Promise<ScenarioResult>;

/** In story order. The guard and the alias check run between rollback and destroy (tools/engine/run.ts). */
export const BEFORE_GUARD: Scenario[] = [firstDeploy, prodBeforeStaging, zenmlUpgrade, prodAfterStaging, downgrade, partsOneByOne, mlflowOn];
export const AFTER_GUARD: Scenario[] = [rollback, awsMovedCluster, builtImageUnlocked, wrongType, secretsInState, destroyProd];
