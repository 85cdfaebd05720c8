// Pure rules for the optional MLflow tracking server's pin: the same discipline as ZenML's
// (exact pins, never down, staging first, one part per update, snapshot before migrating),
// built on the shared helpers of version-policy.ts. No Pulumi, no cloud.
import * as semver from "semver";
import { UserFacingError } from "./errors";
import { skippedMinors, type UpgradeKind } from "./version-policy";

/** What a stack reported about MLflow in its previous outputs. */
export interface MlflowHistory {
  /** Version the stack last ran; undefined when MLflow was never on or is off now. */
  deployedVersion?: string;
  /** Every MLflow version the stack has run, oldest first (kept while MLflow is off). */
  versions: string[];
}

export type MlflowDecisionKind = "off" | "turned-off" | Exclude<UpgradeKind, "rollback">;

export interface MlflowDecision {
  kind: MlflowDecisionKind;
  from?: string;
  to?: string;
  warnings: string[];
}

/** Highest version in a history: the schema the MLflow database was last migrated to. */
function highest(versions: readonly string[]): string | undefined {
  return [...versions].filter((v) => semver.valid(v)).sort(semver.compare).pop();
}

/**
 * Classifies moving MLflow from what the stack ran to the pin ("" = off). Refuses a downgrade
 * below any version the database has been migrated to, even after a pause with MLflow off, and
 * an MLflow upgrade in the same update as a ZenML version change (one part per update).
 */
export function decideMlflowUpgrade(stack: string, pinned: string, history: MlflowHistory, zenmlChange: UpgradeKind): MlflowDecision {
  const deployed = history.deployedVersion;
  if (pinned === "") {
    if (deployed === undefined) return { kind: "off", warnings: [] };
    return {
      kind: "turned-off",
      from: deployed,
      warnings: [`Stack "${stack}": mlflowVersion is empty, so the MLflow server ${deployed} is removed. Its databases (mlflow, mlflow_auth) and artifacts stay; setting mlflowVersion again to ${deployed} or later brings them back.`],
    };
  }
  const migratedTo = highest(history.versions);
  if (migratedTo !== undefined && semver.lt(pinned, migratedTo)) {
    throw new UserFacingError(
      `Stack "${stack}": mlflowVersion "${pinned}" is lower than "${migratedTo}", which already migrated the MLflow database. ` +
        `MLflow cannot run on a schema a newer version migrated; to go back, restore the pre-upgrade snapshot ` +
        `mlflow-${stack}-pre-upgrade-*-to-${migratedTo.replace(/\./g, "-")} (see docs/MLFLOW.md, "Rollback") instead of lowering the pin.`,
    );
  }
  if (deployed === undefined) {
    // Re-enabling after a pause is an upgrade of the kept database when the pin moved up.
    if (migratedTo === undefined || semver.eq(pinned, migratedTo)) return { kind: migratedTo ? "unchanged" : "first-deploy", from: migratedTo, to: pinned, warnings: [] };
    return upgrade(stack, migratedTo, pinned, zenmlChange);
  }
  if (semver.eq(pinned, deployed)) return { kind: "unchanged", from: deployed, to: pinned, warnings: [] };
  return upgrade(stack, deployed, pinned, zenmlChange);
}

function upgrade(stack: string, from: string, to: string, zenmlChange: UpgradeKind): MlflowDecision {
  if (zenmlChange === "upgrade" || zenmlChange === "rollback") {
    throw new UserFacingError(
      `Stack "${stack}": this update changes zenmlVersion and mlflowVersion (${from} -> ${to}) at once. ` +
        `Change one versioned part per update so a failure has one cause and one snapshot to restore: deploy the ZenML change first, then MLflow.`,
    );
  }
  const warnings: string[] = [];
  const skipped = skippedMinors(from, to);
  if (skipped.length > 0) {
    warnings.push(`Stack "${stack}": MLflow ${from} -> ${to} jumps over ${skipped.length} minor release(s) (${skipped.join(", ")}); every schema migration between them runs in one Job.`);
  }
  if (semver.major(to) !== semver.major(from)) {
    warnings.push(
      `Stack "${stack}": MLflow ${from} -> ${to} crosses a major version, which may break clients: ` +
        `keep every client (pipeline images, notebooks, ZenML's mlflow integration) at ${semver.major(from)}.x or ${to} and never newer than the server, ` +
        `re-test code using removed or renamed APIs, and read MLflow's ${semver.major(to)}.0 migration notes before applying.`,
    );
  }
  return { kind: "upgrade", from, to, warnings };
}

/** Prod may only run an MLflow version its promotion source has run; the ZenML override reason covers it too. */
export function checkMlflowPromotion(stack: string, pinned: string, source: { stackName: string; versions: string[]; currentVersion?: string }, overrideReason: string): { overridden: boolean; warnings: string[] } {
  if (pinned === "") return { overridden: false, warnings: [] };
  const ran = new Set([...source.versions, ...(source.currentVersion ? [source.currentVersion] : [])]);
  if (ran.has(pinned)) return { overridden: false, warnings: [] };
  const seen = source.currentVersion ? `it runs MLflow "${source.currentVersion}"` : "it runs no MLflow";
  if (overrideReason.trim() !== "") {
    return { overridden: true, warnings: [`Stack "${stack}": promotion gate overridden for mlflowVersion "${pinned}" (${seen} on ${source.stackName}). Reason: ${overrideReason.trim()}`] };
  }
  throw new UserFacingError(
    `Stack "${stack}": mlflowVersion "${pinned}" has not run on ${source.stackName} (${seen}; MLflow versions it ran: ${[...ran].join(", ") || "none"}). ` +
      `Deploy and smoke-test it there first, or for an emergency set promotionOverrideReason.`,
  );
}

/** Same naming rules as ZenML's snapshots (RDS identifiers, attempt numbers), with its own prefix. */
export function mlflowPreUpgradeSnapshotId(environmentName: string, from: string, to: string, alreadyTaken: readonly string[] = []): string {
  const base = `mlflow-${environmentName}-pre-upgrade-${from.replace(/\./g, "-")}-to-${to.replace(/\./g, "-")}`;
  if (!alreadyTaken.includes(base)) return base;
  let attempt = 2;
  while (alreadyTaken.includes(`${base}-attempt-${attempt}`)) attempt++;
  return `${base}-attempt-${attempt}`;
}

/** A digest-pinned image reference whose tag names the MLflow version it carries. */
export const MLFLOW_IMAGE_PATTERN = /^(?<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+):(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})@sha256:[0-9a-f]{64}$/;

/** Why an image reference cannot run this MLflow version, or undefined when it can. */
export function explainBadMlflowImage(image: string, mlflowVersion: string): string | undefined {
  const m = MLFLOW_IMAGE_PATTERN.exec(image);
  if (!m) {
    if (!/@sha256:[0-9a-f]{64}$/.test(image)) return `"${image}" is not pinned by digest (add @sha256:<64 hex digits> of the pushed image)`;
    return `"${image}" is not "<registry>/<repository>:<tag>@sha256:<digest>"`;
  }
  const tag = m.groups!.tag;
  if (tag !== mlflowVersion && tag !== `v${mlflowVersion}`) return `"${image}" is tagged "${tag}", but mlflowVersion is "${mlflowVersion}": the image must carry exactly that release`;
  return undefined;
}
