// Pure rules for the optional MLflow tracking server's pin. The shared discipline (never down,
// one part per update, staging first, warnings, effects) is PARTS.mlflow in version-policy.ts;
// this adds what being optional needs, the image reference and snapshot naming. No Pulumi.
import * as semver from "semver";
import type { PartHistory } from "../version-policy";

/** The basic-auth admin the program creates; pure, so the smoke CLI can name it without Pulumi. */
export const MLFLOW_ADMIN_USER = "admin";

/** Highest version in a history: the schema the MLflow database was last migrated to. */
export function highestVersion(versions: readonly string[]): string | undefined {
  return [...versions].filter((v) => semver.valid(v)).sort(semver.compare).pop();
}

/**
 * What the version registry (version-policy.ts PARTS.mlflow) should compare the pin with. MLflow
 * is optional: while it is off the stack records no deployed version but keeps its history, and
 * its databases stay. Turning it on again must be checked against the schema those databases
 * were last migrated to, so a paused part counts as deployed at its highest version.
 */
export function mlflowRecordForPolicy(own: PartHistory | undefined): PartHistory | undefined {
  if (!own || own.deployed !== undefined || own.versions.length === 0) return own;
  return { deployed: highestVersion(own.versions), versions: own.versions };
}

/** A warning when this update turns a running MLflow off (its data stays). */
export function mlflowTurnedOffWarning(stack: string, pinned: string, own: PartHistory | undefined): string | undefined {
  if (pinned !== "" || own?.deployed === undefined) return undefined;
  return `Stack "${stack}": mlflowVersion is empty, so the MLflow server ${own.deployed} is removed. Its databases (mlflow, mlflow_auth) and artifacts stay; setting mlflowVersion again to ${own.deployed} or later brings them back.`;
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
