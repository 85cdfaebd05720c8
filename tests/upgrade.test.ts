import { describe, expect, it } from "vitest";
import { ProgramFailed, type Plan } from "../tools/offline/plan-result";
import { STACKS, ofType, one, plan, stackRef } from "./helpers/plan";

const SNAPSHOT = "aws:rds/snapshot:Snapshot";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const RDS = "aws:rds/instance:Instance";

/** Simulates what each stack reports as deployed. */
function deployed(stack: string, version: string, extra: Record<string, unknown> = {}) {
  return { [stackRef(stack)]: { zenmlVersion: version, zenmlVersionHistory: [version], ...extra } };
}

/** A world where staging already ran 0.98.0, so prod may take it. */
const stagingRan = { [stackRef("staging")]: { zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.96.0", "0.97.0", "0.98.0"] } };

function upgradePlan(stack: string): Promise<Plan> {
  return plan(stack, { overrides: { zenmlVersion: "0.98.0" }, deployed: { ...stagingRan, ...deployed(stack, "0.97.0") } });
}

/** What the stack records about ZenML after this update (the versionHistory output). */
const zenmlRecord = (p: Plan) => (p.outputs.versionHistory as { parts: Record<string, { deployed?: string; versions: string[]; snapshots: string[] }> }).parts.zenml;
/** ZenML's line of the upgrade report. */
const zenmlMove = (p: Plan) => (p.outputs.upgradeReport as { parts: { part: string; move: string; deployed: string | null; desired: string }[] }).parts.find((e) => e.part === "zenml");

async function failure(promise: Promise<unknown>): Promise<ProgramFailed> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProgramFailed);
  return err as ProgramFailed;
}

describe.each(STACKS)("upgrades on %s", (stack) => {
  it("0.97.0 -> 0.98.0 snapshots the database first and the Helm release waits for it", async () => {
    const p = await upgradePlan(stack);
    const snapshot = one(p, SNAPSHOT);
    const id = `zenml-${stack}-pre-upgrade-0-97-0-to-0-98-0`;
    expect(snapshot.inputs.dbSnapshotIdentifier).toBe(id);
    expect(snapshot.inputs.dbInstanceIdentifier).toBe(`zenml-${stack}`);
    expect(snapshot.options.retainOnDelete).toBe(true);
    expect(snapshot.options.dependsOn).toContain(one(p, RDS).urn);
    const release = one(p, RELEASE);
    expect(release.options.dependsOn).toContain(snapshot.urn);
    expect(release.inputs.version).toBe("0.98.0");
    expect(zenmlRecord(p)).toEqual({ deployed: "0.98.0", versions: ["0.97.0", "0.98.0"], snapshots: [id], awsMoves: [] });
    expect(zenmlMove(p)).toMatchObject({ move: "upgrade", deployed: "0.97.0", desired: "0.98.0" });
    expect(p.outputs.zenmlVersion, "the view the deploy workflows read").toBe("0.98.0");
  });

  it("an unchanged pin takes no snapshot and keeps reporting the last one", async () => {
    const last = `zenml-${stack}-pre-upgrade-0-96-0-to-0-97-0`;
    const p = await plan(stack, { overrides: { zenmlVersion: "0.97.0" }, deployed: { ...stagingRan, ...deployed(stack, "0.97.0", { latestPreUpgradeSnapshot: last }) } });
    expect(ofType(p, SNAPSHOT)).toHaveLength(0);
    expect(zenmlMove(p)).toMatchObject({ move: "unchanged" });
    expect(zenmlRecord(p).snapshots.at(-1)).toBe(last);
  });

  it("the first deploy takes no snapshot (there is no database yet)", async () => {
    const p = await plan(stack, { overrides: { zenmlVersion: "0.98.0" }, deployed: { ...stagingRan, [stackRef(stack)]: null } });
    expect(ofType(p, SNAPSHOT)).toHaveLength(0);
    expect(zenmlMove(p)).toMatchObject({ move: "first-deploy", desired: "0.98.0" });
  });

  it("a downgrade fails with the documented message, before any resource", async () => {
    const err = await failure(plan(stack, { overrides: { zenmlVersion: "0.97.0" }, deployed: { ...stagingRan, ...deployed(stack, "0.98.0") } }));
    expect(err.message).toMatch(/zenmlVersion "0\.97\.0" is lower than the deployed "0\.98\.0": ZenML cannot downgrade/);
    expect(err.message).toMatch(/docs\/UPGRADING\.md/);
    expect(err.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  it("a jump over minor releases is allowed with a warning that lists them", async () => {
    const p = await plan(stack, { overrides: { zenmlVersion: "0.98.0" }, deployed: { ...stagingRan, ...deployed(stack, "0.95.1") } });
    expect(p.warnings.join("\n")).toMatch(/jumps over 2 minor release\(s\) \(0\.96, 0\.97\)/);
    expect(one(p, SNAPSHOT).inputs.dbSnapshotIdentifier).toBe(`zenml-${stack}-pre-upgrade-0-95-1-to-0-98-0`);
  });

  it("an upgrade never changes a property that would replace the database or the bucket", async () => {
    const before = await plan(stack, { overrides: { zenmlVersion: "0.97.0" }, deployed: { ...stagingRan, ...deployed(stack, "0.97.0") } });
    const after = await upgradePlan(stack);
    // Changing any of these makes the AWS provider replace the resource.
    const forcesReplacement: Record<string, string[]> = {
      [RDS]: ["identifier", "engine", "dbName", "username", "storageEncrypted", "kmsKeyId", "snapshotIdentifier", "availabilityZone", "dbSubnetGroupName"],
      "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "forceDestroy"],
      "aws:ecr/repository:Repository": ["name", "encryptionConfigurations"],
    };
    for (const [type, keys] of Object.entries(forcesReplacement)) {
      // Every resource of the type (the pipeline registry and the image cache are both ECR repositories).
      const all = ofType(before, type);
      expect(all.length, type).toBeGreaterThan(0);
      for (const a of all) {
        const b = ofType(after, type).find((r) => r.urn === a.urn);
        expect(b, a.urn).toBeDefined();
        for (const key of keys) expect(b!.inputs[key], `${a.name}.${key}`).toEqual(a.inputs[key]);
      }
    }
  });
});

describe("promotion gate", () => {
  it("refuses a prod pin staging has not run", async () => {
    const err = await failure(plan("prod", { overrides: { zenmlVersion: "0.99.0" }, deployed: { ...stagingRan, ...deployed("prod", "0.97.0") } }));
    expect(err.message).toMatch(/zenmlVersion "0\.99\.0" has not run on organization\/zenml-platform\/staging \(it runs "0\.98\.0"/);
    expect(err.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  it("accepts an override with a reason and records it in the outputs", async () => {
    const reason = "CVE-2026-4242: security fix, staging cluster unavailable";
    const p = await plan("prod", { overrides: { zenmlVersion: "0.99.0", promotionOverrideReason: reason }, deployed: { ...stagingRan, ...deployed("prod", "0.98.0") } });
    expect(p.outputs.promotionOverrideReason).toBe(reason);
    expect(p.warnings.join()).toContain(reason);
    expect(one(p, RELEASE).inputs.version).toBe("0.99.0");
    expect(one(p, SNAPSHOT).inputs.dbSnapshotIdentifier).toBe("zenml-prod-pre-upgrade-0-98-0-to-0-99-0");
  });

  it("staging is not gated by anything", async () => {
    const p = await plan("staging", { overrides: { zenmlVersion: "0.99.0" }, deployed: deployed("staging", "0.98.0") });
    expect(p.outputs.promotionOverrideReason).toBeNull();
    expect(ofType(p, "pulumi:pulumi:StackReference").map((r) => r.name)).toEqual(["deployed-state"]);
  });
});

describe.each(STACKS)("rollback on %s", (stack) => {
  const snapshot = `zenml-${stack}-pre-upgrade-0-97-0-to-0-98-0`;
  const rollbackWorld = { ...stagingRan, ...deployed(stack, "0.98.0") };

  it("restores the snapshot into a new database the server uses, keeping the upgraded one", async () => {
    const p = await plan(stack, { overrides: { zenmlVersion: "0.97.0", rollbackSnapshot: snapshot }, deployed: rollbackWorld });
    const instances = ofType(p, RDS);
    expect(instances.map((i) => i.inputs.identifier).sort()).toEqual([`zenml-${stack}`, `zenml-${stack}-restored-0-97-0`]);
    const restored = instances.find((i) => i.inputs.snapshotIdentifier === snapshot)!;
    expect(restored.inputs).toMatchObject({ storageEncrypted: true, publiclyAccessible: false, deletionProtection: stack === "prod" });
    expect(restored.options.protect).toBe(stack === "prod");
    const original = instances.find((i) => i.inputs.identifier === `zenml-${stack}`)!;
    expect(original.inputs.snapshotIdentifier).toBeUndefined();
    const release = one(p, RELEASE);
    expect(release.inputs.version).toBe("0.97.0");
    expect(String((release.inputs.values as { zenml: { database: { url: string } } }).zenml.database.url)).toContain(`@zenml-${stack}-restored-0-97-0.`);
    expect(ofType(p, SNAPSHOT)).toHaveLength(0);
    expect(p.outputs).toMatchObject({ activeDatabaseInstanceIdentifier: `zenml-${stack}-restored-0-97-0`, databaseInstanceIdentifier: `zenml-${stack}`, versionHistory: { rollbackSnapshot: snapshot } });
  });

  it("upgrading again after a rollback snapshots the restored database under a fresh name", async () => {
    const after = { ...stagingRan, ...deployed(stack, "0.97.0", { rollbackSnapshot: snapshot, preUpgradeSnapshots: [snapshot], latestPreUpgradeSnapshot: snapshot }) };
    const p = await plan(stack, { overrides: { zenmlVersion: "0.98.0", rollbackSnapshot: snapshot }, deployed: after });
    const taken = one(p, SNAPSHOT);
    expect(taken.inputs.dbSnapshotIdentifier).toBe(`${snapshot}-attempt-2`);
    expect(taken.inputs.dbInstanceIdentifier).toBe(`zenml-${stack}-restored-0-97-0`);
    expect(one(p, RELEASE).options.dependsOn).toContain(taken.urn);
    expect(zenmlRecord(p).snapshots).toEqual([snapshot, `${snapshot}-attempt-2`]);
  });

  it("keeps the restored database after the rollback, and refuses to drop the setting", async () => {
    const after = { ...stagingRan, ...deployed(stack, "0.97.0", { rollbackSnapshot: snapshot }) };
    const steady = await plan(stack, { overrides: { zenmlVersion: "0.97.0", rollbackSnapshot: snapshot }, deployed: after });
    expect(steady.outputs.activeDatabaseInstanceIdentifier).toBe(`zenml-${stack}-restored-0-97-0`);
    const err = await failure(plan(stack, { overrides: { zenmlVersion: "0.97.0" }, deployed: after }));
    expect(err.message).toMatch(/runs on the database restored from/);
  });

  it.each([
    ["a snapshot name that is not a pre-upgrade snapshot", { rollbackSnapshot: "rds:zenml-nightly", zenmlVersion: "0.97.0" }, /rollbackSnapshot: "rds:zenml-nightly" is not allowed/],
    ["another stack's snapshot", { rollbackSnapshot: `zenml-${stack === "prod" ? "staging" : "prod"}-pre-upgrade-0-97-0-to-0-98-0`, zenmlVersion: "0.97.0" }, /belongs to stack/],
    ["a pin below the snapshot's from-version", { rollbackSnapshot: snapshot, zenmlVersion: "0.96.0" }, /zenmlVersion must be "0\.97\.0" or later/],
    ["a pin that is not the snapshot's from-version", { rollbackSnapshot: snapshot, zenmlVersion: "0.98.0" }, /must be set back to "0\.97\.0"/],
  ])("refuses %s", async (_what, overrides, message) => {
    const err = await failure(plan(stack, { overrides, deployed: rollbackWorld }));
    expect(err.message).toMatch(message);
    expect(err.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  it("refuses a rollback when nothing newer is deployed", async () => {
    const err = await failure(plan(stack, { overrides: { zenmlVersion: "0.97.0", rollbackSnapshot: snapshot }, deployed: { ...stagingRan, ...deployed(stack, "0.97.0") } }));
    expect(err.message).toMatch(/nothing to roll back/);
  });
});
