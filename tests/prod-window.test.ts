import { describe, expect, it } from "vitest";
import { parseConfig } from "../components/config";
import { classifyMove, nextOpening, parseTimingOverride, parseUpgradeWindow, soakOf, type SoakRecord, type SoakRun, timingChecks, timingSettings, type UpgradeWindow } from "../components/prod-window";
import { readStackConfig } from "../tools/offline/stack-files";
import { PROJECT_DIR } from "./helpers/plan";

const window = (text: string) => parseUpgradeWindow(text) as UpgradeWindow;
const at = (iso: string) => new Date(iso);

describe("upgradeWindow", () => {
  it("parses a weekly UTC slot, wrapping past Sunday", () => {
    expect(parseUpgradeWindow("sat:02:00-sat:06:00")).toEqual({ text: "sat:02:00-sat:06:00", start: 5 * 1440 + 120, length: 240 });
    expect(parseUpgradeWindow("sun:22:00-mon:02:00")).toMatchObject({ start: 6 * 1440 + 22 * 60, length: 240 });
    expect(parseUpgradeWindow("")).toBeNull();
  });

  it.each([
    ["saturday 2-6", /is not of the form ddd:hh:mm-ddd:hh:mm/],
    ["sat:02:00-sat:02:10", /lasts 10 minutes; an upgrade window needs at least 30/],
    ["sat:24:00-sun:01:00", /is not of the form/],
    ["xyz:02:00-sat:06:00", /is not of the form/],
  ])("refuses %s", (text, why) => {
    expect(parseUpgradeWindow(text)).toMatch(why);
  });

  it("knows the next opening: now when inside, else the slot's start", () => {
    const w = window("sat:02:00-sat:06:00");
    // 2026-12-07 is a Monday.
    expect(nextOpening(w, at("2026-12-07T11:35:20Z")).toISOString()).toBe("2026-12-12T02:00:00.000Z");
    expect(nextOpening(w, at("2026-12-12T03:00:00Z")).toISOString()).toBe("2026-12-12T03:00:00.000Z");
    expect(nextOpening(w, at("2026-12-12T06:00:00Z")).toISOString()).toBe("2026-12-19T02:00:00.000Z");
    expect(nextOpening(window("sun:23:00-mon:01:00"), at("2026-12-07T00:30:00Z")).toISOString()).toBe("2026-12-07T00:30:00.000Z");
  });
});

describe("upgradeTimingOverrideReason", () => {
  it("names the version it excuses", () => {
    expect(parseTimingOverride("0.99.0: CVE-2026-1234 cannot wait")).toEqual({ version: "0.99.0", reason: "CVE-2026-1234 cannot wait" });
    expect(parseTimingOverride("")).toBeNull();
    expect(parseTimingOverride("CVE-2026-1234 cannot wait")).toMatch(/is not "<version>: <reason of 10\+ characters>"/);
    expect(parseTimingOverride("0.99.0: now")).toMatch(/10\+ characters/);
  });
});

describe("the soak: staging's longest unbroken stretch on the version", () => {
  let id = 0;
  const run = (pin: string, createdAt: string, opts: { conclusion?: string; recordedAt?: string; to?: string; status?: string } = {}) => ({
    run: { headSha: `${pin}-${++id}`, status: opts.status ?? "completed", conclusion: opts.conclusion ?? "success", createdAt },
    record: { result: opts.conclusion === "failure" ? "failure" : "success", to: opts.to ?? pin, recordedAt: opts.recordedAt } as SoakRecord,
    pin,
  });
  const soak = (runs: ReturnType<typeof run>[], now: string, version = "0.99.0") =>
    soakOf(version, runs.map((r) => r.run), (sha) => runs.find((r) => r.run.headSha === sha)?.pin, (r: SoakRun) => runs.find((x) => x.run === r)?.record, at(now));

  it("counts from the deploy record's time, across later commits that keep the pin", () => {
    const runs = [run("0.98.0", "2026-12-01T00:00:00Z"), run("0.99.0", "2026-12-05T10:00:00Z", { recordedAt: "2026-12-05T10:30:00Z" }), run("0.99.0", "2026-12-06T09:00:00Z")];
    const s = soak(runs, "2026-12-06T10:30:00Z");
    expect(s.ms / 3_600_000).toBe(24);
    expect(s.since?.toISOString()).toBe("2026-12-05T10:30:00.000Z");
    expect(s.until).toBeUndefined();
  });

  it("starts at the first green run: a red upgrade run does not count", () => {
    const runs = [run("0.99.0", "2026-12-05T10:00:00Z", { conclusion: "failure" }), run("0.99.0", "2026-12-05T20:00:00Z")];
    expect(soak(runs, "2026-12-06T08:00:00Z").ms / 3_600_000).toBe(12);
  });

  it("ends when staging moved on, and restarts after a move away and back", () => {
    const runs = [run("0.99.0", "2026-12-01T00:00:00Z"), run("0.99.1", "2026-12-01T06:00:00Z"), run("0.99.0", "2026-12-02T00:00:00Z")];
    // 6 h in the first stretch, 3 h in the current one: the longest counts.
    const s = soak(runs, "2026-12-02T03:00:00Z");
    expect(s.ms / 3_600_000).toBe(6);
    expect(s.until?.toISOString()).toBe("2026-12-01T06:00:00.000Z");
    // A run still in progress is not a move.
    expect(soak([run("0.99.0", "2026-12-01T00:00:00Z"), run("1.0.0", "2026-12-01T01:00:00Z", { status: "in_progress" })], "2026-12-01T05:00:00Z").ms / 3_600_000).toBe(5);
  });

  it("is zero when no green record reached the version", () => {
    expect(soak([run("0.99.0", "2026-12-01T00:00:00Z", { to: "0.98.0" })], "2026-12-03T00:00:00Z")).toEqual({ ms: 0 });
  });
});

describe("timing checks", () => {
  const settings = { soakHours: 24, window: window("sat:02:00-sat:06:00"), override: null };
  const soaked = (hours: number) => () => ({ since: at("2026-12-11T00:00:00Z"), ms: hours * 3_600_000 });

  it("passes an upgrade soaked long enough, inside the window", () => {
    const checks = timingChecks("0.98.0", "0.99.0", at("2026-12-12T03:00:00Z"), settings, soaked(27));
    expect(checks.map((c) => c.ok)).toEqual([true, true]);
    expect(checks[1].detail).toBe("Sat 2026-12-12 03:00 UTC is inside upgradeWindow sat:02:00-sat:06:00 UTC (180 min left)");
  });

  it("refuses a short soak and the hours outside the window, each in one line with the way out", () => {
    const [soak, win] = timingChecks("0.98.0", "0.99.0", at("2026-12-11T06:00:00Z"), settings, soaked(6));
    expect(soak).toEqual({
      name: "soak",
      ok: false,
      detail: 'staging has run 0.99.0 for 6.0 h (from Fri 2026-12-11 00:00 UTC), less than promotionSoakHours 24 (the users\' test time on staging): prod may take it from Sat 2026-12-12 00:00 UTC, or set upgradeTimingOverrideReason: "0.99.0: <why it cannot wait>" in Pulumi.prod.yaml',
    });
    expect(win.detail).toBe('Fri 2026-12-11 06:00 UTC is outside upgradeWindow sat:02:00-sat:06:00 UTC: re-run this deploy from Sat 2026-12-12 02:00 UTC, or set upgradeTimingOverrideReason: "0.99.0: <why it cannot wait>" in Pulumi.prod.yaml');
    expect([soak, win].every((c) => !c.detail.includes("\n"))).toBe(true);
  });

  it("an override for this version lets both through, loudly; one for another version is ignored", () => {
    const override = { version: "0.99.0", reason: "CVE-2026-1234 fix cannot wait" };
    const checks = timingChecks("0.98.0", "0.99.0", at("2026-12-11T06:00:00Z"), { ...settings, override }, soaked(6));
    expect(checks.every((c) => c.ok && c.detail.startsWith("OVERRIDDEN: ") && c.detail.endsWith("upgradeTimingOverrideReason: CVE-2026-1234 fix cannot wait"))).toBe(true);
    const stale = timingChecks("0.99.0", "1.0.0", at("2026-12-11T06:00:00Z"), { ...settings, override }, soaked(6));
    expect(stale.map((c) => c.ok)).toEqual([false, false]);
    expect(stale[1].detail).toMatch(/\(upgradeTimingOverrideReason names 0\.99\.0, not 1\.0\.0: ignored\)$/);
  });

  it("never holds a rollback, a first deploy or a deploy that moves no version, and never reads the soak for them", () => {
    const noSoak = () => {
      throw new Error("read the soak");
    };
    for (const [from, to] of [["0.99.0", "0.98.0"], [null, "0.99.0"], ["0.99.0", "0.99.0"]] as const) {
      expect(timingChecks(from, to, at("2026-12-08T06:00:00Z"), settings, noSoak).every((c) => c.ok)).toBe(true);
    }
    expect(classifyMove("0.99.0", "0.98.0")).toBe("rollback");
  });

  it("soak 0 and no window: nothing to wait for", () => {
    expect(timingChecks("0.98.0", "0.99.0", at("2026-12-08T06:00:00Z"), { soakHours: 0, window: null, override: null }, soaked(0)).every((c) => c.ok)).toBe(true);
  });
});

describe("the keys in config", () => {
  const raw = readStackConfig(PROJECT_DIR, "prod").values;
  const parse = (over: Record<string, string>) => () => parseConfig("prod", { ...raw, ...Object.fromEntries(Object.entries(over).map(([k, v]) => [`zenml-platform:${k}`, v])) });

  it("prod's file soaks 24 h (the seeds' 1-2 days of UAT) and the gate reads the same settings", () => {
    expect(parse({})()).toMatchObject({ promotionSoakHours: 24, upgradeWindow: "", upgradeTimingOverrideReason: "", announcementChannel: "issue" });
    expect(timingSettings((k) => ({ promotionSoakHours: 24 })[k as "promotionSoakHours"])).toEqual({ soakHours: 24, window: null, override: null });
  });

  it.each([
    [{ upgradeWindow: "weekends" }, /upgradeWindow: "weekends" is not of the form ddd:hh:mm-ddd:hh:mm/],
    [{ promotionSoakHours: "-1" }, /promotionSoakHours: .*allowed: an integer 0\.\.720/],
    [{ upgradeTimingOverrideReason: "because" }, /upgradeTimingOverrideReason: "because" is not "<version>: <reason/],
    [{ announcementChannel: "slack" }, /announcementChannel: .*allowed: issue \(this repository's "ZenML upgrades" issue\)/],
  ])("refuses %j naming the key", (over, why) => {
    expect(parse(over)).toThrow(why);
  });
});
