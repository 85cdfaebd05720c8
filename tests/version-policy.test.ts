import { describe, expect, it } from "vitest";
import { UserFacingError } from "../components/errors";
import { checkPromotion, decideUpgrade, explainBadPin, parseSnapshotId, preUpgradeSnapshotId, recordOnce, skippedMinors } from "../components/version-policy";

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
