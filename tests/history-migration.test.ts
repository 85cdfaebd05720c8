// Stacks deployed by the program before versionHistory take this one without a move and without
// losing their history: it reads their older output keys once and writes only versionHistory.
// The starting outputs are the ones that program wrote (tests/fixtures/history, from its golden plans).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { LEGACY_HISTORY_OUTPUTS, readHistory } from "../components/part-history";
import type { Plan } from "../tools/offline/plan";
import { PROJECT_DIR, ofType, plan, stackRef } from "./helpers/plan";

const TODAY = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "tests", "fixtures", "history", "outputs-before-version-history.json"), "utf8")) as Record<string, Record<string, unknown>>;
const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const mlflow = (stack: string, version: string) => ({ mlflowVersion: version, mlflowImage: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow-server:${version}@${DIGEST}`, mlflowHostname: `mlflow.${stack}.example.com` });

interface Record2 {
  deployed?: string;
  versions: string[];
  snapshots: string[];
  awsMoves: unknown[];
}
const historyOf = (p: Plan) => p.outputs.versionHistory as { format: number; parts: Record<string, Record2>; rollbackSnapshot?: string };
const moves = (p: Plan) => (p.upgradeReport as { parts: { part: string; move: string }[] }).parts.map((e) => `${e.part} ${e.move}`);

/** Every version and snapshot the old outputs held is in the new history, under its part. */
function expectKept(before: Record<string, unknown>, after: Plan) {
  const h = historyOf(after);
  for (const [part, versions] of Object.entries(before.partVersionHistory as Record<string, string[]>)) expect(h.parts[part].versions, part).toEqual(expect.arrayContaining(versions));
  expect(h.parts.zenml.versions).toEqual(expect.arrayContaining(before.zenmlVersionHistory as string[]));
  const snapshots = Object.values(h.parts).flatMap((r) => r.snapshots);
  expect(snapshots.sort()).toEqual([...(before.preUpgradeSnapshots as string[])].sort());
  for (const key of LEGACY_HISTORY_OUTPUTS) expect(after.outputs, `${key} is not written any more`).not.toHaveProperty(key);
  expect(after.outputs).not.toHaveProperty("upgrade");
}

describe("a stack deployed before versionHistory", () => {
  it("staging after a rollback: nothing moves, no snapshot, its history, snapshot and restored database are kept", async () => {
    const before = TODAY["staging-after-rollback"];
    const rollbackSnapshot = before.rollbackSnapshot as string;
    const p = await plan("staging", { overrides: { zenmlVersion: "0.97.0", kubernetesVersion: "1.33", dbEngineVersion: "8.4", rollbackSnapshot }, deployed: { [stackRef("staging")]: before } });
    expect(moves(p).every((m) => m.endsWith("unchanged")), moves(p).join()).toBe(true);
    expect(ofType(p, "aws:rds/snapshot:Snapshot")).toEqual([]);
    expectKept(before, p);
    expect(historyOf(p)).toMatchObject({ format: 2, rollbackSnapshot, parts: { zenml: { deployed: "0.97.0", versions: ["0.97.0", "0.98.0"], snapshots: [before.latestPreUpgradeSnapshot] } } });
    expect(p.outputs.activeDatabaseInstanceIdentifier).toBe("zenml-staging-restored-0-97-0");
    // The view the deploy workflows and the smoke check read is still there.
    expect(p.outputs).toMatchObject({ zenmlVersion: "0.97.0", partVersions: before.partVersions });
    expect(p.warnings.filter((w) => !/digest|EKS standard support/.test(w))).toEqual([]);
  });

  it("staging after a MySQL major upgrade: the snapshot is MySQL's, ZenML's way back stays empty", async () => {
    const before = TODAY["staging-after-mysql-major"];
    const p = await plan("staging", { overrides: { zenmlVersion: "0.98.0", kubernetesVersion: "1.33", dbEngineVersion: "8.4" }, deployed: { [stackRef("staging")]: before } });
    expect(moves(p).every((m) => m.endsWith("unchanged"))).toBe(true);
    expectKept(before, p);
    expect(historyOf(p).parts).toMatchObject({ mysql: { versions: ["8.0", "8.4"], snapshots: ["zenml-staging-pre-mysql-upgrade-8-0-to-8-4"] }, zenml: { snapshots: [] } });
  });

  it("prod after an MLflow upgrade, with staging's outputs of the same age: nothing moves, the gate is satisfied, MLflow's snapshot stays MLflow's", async () => {
    const before = TODAY["prod-after-mlflow-upgrade"];
    const deployed = { [stackRef("staging")]: TODAY["staging-after-mlflow-upgrade"], [stackRef("prod")]: before };
    const p = await plan("prod", { overrides: { zenmlVersion: "0.97.0", kubernetesVersion: "1.33", dbEngineVersion: "8.4", ...mlflow("prod", "3.18.0") }, deployed });
    expect(moves(p).every((m) => m.endsWith("unchanged")), moves(p).join()).toBe(true);
    expect(ofType(p, "aws:rds/snapshot:Snapshot")).toEqual([]);
    expectKept(before, p);
    expect(historyOf(p).parts.mlflow).toEqual({ deployed: "3.18.0", versions: ["3.17.2", "3.18.0"], snapshots: ["mlflow-prod-pre-upgrade-3-17-2-to-3-18-0"], awsMoves: [] });
    // The next update reads only versionHistory: the same history again, and still nothing moves.
    const again = await plan("prod", { overrides: { zenmlVersion: "0.97.0", kubernetesVersion: "1.33", dbEngineVersion: "8.4", ...mlflow("prod", "3.18.0") }, deployed: { ...deployed, [stackRef("prod")]: p.outputs } });
    expect(historyOf(again)).toEqual(historyOf(p));
    expect(moves(again).every((m) => m.endsWith("unchanged"))).toBe(true);
  });

  it("the next change after the migration is checked against the migrated history (a ZenML downgrade is still refused)", async () => {
    const migrated = (await plan("staging", { overrides: { zenmlVersion: "0.98.0", kubernetesVersion: "1.33", dbEngineVersion: "8.4" }, deployed: { [stackRef("staging")]: TODAY["staging-after-mysql-major"] } })).outputs;
    const err = await plan("staging", { overrides: { zenmlVersion: "0.97.0", kubernetesVersion: "1.33", dbEngineVersion: "8.4" }, deployed: { [stackRef("staging")]: migrated } }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/zenmlVersion "0\.97\.0" is lower than the deployed "0\.98\.0"/);
  });
});

describe("reading a history (pure)", () => {
  it("prefers versionHistory, and reads the older keys only when it is absent", () => {
    const old = readHistory(TODAY["staging-after-rollback"]);
    expect(old).toMatchObject({ deployedBefore: true, migrated: true, rollbackSnapshot: "zenml-staging-pre-upgrade-0-97-0-to-0-98-0" });
    const both = readHistory({ ...TODAY["staging-after-rollback"], versionHistory: { format: 2, parts: { zenml: { deployed: "0.99.0", versions: ["0.99.0"], snapshots: [], awsMoves: [] } } } });
    expect(both).toEqual({ deployedBefore: true, migrated: false, parts: { zenml: { deployed: "0.99.0", versions: ["0.99.0"], snapshots: [], awsMoves: [] } } });
  });

  it("a stack with no outputs was never deployed", () => {
    expect(readHistory(undefined)).toEqual({ deployedBefore: false, parts: {}, migrated: true });
    expect(readHistory({})).toMatchObject({ deployedBefore: false });
  });

  it("keeps the latest-snapshot pointers even when the list lost them", () => {
    const h = readHistory({ zenmlVersion: "0.98.0", latestPreUpgradeSnapshot: "zenml-s-pre-upgrade-0-97-0-to-0-98-0", latestMlflowPreUpgradeSnapshot: "mlflow-s-pre-upgrade-3-1-0-to-3-2-0" });
    expect(h.parts.zenml.snapshots).toEqual(["zenml-s-pre-upgrade-0-97-0-to-0-98-0"]);
    expect(h.parts.mlflow.snapshots).toEqual(["mlflow-s-pre-upgrade-3-1-0-to-3-2-0"]);
  });
});
