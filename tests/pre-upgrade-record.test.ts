// The deploy record's section on the work before a ZenML upgrade, from the documents the pre-upgrade
// scripts wrote in a rehearsal (tests/fixtures/pre-upgrade/).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { preUpgradeFailures, preUpgradeSummary, readPreUpgrade } from "../tools/gitops/pre-upgrade-record";
import { PROJECT_DIR } from "./helpers/plan";

const fixture = (name: string) => path.join(PROJECT_DIR, "tests", "fixtures", "pre-upgrade", name);

describe("the deploy record's pre-upgrade section", () => {
  it("names the inventory's counts, the run that held the upgrade and the restore-test's checks", () => {
    const p = readPreUpgrade(fixture("released"), "s3://bucket/upgrades/staging/0.97.0-0.98.0/")!;
    expect(p.inventory).toMatchObject({ alembicHeads: ["0.97.0"], counts: expect.objectContaining({ stacks: 2, runs: 1 }) });
    expect(p.drain).toMatchObject({ result: "released", heldBy: [expect.stringMatching(/^run nightly_training-\S+ \(pipeline nightly_training, user smoke-ci, running, started 2026-12-07 /)], stillBusy: [] });
    expect(p.restoreTest).toMatchObject({ ok: true, checks: [expect.objectContaining({ name: "alembic-head", ok: true }), expect.objectContaining({ name: "inventory-counts", ok: true })] });
    expect(preUpgradeFailures(p)).toEqual([]);
    const summary = preUpgradeSummary(p).join("\n");
    expect(summary).toContain("Documents: `s3://bucket/upgrades/staging/0.97.0-0.98.0/`");
    expect(summary).toMatch(/- drain: \*\*released\*\* after [\d.]+s, held by 1: run nightly_training/);
    expect(summary).toMatch(/- restore-test: \*\*pass\*\*/);
  });

  it("a refused drain is the reason `up` failed, naming each run still in progress", () => {
    const p = readPreUpgrade(fixture("refused"))!;
    expect(p.restoreTest).toBeUndefined();
    expect(preUpgradeFailures(p)).toEqual([expect.stringMatching(/^drain refused: run nightly_training-\S+ \(pipeline nightly_training, user smoke-ci, running, started /)]);
    expect(preUpgradeSummary(p).join("\n")).toMatch(/- drain: \*\*refused\*\*[^\n]*\n {2}- still busy: run nightly_training/);
  });

  it("is absent when the folder holds no document (no upgrade, or up failed before them)", () => {
    expect(readPreUpgrade(fs.mkdtempSync(path.join(os.tmpdir(), "no-docs-")))).toBeUndefined();
    expect(readPreUpgrade(path.join(os.tmpdir(), "does-not-exist-pre-upgrade"))).toBeUndefined();
  });
});

describe("npm run deploy-record -- --pre-upgrade <folder>", () => {
  it("carries the section into the record, the summary, and the annotation of the failed up", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "record-pre-upgrade-"));
    const summary = path.join(tmp, "summary.md");
    const r = spawnSync(
      process.execPath,
      [path.join(PROJECT_DIR, "tools", "cli.cjs"), "deploy-record", "--stack", "staging", "--sha", "e".repeat(40), "--from", "0.97.0", "--to", "0.98.0", "--check", "up=failure", "--pre-upgrade", fixture("refused")],
      { cwd: tmp, env: { ...process.env, GITHUB_STEP_SUMMARY: summary }, encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    const record = JSON.parse(fs.readFileSync(path.join(tmp, "deploy-record.json"), "utf8")) as { preUpgrade?: { drain?: { result: string } } };
    expect(record.preUpgrade?.drain?.result).toBe("refused");
    expect(r.stdout).toMatch(/^::error title=staging%3A up failure::up failure on staging at e{40} \(drain refused: run nightly_training/m);
    expect(fs.readFileSync(summary, "utf8")).toContain("#### Before the server moved");
  }, 30_000);
});
