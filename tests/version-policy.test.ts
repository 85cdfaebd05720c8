import { describe, expect, it } from "vitest";
import { UserFacingError } from "../components/errors";
import { FIELDS } from "../components/config";
import {
  EKS_STANDARD_SUPPORT_ENDS,
  PARTS,
  checkPromotion,
  compareDotted,
  decideParts,
  decideUpgrade,
  eksSupportWarning,
  explainBadPin,
  mysqlPreUpgradeSnapshotId,
  parseSnapshotId,
  partsInOrder,
  preUpgradeSnapshotId,
  recordOnce,
  skippedMinors,
} from "../components/version-policy";

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

describe("upgrade decisions", () => {
  const history = (deployedVersion?: string) => ({ deployedVersion, versions: deployedVersion ? [deployedVersion] : [], snapshots: [] });

  it("treats a stack with no previous outputs as a first deploy", () => {
    expect(decideUpgrade("staging", "0.98.0", history()).kind).toBe("first-deploy");
  });

  it("sees an unchanged pin and an upgrade", () => {
    expect(decideUpgrade("staging", "0.98.0", history("0.98.0")).kind).toBe("unchanged");
    const up = decideUpgrade("staging", "0.98.0", history("0.97.0"));
    expect(up).toMatchObject({ kind: "upgrade", from: "0.97.0", to: "0.98.0", warnings: [] });
  });

  it("refuses a downgrade and explains the rollback path", () => {
    expect(() => decideUpgrade("prod", "0.97.0", history("0.98.0"))).toThrow(UserFacingError);
    expect(() => decideUpgrade("prod", "0.97.0", history("0.98.0"))).toThrow(/cannot downgrade.*rollbackSnapshot.*0\.97\.0 -> 0\.98\.0/s);
  });

  it("warns, listing the range, when an upgrade jumps over minor releases", () => {
    const up = decideUpgrade("staging", "0.98.1", history("0.95.2"));
    expect(up.kind).toBe("upgrade");
    expect(up.warnings.join()).toMatch(/2 minor release\(s\) \(0\.96, 0\.97\)/);
    expect(skippedMinors("0.97.0", "0.98.0")).toEqual([]);
  });

  const rollback = { snapshotIdentifier: "zenml-staging-pre-upgrade-0-97-0-to-0-98-0", fromVersion: "0.97.0", toVersion: "0.98.0" };

  it("accepts a rollback onto the snapshot's from-version", () => {
    expect(decideUpgrade("staging", "0.97.0", history("0.98.0"), rollback).kind).toBe("rollback");
  });

  it("refuses a rollback whose pin is not the snapshot's from-version", () => {
    expect(() => decideUpgrade("staging", "0.96.0", history("0.98.0"), rollback)).toThrow(/must be set back to "0\.97\.0"/);
  });

  it("refuses a rollback when nothing newer is deployed", () => {
    expect(() => decideUpgrade("staging", "0.97.0", history("0.97.0"), rollback)).toThrow(/nothing to roll back/);
  });

  it("after a rollback, keeps the restored database and allows upgrading again", () => {
    const after = { ...history("0.97.0"), activeRollbackSnapshot: rollback.snapshotIdentifier };
    expect(decideUpgrade("staging", "0.97.0", after, rollback).kind).toBe("unchanged");
    expect(decideUpgrade("staging", "0.98.1", after, rollback).kind).toBe("upgrade");
    expect(() => decideUpgrade("staging", "0.97.0", after)).toThrow(/runs on the database restored from/);
  });
});

describe("promotion gate", () => {
  const source = { stackName: "organization/zenml-platform/staging", currentVersion: "0.98.0", versions: ["0.97.0", "0.98.0"] };

  it("accepts a version staging has run", () => {
    expect(checkPromotion("prod", "0.97.0", source, "")).toEqual({ overridden: false, warnings: [] });
    expect(checkPromotion("prod", "0.98.0", source, "").overridden).toBe(false);
  });

  it("refuses a version staging has not run", () => {
    expect(() => checkPromotion("prod", "0.99.0", source, "")).toThrow(/"0\.99\.0" has not run on organization\/zenml-platform\/staging.*promotionOverrideReason/s);
    expect(() => checkPromotion("prod", "0.97.5", source, "")).toThrow(UserFacingError);
  });

  it("lets an override through and keeps the reason", () => {
    const gate = checkPromotion("prod", "0.99.0", source, "CVE-2026-1234 hotfix, staging down");
    expect(gate.overridden).toBe(true);
    expect(gate.warnings.join()).toMatch(/CVE-2026-1234 hotfix/);
  });
});

describe("snapshot names", () => {
  it("round-trip through RDS-safe identifiers", () => {
    const id = preUpgradeSnapshotId("staging", "0.97.0", "0.98.0");
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
    const first = preUpgradeSnapshotId("prod", "0.97.0", "0.98.0");
    const second = preUpgradeSnapshotId("prod", "0.97.0", "0.98.0", [first]);
    expect(second).toBe(`${first}-attempt-2`);
    expect(preUpgradeSnapshotId("prod", "0.97.0", "0.98.0", [first, second])).toBe(`${first}-attempt-3`);
    expect(parseSnapshotId(second)).toEqual({ environmentName: "prod", fromVersion: "0.97.0", toVersion: "0.98.0" });
  });
});

describe("the parts registry", () => {
  const base = { stack: "staging", deployedBefore: true, promotionOverrideReason: "" };
  const own = (versions: Record<string, string>) => Object.fromEntries(Object.entries(versions).map(([p, v]) => [p, { deployed: v, versions: [v] }]));

  it("compares every part's version format number by number", () => {
    expect(compareDotted("1.34", "1.33")).toBeGreaterThan(0);
    expect(compareDotted("1.9", "1.10")).toBeLessThan(0);
    expect(compareDotted("8.4", "8.4")).toBe(0);
    expect(compareDotted("v4.10.0-eksbuild.1", "v4.9.0-eksbuild.3")).toBeGreaterThan(0);
    expect(compareDotted("v4.1.0-eksbuild.2", "v4.1.0-eksbuild.1")).toBeGreaterThan(0);
  });

  it("lists the parts in upgrade order, infrastructure first", () => {
    expect(partsInOrder().map((p) => p.name)).toEqual(["kubernetes", "addon:amazon-cloudwatch-observability", "mysql", "zenml", "mlflow"]);
    for (const p of Object.values(PARTS)) if (p.configKey) expect(p.configKey in FIELDS, p.name).toBe(true);
  });

  it("lets an add-on move with its cluster in one update, not with anything else", () => {
    const moved = decideParts({ ...base, desired: { kubernetes: "1.34", "addon:amazon-cloudwatch-observability": "v2.0.0-eksbuild.1" }, own: own({ kubernetes: "1.33", "addon:amazon-cloudwatch-observability": "v1.0.0-eksbuild.1" }) });
    expect(moved.refusals).toEqual([]);
    expect(moved.entries.map((e) => e.move)).toEqual(["upgrade", "upgrade"]);
    const both = decideParts({ ...base, desired: { mysql: "8.4", "addon:amazon-cloudwatch-observability": "v2.0.0-eksbuild.1" }, own: own({ mysql: "8.0", "addon:amazon-cloudwatch-observability": "v1.0.0-eksbuild.1" }) });
    expect(both.refusals.join()).toMatch(/moves 2 parts at once.*1\. addon:amazon-cloudwatch-observability.*2\. mysql/);
  });

  it("treats every part as a first deploy on a stack never deployed, without warnings", () => {
    const d = decideParts({ ...base, deployedBefore: false, desired: { kubernetes: "1.33", mysql: "8.4" }, own: {} });
    expect(d.entries.map((e) => e.move)).toEqual(["first-deploy", "first-deploy"]);
    expect(d.warnings).toEqual([]);
  });

  it("refuses MySQL steps other than 8.0 -> 8.4", () => {
    expect(decideParts({ ...base, desired: { mysql: "8.4" }, own: own({ mysql: "5.7" }) }).refusals.join()).toMatch(/only supported step here is 8\.0 -> 8\.4/);
  });

  it("does not gate a part the promotion source never recorded, and says so", () => {
    const d = decideParts({ ...base, stack: "prod", desired: { kubernetes: "1.34" }, own: own({ kubernetes: "1.33" }), source: { stackName: "o/p/staging", parts: {} } });
    expect(d.refusals).toEqual([]);
    expect(d.warnings.join()).toMatch(/reports no kubernetes history/);
  });

  it("gates only what prod moves to or first deploys, not a version it already runs", () => {
    const source = { stackName: "o/p/staging", parts: { kubernetes: { deployed: "1.34", versions: ["1.34"] } } };
    expect(decideParts({ ...base, stack: "prod", desired: { kubernetes: "1.33" }, own: own({ kubernetes: "1.33" }), source }).refusals).toEqual([]);
    expect(decideParts({ ...base, stack: "prod", deployedBefore: false, desired: { kubernetes: "1.33" }, own: {}, source }).refusals.join()).toMatch(/has not run on o\/p\/staging/);
  });

  it("takes a new part as one registry entry: ordered, stepped and counted like the others", () => {
    // The registry is shared by every file a test worker runs: the real entry comes back after.
    const registered = PARTS.mlflow;
    PARTS.mlflow = { name: "mlflow", configKey: "mlflowVersion", order: 50, noDowngrade: "MLflow cannot downgrade a migrated database", effects: () => ["mlflow db upgrade"] };
    try {
      const d = decideParts({ ...base, desired: { zenml: "0.98.0", mlflow: "3.1.0" }, own: own({ zenml: "0.97.0", mlflow: "3.0.0" }), zenml: { kind: "upgrade" } });
      expect(d.refusals.join()).toMatch(/1\. zenml 0\.97\.0 -> 0\.98\.0 \(zenmlVersion\), 2\. mlflow 3\.0\.0 -> 3\.1\.0 \(mlflowVersion\)/);
      expect(decideParts({ ...base, desired: { mlflow: "2.9.0" }, own: own({ mlflow: "3.0.0" }) }).refusals.join()).toMatch(/mlflowVersion "2\.9\.0" for mlflow is lower than the deployed "3\.0\.0": MLflow cannot downgrade/);
    } finally {
      PARTS.mlflow = registered;
    }
  });

  it("names each MySQL pre-upgrade snapshot apart from ZenML's, with attempts", () => {
    expect(mysqlPreUpgradeSnapshotId("prod", "8.0", "8.4")).toBe("zenml-prod-pre-mysql-upgrade-8-0-to-8-4");
    expect(mysqlPreUpgradeSnapshotId("prod", "8.0", "8.4", ["zenml-prod-pre-mysql-upgrade-8-0-to-8-4"])).toBe("zenml-prod-pre-mysql-upgrade-8-0-to-8-4-attempt-2");
    expect(parseSnapshotId("zenml-prod-pre-mysql-upgrade-8-0-to-8-4")).toBeUndefined();
  });
});

describe("EKS standard support warning", () => {
  const at = (iso: string) => new Date(`${iso}T12:00:00Z`);

  it("is silent more than 90 days before the end", () => {
    expect(eksSupportWarning("staging", "1.35", at("2026-12-01"))).toBeUndefined();
  });

  it("warns within 90 days, with the date, the days left, the next version and the source", () => {
    expect(eksSupportWarning("prod", "1.35", at("2027-01-01"))).toMatch(/Kubernetes 1\.35 leaves EKS standard support on 2027-03-27, in 84 day\(s\).*Upgrade to 1\.36.*Amazon EKS Kubernetes release calendar/);
  });

  it("says when the end has passed", () => {
    expect(eksSupportWarning("prod", "1.33", at("2026-12-02"))).toMatch(/left EKS standard support on 2026-07-29/);
  });

  it("asks for the table to be completed for a version it lacks", () => {
    expect(eksSupportWarning("prod", "1.36", at("2026-12-02"))).toMatch(/no standard-support end date in the table/);
  });

  it("has a date for every version the config accepts", () => {
    for (const minor of [31, 32, 33, 34, 35]) expect(EKS_STANDARD_SUPPORT_ENDS[`1.${minor}`]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
