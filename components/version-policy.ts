// Pure rules for ZenML version pins: what a pin may look like, which moves are upgrades,
// which are refused, and how pre-upgrade snapshots are named. No Pulumi, no cloud.
import * as semver from "semver";
import { UserFacingError } from "./errors";

/** Why a pin string is not an exact release, or undefined when it is one. */
export function explainBadPin(raw: unknown): string | undefined {
  if (typeof raw !== "string") return `must be a string like "0.98.0", got ${JSON.stringify(raw)}`;
  const text = raw.trim();
  if (text !== raw) return `has surrounding whitespace`;
  if (text === "") return `is empty`;
  if (/^(latest|stable|main|master|nightly)$/i.test(text)) return `"${text}" is a moving tag; pin an exact release such as "0.98.0"`;
  if (/^v\d/i.test(text)) return `"${text}" has a "v" prefix; ZenML releases, chart versions and image tags are plain ("${text.slice(1)}")`;
  if (/[\^~*xX<>=|]|\s-\s/.test(text)) return `"${text}" is a range; pin one exact release X.Y.Z`;
  if (/^\d+\.\d+$/.test(text)) return `"${text}" has no patch number; pin X.Y.Z (e.g. "${text}.0")`;
  if (/^\d+\.\d+\.\d+[-+]/.test(text)) return `"${text}" is a pre-release or build; only final releases are deployable`;
  if (!/^\d+\.\d+\.\d+$/.test(text) || semver.valid(text) !== text) return `"${text}" is not an X.Y.Z release number`;
  return undefined;
}

export interface DeploymentHistory {
  /** Version the stack last deployed, from its own previous outputs; undefined on first deploy. */
  deployedVersion?: string;
  /** Latest pre-upgrade snapshot the stack reported, carried forward between updates. */
  latestSnapshot?: string;
  /** Every pre-upgrade snapshot this stack has taken, oldest first. */
  snapshots: string[];
  /** Every version this stack has run, oldest first. */
  versions: string[];
  /** The rollback snapshot whose restored database the stack already runs on, if any. */
  activeRollbackSnapshot?: string;
}

export interface RollbackRequest {
  snapshotIdentifier: string;
  fromVersion: string;
  toVersion: string;
}

export type UpgradeKind = "first-deploy" | "unchanged" | "upgrade" | "rollback";

export interface UpgradeDecision {
  kind: UpgradeKind;
  from?: string;
  to: string;
  warnings: string[];
}

/** Minor releases strictly between from and to, e.g. 0.95 -> 0.98 skips 0.96 and 0.97. */
export function skippedMinors(from: string, to: string): string[] {
  const a = semver.parse(from);
  const b = semver.parse(to);
  if (!a || !b || a.major !== b.major) return [];
  const skipped: string[] = [];
  for (let minor = a.minor + 1; minor < b.minor; minor++) skipped.push(`${a.major}.${minor}`);
  return skipped;
}

/**
 * Decides what moving from the deployed version to the pin means, refusing downgrades.
 * A lower pin is only accepted as an explicit rollback onto a snapshot taken before that upgrade.
 */
export function decideUpgrade(stack: string, pinned: string, history: DeploymentHistory, rollback?: RollbackRequest): UpgradeDecision {
  const deployed = history.deployedVersion;
  const established = history.activeRollbackSnapshot;
  if (established && rollback?.snapshotIdentifier !== established) {
    throw new UserFacingError(
      `Stack "${stack}": the server runs on the database restored from "${established}". Removing or changing ` +
        `rollbackSnapshot would point it at another database and hide everything written since the rollback. ` +
        `Keep rollbackSnapshot: "${established}" (see docs/UPGRADING.md, "After a rollback").`,
    );
  }
  if (rollback && rollback.snapshotIdentifier !== established) return decideRollback(stack, pinned, deployed, rollback);
  if (deployed === undefined) return { kind: "first-deploy", to: pinned, warnings: [] };
  if (semver.eq(pinned, deployed)) return { kind: "unchanged", from: deployed, to: pinned, warnings: [] };
  if (semver.lt(pinned, deployed)) {
    throw new UserFacingError(
      `Stack "${stack}": zenmlVersion "${pinned}" is lower than the deployed "${deployed}". ` +
        `ZenML cannot downgrade a database that a newer server has migrated. To roll back, set ` +
        `rollbackSnapshot to the pre-upgrade snapshot of ${pinned} -> ${deployed} (see docs/UPGRADING.md, "Rollback") ` +
        `and zenmlVersion to "${pinned}"; the upgraded database is kept.`,
    );
  }
  const warnings: string[] = [];
  const skipped = skippedMinors(deployed, pinned);
  if (skipped.length > 0) {
    warnings.push(
      `Stack "${stack}": upgrading ${deployed} -> ${pinned} jumps over ${skipped.length} minor release(s) ` +
        `(${skipped.join(", ")}); read the release notes and migration guides of each before applying.`,
    );
  }
  if (semver.major(pinned) !== semver.major(deployed)) {
    warnings.push(`Stack "${stack}": ${deployed} -> ${pinned} crosses a major version.`);
  }
  return { kind: "upgrade", from: deployed, to: pinned, warnings };
}

/** A new rollback: the pin goes back to the snapshot's "from" version, restored into a new database. */
function decideRollback(stack: string, pinned: string, deployed: string | undefined, rollback: RollbackRequest): UpgradeDecision {
  const { snapshotIdentifier: id, fromVersion, toVersion } = rollback;
  if (pinned !== fromVersion) {
    throw new UserFacingError(
      `Stack "${stack}": rollbackSnapshot "${id}" was taken before the upgrade ${fromVersion} -> ${toVersion}, ` +
        `so zenmlVersion must be set back to "${fromVersion}" (it is "${pinned}").`,
    );
  }
  if (deployed !== undefined && semver.lte(deployed, pinned)) {
    throw new UserFacingError(
      `Stack "${stack}": rollbackSnapshot "${id}" restores the database of ${fromVersion}, but the stack runs "${deployed}", ` +
        `which is not newer: there is nothing to roll back. Clear rollbackSnapshot.`,
    );
  }
  const warnings: string[] = [];
  if (deployed !== undefined && deployed !== toVersion) {
    warnings.push(`Stack "${stack}": rolling back from ${deployed} onto the snapshot taken before ${fromVersion} -> ${toVersion}: everything written since that snapshot stays only in the current database.`);
  }
  return { kind: "rollback", from: deployed, to: pinned, warnings };
}

export interface PromotionSource {
  stackName: string;
  currentVersion?: string;
  versions: string[];
}

/**
 * Prod may only run a version its source stack (staging) has run. An override needs a reason,
 * which the program exports so the exception stays visible.
 */
export function checkPromotion(stack: string, pinned: string, source: PromotionSource, overrideReason: string): { overridden: boolean; warnings: string[] } {
  const ran = new Set([...source.versions, ...(source.currentVersion ? [source.currentVersion] : [])]);
  if (ran.has(pinned)) return { overridden: false, warnings: [] };
  const seen = source.currentVersion ? `it runs "${source.currentVersion}"` : "it reports no deployed version";
  if (overrideReason.trim() !== "") {
    return {
      overridden: true,
      warnings: [`Stack "${stack}": promotion gate overridden for "${pinned}" (${seen} on ${source.stackName}). Reason: ${overrideReason.trim()}`],
    };
  }
  throw new UserFacingError(
    `Stack "${stack}": zenmlVersion "${pinned}" has not run on ${source.stackName} (${seen}; ` +
      `versions it ran: ${[...ran].join(", ") || "none"}). Deploy and smoke-test it there first, or for an emergency set ` +
      `promotionOverrideReason to a reason that will be recorded in the stack outputs.`,
  );
}

const SNAPSHOT_PATTERN = /^zenml-([a-z0-9-]+?)-pre-upgrade-(\d+)-(\d+)-(\d+)-to-(\d+)-(\d+)-(\d+)(?:-attempt-\d+)?$/;

/**
 * RDS identifiers allow letters, digits and single hyphens, so dots become hyphens. The same
 * upgrade can happen twice (upgrade, roll back, upgrade again) and RDS refuses a taken name, so a
 * repeat gets an attempt number.
 */
export function preUpgradeSnapshotId(environmentName: string, from: string, to: string, alreadyTaken: readonly string[] = []): string {
  const base = `zenml-${environmentName}-pre-upgrade-${from.replace(/\./g, "-")}-to-${to.replace(/\./g, "-")}`;
  if (!alreadyTaken.includes(base)) return base;
  let attempt = 2;
  while (alreadyTaken.includes(`${base}-attempt-${attempt}`)) attempt++;
  return `${base}-attempt-${attempt}`;
}

export function parseSnapshotId(id: string): { environmentName: string; fromVersion: string; toVersion: string } | undefined {
  const m = SNAPSHOT_PATTERN.exec(id);
  if (!m) return undefined;
  return { environmentName: m[1], fromVersion: `${m[2]}.${m[3]}.${m[4]}`, toVersion: `${m[5]}.${m[6]}.${m[7]}` };
}

/** Appends an entry to a history, keeping order and no repeats. */
export function recordOnce(history: readonly string[], entry: string): string[] {
  return history.includes(entry) ? [...history] : [...history, entry];
}
