// Prod's gate and the soak and window (components/prod-window.ts): the CLI in-process with the
// stand-in gh (tests/helpers/fake-gh.ts) and a git checkout, at a chosen time.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildRecord } from "../tools/gitops/deploy-record";
import { TIMING_RECORD_KIND } from "../tools/gitops/migration-gate";
import { pinnedVersions } from "../tools/gitops/pin-file";
import { evaluateGate, main as stagingGate } from "../tools/gitops/staging-gate";
import { captureIo } from "./helpers/cli";
import { fakeGh } from "./helpers/fake-gh";
import { PROJECT_DIR } from "./helpers/plan";
import { stackFilesCheckout } from "./helpers/stack-checkout";

const GREEN = ["up", "post-upgrade", "smoke-server", "smoke-pipelines"].map((c) => `${c}=success`);

/**
 * A checkout at one commit (staging pins 0.98.0) and a gh whose staging ran it green from
 * `stagingAt`, prod at 0.97.0 (its data timed migrating to 0.98.0 in 4 minutes, within the limit, so
 * only the soak and the window decide); the prod file is promoted to 0.98.0 with `prodConfig` lines changed.
 */
function world(stagingAt: string, prodConfig: Record<string, string> = {}) {
  const { cwd, head } = stackFilesCheckout("gate-timing-");
  const gh = fakeGh();
  // Prod's last record: ZenML 0.96.0 -> 0.97.0, every other part it pins unchanged (only ZenML moves here).
  const prodPins = pinnedVersions(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8"), "Pulumi.prod.yaml");
  const unchanged = Object.fromEntries(Object.entries(prodPins).map(([part, v]) => [part, { from: v, to: v }]));
  const prodRecord = buildRecord({ stack: "prod", sha: "0".repeat(40), from: "0.96.0", to: "0.97.0", checks: GREEN, parts: { ...unchanged, zenml: { from: "0.96.0", to: "0.97.0" } } });
  gh.addRun("prod", { databaseId: 1, headSha: "0".repeat(40), status: "completed", conclusion: "success", createdAt: "2026-11-01T00:00:00Z", url: "https://github.invalid/runs/1" }, prodRecord);
  gh.addRun("staging", { databaseId: 2, headSha: head, status: "completed", conclusion: "success", createdAt: stagingAt, url: "https://github.invalid/runs/2" }, buildRecord({ stack: "staging", sha: head, from: "0.97.0", to: "0.98.0", checks: GREEN, recordedAt: new Date(Date.parse(stagingAt) + 20 * 60_000) }));
  gh.addTiming(
    { databaseId: 3, headSha: head, status: "completed", conclusion: "success", createdAt: stagingAt, url: "https://github.invalid/runs/3" },
    { kind: TIMING_RECORD_KIND, source: "prod", target: "staging", snapshot: "rds:zenml-prod-nightly", snapshotCreatedAt: stagingAt, fromRevisions: ["0.97.0"], to: "0.98.0", result: "passed", seconds: 240, minutes: 4, sizeMb: 900, allocatedStorageGb: 100, instanceClass: "db.m7g.large", copyDeleted: true, measuredAt: stagingAt },
  );
  let prod = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8").replace("zenmlVersion: 0.97.0", "zenmlVersion: 0.98.0");
  for (const [key, value] of Object.entries(prodConfig)) prod = prod.replace(new RegExp(`(zenml-platform:${key}: ).*`), `$1${value}`);
  const prodFile = path.join(cwd, "Pulumi.prod.promoted.yaml");
  fs.writeFileSync(prodFile, prod);
  const env = { ...process.env, PATH: `${gh.bin}:${process.env.PATH}`, GH_TOKEN: "t" };
  /** The gate as deploy-prod.yml calls it, at `now`. */
  return async (now: string, ...extra: string[]) => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date(now) });
    try {
      const summary = path.join(cwd, `summary-${Date.now()}.md`);
      const r = await captureIo((io) => stagingGate(["--sha", head, "--prod-file", prodFile, ...extra], io, { ...env, GITHUB_STEP_SUMMARY: summary }, cwd));
      return { ...r, summary: fs.existsSync(summary) ? fs.readFileSync(summary, "utf8") : "" };
    } finally {
      vi.useRealTimers();
    }
  };
}

afterEach(() => vi.useRealTimers());

describe("prod's gate waits for the soak and the window", () => {
  it("refuses an upgrade staging ran for less than promotionSoakHours, in one line naming the key and when it clears", async () => {
    // Staging's record: Monday 08:20 UTC; the default soak is 24 h.
    const gate = world("2026-12-07T08:00:00Z");
    const early = await gate("2026-12-07T14:20:00Z");
    expect(early.code).toBe(1);
    expect(early.stderr).toBe('staging-gate: staging has run 0.98.0 for 6.0 h (from Mon 2026-12-07 08:20 UTC), less than promotionSoakHours 24 (the users\' test time on staging): prod may take it from Tue 2026-12-08 08:20 UTC, or set upgradeTimingOverrideReason: "0.98.0: <why it cannot wait>" in Pulumi.prod.yaml\n');
    expect(early.stdout).toMatch(/^::error title=staging gate%3A soak::staging has run 0\.98\.0 for 6\.0 h/);
    expect(early.summary).toContain("| soak | **FAIL** |");
    const later = await gate("2026-12-08T08:21:00Z");
    expect(later.stderr).toBe("");
    expect(later.code).toBe(0);
    expect(later.summary).toMatch(/\| soak \| pass \| staging has run 0\.98\.0 for 24\.0 h \(from Mon 2026-12-07 08:20 UTC\); promotionSoakHours is 24 \|/);
  }, 60_000);

  it("refuses an upgrade outside prod's upgradeWindow, in one line naming the key and the next opening", async () => {
    const gate = world("2026-12-01T08:00:00Z", { upgradeWindow: '"sat:02:00-sat:06:00"' });
    const monday = await gate("2026-12-07T11:35:00Z");
    expect(monday.code).toBe(1);
    expect(monday.stderr).toBe('staging-gate: Mon 2026-12-07 11:35 UTC is outside upgradeWindow sat:02:00-sat:06:00 UTC: re-run this deploy from Sat 2026-12-12 02:00 UTC, or set upgradeTimingOverrideReason: "0.98.0: <why it cannot wait>" in Pulumi.prod.yaml\n');
    expect(monday.stdout).toMatch(/^::error title=staging gate%3A upgrade window::/);
    const saturday = await gate("2026-12-12T02:30:00Z");
    expect(saturday.code).toBe(0);
    expect(saturday.summary).toContain("| upgrade window | pass | Sat 2026-12-12 02:30 UTC is inside upgradeWindow sat:02:00-sat:06:00 UTC (210 min left) |");
  }, 60_000);

  it("an override reason naming the version lets both through and is recorded: a warning per check and the summary", async () => {
    const gate = world("2026-12-07T08:00:00Z", { upgradeWindow: '"sat:02:00-sat:06:00"', upgradeTimingOverrideReason: '"0.98.0: CVE-2026-1234 in 0.97 is exploited"' });
    const r = await gate("2026-12-07T11:35:00Z");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("::warning title=staging gate overridden::OVERRIDDEN"))).toHaveLength(2);
    expect(r.summary).toMatch(/### Staging gate: passed \(overridden\)/);
    expect(r.summary).toContain("upgradeTimingOverrideReason: CVE-2026-1234 in 0.97 is exploited |");
    // A reason left for another version excuses nothing.
    const stale = await world("2026-12-07T08:00:00Z", { upgradeTimingOverrideReason: '"0.97.0: CVE-2026-1234 in 0.96 is exploited"' })("2026-12-07T11:35:00Z");
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/\(upgradeTimingOverrideReason names 0\.97\.0, not 0\.98\.0: ignored\)\n$/);
  }, 60_000);

  it("names both in --help", async () => {
    const r = await captureIo((io) => stagingGate(["--help"], io, process.env, PROJECT_DIR));
    expect(r.stdout).toMatch(/promotionSoakHours/);
    expect(r.stdout).toMatch(/upgradeWindow/);
    expect(r.stdout).toMatch(/upgradeTimingOverrideReason/);
  });

  it("callers that pass no timing (the existing gate's) see the same three checks", () => {
    const run = { databaseId: 1, headSha: "a".repeat(40), status: "completed", conclusion: "success", createdAt: "2026-12-07T00:00:00Z", url: "u" };
    const v = evaluateGate({ sha: "a".repeat(40), prodPin: "0.98.0", overrideReason: "", prodFrom: "0.98.0" }, { runs: () => [run], record: () => buildRecord({ stack: "staging", sha: "a".repeat(40), from: "0.97.0", to: "0.98.0", checks: GREEN }), pinAt: () => "0.98.0" });
    expect(v.checks.map((c) => c.name)).toEqual(["commit", "latest staging run", "upgrade path"]);
  });
});
