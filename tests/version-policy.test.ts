import { describe, expect, it } from "vitest";
import { FIELDS } from "../components/config";
import { emptyRecord, type StackHistory } from "../components/part-history";
import { snapshotPartOf } from "../components/parts";
import { EKS_CALENDAR, calendarStaleness, eksSupportWarning, inStandardSupport, upgradePath } from "../components/support-calendar";
import { PARTS, compareDotted, decideParts, explainBadPin, parseSnapshotId, partsInOrder, recordOnce, skippedMinors, snapshotId, type DecisionInput } from "../components/version-policy";

describe("version pins", () => {
  it("accepts exact releases", () => {
    for (const pin of ["0.98.0", "0.97.0", "1.0.0", "0.100.12"]) expect(explainBadPin(pin)).toBeUndefined();
  });

  it.each([
    ["v0.98.0", /"v" prefix.*"0\.98\.0"/],
    ["latest", /moving tag/],
    ["^0.98.0", /range/],
    ["~0.98", /range/],
    [">=0.97.0", /range/],
    ["0.98.x", /range/],
    ["0.98", /no patch number.*"0\.98\.0"/],
    ["0.98.0rc1", /not an X\.Y\.Z release/],
    ["0.98.0-rc.1", /pre-release/],
    ["00.98.0", /not an X\.Y\.Z release/],
    [" 0.98.0", /whitespace/],
    ["", /empty/],
  ])("explains what is wrong with %j", (pin, why) => {
    expect(explainBadPin(pin)).toMatch(why);
  });

  it("rejects non-strings", () => {
    expect(explainBadPin(0.98)).toMatch(/must be a string/);
  });
});

/** A stack's records: each part running its version, having run only that. */
function history(versions: Record<string, string>, extra: Partial<StackHistory> = {}): StackHistory {
  const parts = Object.fromEntries(Object.entries(versions).map(([p, v]) => [p, { ...emptyRecord(), deployed: v, versions: [v] }]));
  return { deployedBefore: Object.keys(versions).length > 0, parts, migrated: false, ...extra };
}
const decide = (input: Partial<DecisionInput> & Pick<DecisionInput, "desired" | "own">) => decideParts({ stack: "staging", live: {}, promotionOverrideReason: "", ...input });

describe("upgrade decisions", () => {
  const zenml = (version: string, deployed?: string, extra: Partial<DecisionInput> = {}) => decide({ desired: { zenml: version }, own: history(deployed ? { zenml: deployed } : {}), ...extra });

  it("treats a stack with no previous outputs as a first deploy", () => {
    expect(zenml("0.98.0").entries[0].move).toBe("first-deploy");
  });

  it("sees an unchanged pin and an upgrade, and names the one change and its snapshot", () => {
    expect(zenml("0.98.0", "0.98.0").entries[0].move).toBe("unchanged");
    const up = zenml("0.98.0", "0.97.0");
    expect(up.entries[0]).toMatchObject({ move: "upgrade", deployed: "0.97.0", desired: "0.98.0" });
    expect(up.change).toEqual({ part: "zenml", kind: "upgrade", from: "0.97.0", to: "0.98.0", snapshot: "zenml-staging-pre-upgrade-0-97-0-to-0-98-0", wasRunning: true });
    expect(up.history.parts.zenml).toEqual({ deployed: "0.98.0", versions: ["0.97.0", "0.98.0"], snapshots: ["zenml-staging-pre-upgrade-0-97-0-to-0-98-0"], awsMoves: [] });
    expect(up.warnings).toEqual([]);
  });

  it("refuses a downgrade and explains the rollback path", () => {
    expect(zenml("0.97.0", "0.98.0").refusals.join()).toMatch(/cannot downgrade.*rollbackSnapshot.*0\.97\.0 -> 0\.98\.0/s);
  });

  it("warns, listing the range, when an upgrade jumps over minor releases", () => {
    const up = zenml("0.98.1", "0.95.2");
    expect(up.entries[0].move).toBe("upgrade");
    expect(up.warnings.join()).toMatch(/2 minor release\(s\) \(0\.96, 0\.97\)/);
    expect(skippedMinors("0.97.0", "0.98.0")).toEqual([]);
  });

  const rollback = { snapshotIdentifier: "zenml-staging-pre-upgrade-0-97-0-to-0-98-0", fromVersion: "0.97.0", toVersion: "0.98.0" };

  it("accepts a rollback onto the snapshot's from-version, taking no new snapshot", () => {
    const d = zenml("0.97.0", "0.98.0", { rollback });
    expect(d.entries[0].move).toBe("rollback");
    expect(d.change).toMatchObject({ kind: "rollback", from: "0.98.0", to: "0.97.0" });
    expect(d.change?.snapshot).toBeUndefined();
    expect(d.history.rollbackSnapshot).toBe(rollback.snapshotIdentifier);
  });

  it("refuses a rollback whose pin is not the snapshot's from-version", () => {
    expect(zenml("0.96.0", "0.98.0", { rollback }).refusals.join()).toMatch(/must be set back to "0\.97\.0"/);
  });

  it("refuses a rollback when nothing newer is deployed", () => {
    expect(zenml("0.97.0", "0.97.0", { rollback }).refusals.join()).toMatch(/nothing to roll back/);
  });

  it("after a rollback, keeps the restored database and allows upgrading again", () => {
    const after = history({ zenml: "0.97.0" }, { rollbackSnapshot: rollback.snapshotIdentifier });
    expect(decide({ desired: { zenml: "0.97.0" }, own: after, rollback }).entries[0].move).toBe("unchanged");
    expect(decide({ desired: { zenml: "0.98.1" }, own: after, rollback }).entries[0].move).toBe("upgrade");
    expect(decide({ desired: { zenml: "0.97.0" }, own: after }).refusals.join()).toMatch(/runs on the database restored from/);
  });
});

describe("promotion gate", () => {
  const source = { stackName: "organization/zenml-platform/staging", history: { ...history({ zenml: "0.98.0" }), parts: { zenml: { ...emptyRecord(), deployed: "0.98.0", versions: ["0.97.0", "0.98.0"] } } } };
  const prod = (version: string, reason = "") => decide({ stack: "prod", desired: { zenml: version }, own: history({ zenml: "0.96.0" }), source, promotionOverrideReason: reason });

  it("accepts a version staging has run", () => {
    expect(prod("0.97.0").refusals).toEqual([]);
    expect(prod("0.98.0").overridden).toEqual([]);
  });

  it("refuses a version staging has not run", () => {
    expect(prod("0.99.0").refusals.join()).toMatch(/"0\.99\.0" has not run on organization\/zenml-platform\/staging.*promotionOverrideReason/s);
    expect(prod("0.97.5").refusals).toHaveLength(1);
  });

  it("lets an override through and keeps the reason", () => {
    const gate = prod("0.99.0", "CVE-2026-1234 hotfix, staging down");
    expect(gate.overridden).toEqual(["zenml"]);
    expect(gate.warnings.join()).toMatch(/CVE-2026-1234 hotfix/);
  });

  it("refuses everything from a source that was never deployed", () => {
    const empty = decide({ stack: "prod", desired: { zenml: "0.98.0" }, own: history({}), source: { stackName: "o/p/staging", history: history({}) } });
    expect(empty.refusals.join()).toMatch(/it reports no deployed version; versions it ran: none/);
  });
});

describe("snapshot names", () => {
  it("round-trip through RDS-safe identifiers", () => {
    const id = snapshotId("zenml", "staging", "0.97.0", "0.98.0");
    expect(id).toBe("zenml-staging-pre-upgrade-0-97-0-to-0-98-0");
    expect(id).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(id).not.toMatch(/--/);
    expect(parseSnapshotId(id)).toEqual({ environmentName: "staging", fromVersion: "0.97.0", toVersion: "0.98.0" });
  });

  it("reject other names", () => {
    expect(parseSnapshotId("rds:zenml-staging-2026-11-01")).toBeUndefined();
    expect(parseSnapshotId("zenml-staging-pre-upgrade-0-97-to-0-98-0")).toBeUndefined();
  });

  it("history keeps order without repeats", () => {
    expect(recordOnce(["0.97.0"], "0.98.0")).toEqual(["0.97.0", "0.98.0"]);
    expect(recordOnce(["0.97.0", "0.98.0"], "0.97.0")).toEqual(["0.97.0", "0.98.0"]);
  });

  it("never reuse a name RDS already has (upgrade, roll back, upgrade again)", () => {
    const first = snapshotId("zenml", "prod", "0.97.0", "0.98.0");
    const second = snapshotId("zenml", "prod", "0.97.0", "0.98.0", [first]);
    expect(second).toBe(`${first}-attempt-2`);
    expect(snapshotId("zenml", "prod", "0.97.0", "0.98.0", [first, second])).toBe(`${first}-attempt-3`);
    expect(parseSnapshotId(second)).toEqual({ environmentName: "prod", fromVersion: "0.97.0", toVersion: "0.98.0" });
  });

  it("one function names every part's snapshot, each with its own prefix, and rollbackSnapshot only takes ZenML's", () => {
    expect(snapshotId("mysql", "prod", "8.0", "8.4")).toBe("zenml-prod-pre-mysql-upgrade-8-0-to-8-4");
    expect(snapshotId("mysql", "prod", "8.0", "8.4", ["zenml-prod-pre-mysql-upgrade-8-0-to-8-4"])).toBe("zenml-prod-pre-mysql-upgrade-8-0-to-8-4-attempt-2");
    expect(snapshotId("mlflow", "prod", "3.1.0", "3.2.0")).toBe("mlflow-prod-pre-upgrade-3-1-0-to-3-2-0");
    expect(parseSnapshotId("zenml-prod-pre-mysql-upgrade-8-0-to-8-4")).toBeUndefined();
    expect(parseSnapshotId("zenml-prod-pre-mysql-upgrade-8-0-to-8-4", "mysql")).toEqual({ environmentName: "prod", fromVersion: "8.0", toVersion: "8.4" });
    expect(["zenml-a-pre-upgrade-0-1-0-to-0-2-0", "zenml-a-pre-mysql-upgrade-8-0-to-8-4", "mlflow-a-pre-upgrade-3-1-0-to-3-2-0", "rds:x"].map(snapshotPartOf)).toEqual(["zenml", "mysql", "mlflow", undefined]);
    expect(() => snapshotId("kubernetes", "prod", "1.33", "1.34")).toThrow(/takes no pre-upgrade snapshot/);
  });
});

describe("the parts registry", () => {
  it("compares every part's version format number by number", () => {
    expect(compareDotted("1.34", "1.33")).toBeGreaterThan(0);
    expect(compareDotted("1.9", "1.10")).toBeLessThan(0);
    expect(compareDotted("8.4", "8.4")).toBe(0);
    expect(compareDotted("v4.10.0-eksbuild.1", "v4.9.0-eksbuild.3")).toBeGreaterThan(0);
    expect(compareDotted("v4.1.0-eksbuild.2", "v4.1.0-eksbuild.1")).toBeGreaterThan(0);
  });

  it("lists the parts in upgrade order, infrastructure first, each pinned by a declared config key", () => {
    expect(partsInOrder().map((p) => p.name)).toEqual(["kubernetes", "addon:amazon-cloudwatch-observability", "mysql", "zenml", "mlflow"]);
    for (const p of Object.values(PARTS)) expect(p.configKey in FIELDS, p.name).toBe(true);
  });

  it("knows each part's version format", () => {
    const bad = (part: string, v: string) => PARTS[part].explainBadVersion(v);
    expect([bad("kubernetes", "1.35"), bad("mysql", "8.4"), bad("zenml", "0.99.0"), bad("addon:amazon-cloudwatch-observability", "v4.1.0-eksbuild.1")]).toEqual([undefined, undefined, undefined, undefined]);
    expect(bad("kubernetes", "1.35.2")).toMatch(/not a version like "1\.35"/);
    expect(bad("mlflow", "3.18")).toMatch(/no patch number/);
  });

  it("lets an add-on move with its cluster in one update, not with anything else", () => {
    const moved = decide({ desired: { kubernetes: "1.34", "addon:amazon-cloudwatch-observability": "v2.0.0-eksbuild.1" }, own: history({ kubernetes: "1.33", "addon:amazon-cloudwatch-observability": "v1.0.0-eksbuild.1" }) });
    expect(moved.refusals).toEqual([]);
    expect(moved.entries.map((e) => e.move)).toEqual(["upgrade", "upgrade"]);
    expect(moved.change).toMatchObject({ part: "kubernetes", from: "1.33", to: "1.34" });
    const both = decide({ desired: { mysql: "8.4", "addon:amazon-cloudwatch-observability": "v2.0.0-eksbuild.1" }, own: history({ mysql: "8.0", "addon:amazon-cloudwatch-observability": "v1.0.0-eksbuild.1" }) });
    expect(both.refusals.join()).toMatch(/moves 2 parts at once.*1\. addon:amazon-cloudwatch-observability.*2\. mysql/);
  });

  it("treats every part as a first deploy on a stack never deployed, without warnings", () => {
    const d = decide({ desired: { kubernetes: "1.33", mysql: "8.4" }, own: history({}) });
    expect(d.entries.map((e) => e.move)).toEqual(["first-deploy", "first-deploy"]);
    expect(d.warnings).toEqual([]);
  });

  it("refuses MySQL steps other than 8.0 -> 8.4", () => {
    expect(decide({ desired: { mysql: "8.4" }, own: history({ mysql: "5.7" }) }).refusals.join()).toMatch(/only supported step here is 8\.0 -> 8\.4/);
  });

  it("does not gate a part the promotion source never recorded, and says so", () => {
    const d = decide({ stack: "prod", desired: { kubernetes: "1.34" }, own: history({ kubernetes: "1.33" }), source: { stackName: "o/p/staging", history: history({ zenml: "0.98.0" }) } });
    expect(d.refusals).toEqual([]);
    expect(d.warnings.join()).toMatch(/reports no kubernetes history/);
  });

  it("gates only what prod moves to or first deploys, not a version it already runs", () => {
    const source = { stackName: "o/p/staging", history: history({ kubernetes: "1.34" }) };
    expect(decide({ stack: "prod", desired: { kubernetes: "1.33" }, own: history({ kubernetes: "1.33" }), source }).refusals).toEqual([]);
    expect(decide({ stack: "prod", desired: { kubernetes: "1.33" }, own: history({}), source }).refusals.join()).toMatch(/has not run on o\/p\/staging/);
  });

  it("takes a new part as one registry entry: ordered, stepped, snapshotted and counted like the others", () => {
    // The registry is shared by every file a test worker runs: it is put back after.
    PARTS.redis = { name: "redis", label: "Redis", configKey: "redisVersion", order: 35, explainBadVersion: () => undefined, snapshot: { prefix: (env) => `redis-${env}-pre-upgrade`, versionParts: 2 }, noDowngrade: "Redis cannot read a newer RDB file", effects: () => ["restart"], releases: { kind: "pypi", project: "redis" } };
    try {
      const two = decide({ desired: { zenml: "0.98.0", redis: "7.4" }, own: history({ zenml: "0.97.0", redis: "7.2" }) });
      expect(two.refusals.join()).toMatch(/1\. redis 7\.2 -> 7\.4 \(redisVersion\), 2\. zenml 0\.97\.0 -> 0\.98\.0 \(zenmlVersion\)/);
      expect(decide({ desired: { redis: "7.0" }, own: history({ redis: "7.2" }) }).refusals.join()).toMatch(/redisVersion "7\.0" is lower than the deployed "7\.2": Redis cannot read a newer RDB file/);
      expect(decide({ desired: { redis: "7.4" }, own: history({ redis: "7.2" }) }).change).toMatchObject({ part: "redis", snapshot: "redis-staging-pre-upgrade-7-2-to-7-4" });
    } finally {
      delete PARTS.redis;
    }
  });
});

describe("what AWS runs now", () => {
  const k8s = (pin: string, recorded: string, live: string) => decide({ desired: { kubernetes: pin }, own: history({ kubernetes: recorded }), live: { kubernetes: live } });

  it("records a move AWS made on its own as a fact, and the pin that follows it is unchanged", () => {
    const d = k8s("1.35", "1.33", "1.35");
    expect(d.refusals).toEqual([]);
    expect(d.entries[0]).toMatchObject({ deployed: "1.35", desired: "1.35", move: "unchanged", live: "1.35", awsMove: { from: "1.33", to: "1.35" } });
    expect(d.history.parts.kubernetes).toEqual({ deployed: "1.35", versions: ["1.33", "1.35"], snapshots: [], awsMoves: [{ from: "1.33", to: "1.35" }] });
    expect(d.warnings.join()).toMatch(/AWS runs Kubernetes 1\.35, not the 1\.33 the last update recorded .*recorded as a move AWS made/);
    expect(d.change).toBeUndefined();
  });

  it("refuses a pin below the live version, naming the key, the live version and the one command that fixes it", () => {
    const d = k8s("1.33", "1.33", "1.35");
    expect(d.refusals).toEqual([
      expect.stringMatching(/^Stack "staging": kubernetesVersion "1\.33" is below the Kubernetes 1\.35 that AWS runs now .*never asks AWS for a downgrade\. Fix: npm run bump -- --stack staging --part kubernetes --version 1\.35$/),
    ]);
  });

  it("checks the step from what runs: one minor past the live version is an upgrade", () => {
    expect(k8s("1.35", "1.33", "1.34").entries[0]).toMatchObject({ move: "upgrade", deployed: "1.34", awsMove: { from: "1.33", to: "1.34" } });
  });

  it("a live version below the record is a pending change, not a downgrade", () => {
    const d = decide({ desired: { mysql: "8.4" }, own: history({ mysql: "8.4" }), live: { mysql: "8.0" } });
    expect(d.entries[0]).toMatchObject({ deployed: "8.4", move: "unchanged" });
    expect(d.warnings.join()).toMatch(/still runs MySQL 8\.0 while 8\.4 is recorded: the change is pending/);
  });

  it("fills a part an older program never recorded from what AWS runs", () => {
    const d = decide({ desired: { kubernetes: "1.33" }, own: history({ zenml: "0.97.0" }), live: { kubernetes: "1.34" } });
    expect(d.refusals.join()).toMatch(/below the Kubernetes 1\.34 that AWS runs now \(recorded: none/);
  });
});

describe("EKS standard support calendar", () => {
  const at = (iso: string) => new Date(`${iso}T12:00:00Z`);

  it("has its source and the day it was read, and a date for every version the config accepts", () => {
    expect(EKS_CALENDAR.source).toMatch(/docs\.aws\.amazon\.com\/eks/);
    expect(EKS_CALENDAR.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const minor of [31, 32, 33, 34, 35]) expect(EKS_CALENDAR.standardSupportEnds[`1.${minor}`]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("is not stale today: some version is still in standard support", () => {
    expect(calendarStaleness(new Date())).toBeUndefined();
    expect(calendarStaleness(at("2027-04-01"))).toMatch(/every version in the EKS calendar has left standard support \(newest end 2027-03-27\)/);
  });

  it("is silent more than 90 days before the end", () => {
    expect(eksSupportWarning("staging", "1.35", at("2026-12-01"))).toBeUndefined();
  });

  it("warns within 90 days, with the date, the days left and the source, and asks for the calendar when it lists nothing newer", () => {
    expect(eksSupportWarning("prod", "1.35", at("2027-01-01"))).toMatch(/Kubernetes 1\.35 leaves EKS standard support on 2027-03-27, in 84 day\(s\).*Upgrade to 1\.36 once EKS offers it.*Amazon EKS Kubernetes release calendar.*read 2026-12-02/);
  });

  it("names the right next step when several versions are past support: one minor, then the next, to the first one in support", () => {
    const w = eksSupportWarning("prod", "1.33", at("2026-12-07"))!;
    expect(w).toMatch(/Kubernetes 1\.33 left EKS standard support on 2026-07-29/);
    expect(w).toMatch(/So did 1\.34 \(2026-12-02\)\. Upgrade one minor per update, staging first: 1\.33 -> 1\.34 -> 1\.35 \(1\.35 is in standard support until 2027-03-27\)\. Next step: kubernetesVersion "1\.34"\./);
    expect(upgradePath("1.32", at("2026-12-07"))).toEqual(["1.33", "1.34", "1.35"]);
    expect(upgradePath("1.34", at("2026-08-01"))).toEqual(["1.35"]);
    expect(inStandardSupport("1.35", at("2026-12-07"))).toBe(true);
    expect(inStandardSupport("1.34", at("2026-12-07"))).toBe(false);
  });

  it("asks for the calendar to be completed for a version it lacks", () => {
    expect(eksSupportWarning("prod", "1.36", at("2026-12-02"))).toMatch(/no standard-support end date in the calendar/);
  });
});
