// Every versioned part, one registry: its pin, where its releases come from, how it may move and
// what moving it does. The decision (version-policy.ts), the history (part-history.ts), the plan's
// --deployed/--live, bump, promote, the staging gate, the release watch and the dossier all read
// these entries; a new part is one entry here. Pure: no Pulumi, no cloud.
import * as semver from "semver";

/** Versions like "1.33", "8.4", "0.98.0" or "v4.1.0-eksbuild.1", compared number by number. */
export function compareDotted(a: string, b: string): number {
  const nums = (v: string) => (v.match(/\d+/g) ?? []).map(Number);
  const [x, y] = [nums(a), nums(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

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

/** Minor releases strictly between from and to, e.g. 0.95 -> 0.98 skips 0.96 and 0.97. */
export function skippedMinors(from: string, to: string): string[] {
  const a = semver.parse(from);
  const b = semver.parse(to);
  if (!a || !b || a.major !== b.major) return [];
  const skipped: string[] = [];
  for (let minor = a.minor + 1; minor < b.minor; minor++) skipped.push(`${a.major}.${minor}`);
  return skipped;
}

/** Where a part's new versions are published, for the release watch. */
export type ReleaseSource =
  | { kind: "pypi"; project: string }
  | { kind: "eks-cluster-versions" }
  | { kind: "eks-addon-versions"; addon: string }
  | { kind: "rds-engine-versions"; engine: "mysql" };

/** What AWS can change on its own, read at every preview and update. */
export type LiveReader = "eks-cluster-version" | "rds-engine-major" | "eks-addon-version";

export interface PartRule {
  /** Name in outputs, reports, `--deployed`/`--live name=version` and `--part`. */
  name: string;
  /** For people: "ZenML", "Kubernetes"... */
  label: string;
  /** Config key that pins it (add-ons: their entry in eksAddonVersions). */
  configKey: string;
  /** Position when several parts are due: infrastructure first, applications last. */
  order: number;
  /** Why a pin is not a version of this part, or undefined. */
  explainBadVersion: (v: string) => string | undefined;
  /** Part whose move legitimately carries this one in the same update (add-ons follow the cluster). */
  follows?: string;
  /** Off while its config key is "" (MLflow): the reason a bump is refused, and the warning when turned off. */
  optional?: { offReason: string; turnedOff: (stack: string, running: string) => string };
  /** AWS may move it on its own; the program reads what runs and records such a move. */
  live?: { reader: LiveReader; why: string };
  /** A retained RDS snapshot is taken before it moves; ids are `<prefix(env)>-<from>-to-<to>`. */
  snapshot?: { prefix: (environmentName: string) => string; versionParts: number };
  /** It can be rolled back onto its pre-upgrade snapshot (rollbackSnapshot). */
  rollback?: boolean;
  /** Why going down is impossible, for the refusal. */
  noDowngrade: string;
  /** A refusal when from -> to is not one allowed step, else undefined. */
  checkStep?: (from: string, to: string) => string | undefined;
  /** Warnings for an accepted step (skipped minors, client compatibility). */
  stepWarnings?: (stack: string, from: string, to: string) => string[];
  /** What an accepted upgrade does when applied. */
  effects: (from: string, to: string) => string[];
  /** Where its releases are published. */
  releases: ReleaseSource;
  /** Another key that must carry the same move in the same change (bump and promote say so; the program refuses until it does). */
  movesWith?: { configKey: string; how: (to: string) => string };
}

/** Add-ons the program installs through aws.eks.Addon; each is a part named "addon:<name>". */
export const EKS_ADDONS = ["amazon-cloudwatch-observability"] as const;
export const addonPart = (addon: string) => `addon:${addon}`;
export const addonOf = (part: string) => (part.startsWith("addon:") ? part.slice("addon:".length) : undefined);
/** The config key every add-on pin lives in. */
export const ADDON_PINS_KEY = "eksAddonVersions";

const minorOf = (v: string) => Number(v.split(".")[1]);
const matches = (pattern: RegExp, example: string) => (v: string) => (pattern.test(v) ? undefined : `"${v}" is not a version like "${example}"`);

/** Skipped minors and a crossed major, for any X.Y.Z part; `major` says what crossing one means for it. */
function releaseStepWarnings(label: string, major: (from: string, to: string) => string) {
  return (stack: string, from: string, to: string): string[] => {
    const warnings: string[] = [];
    const skipped = skippedMinors(from, to);
    if (skipped.length > 0) warnings.push(`Stack "${stack}": upgrading ${label} ${from} -> ${to} jumps over ${skipped.length} minor release(s) (${skipped.join(", ")}); read the release notes and migration guides of each before applying.`);
    if (semver.valid(from) && semver.valid(to) && semver.major(to) !== semver.major(from)) warnings.push(`Stack "${stack}": ${label} ${from} -> ${to} crosses a major version${major(from, to)}`);
    return warnings;
  };
}

/** What an accepted MLflow step warns about: skipped minors, and a major that may break clients. */
export const mlflowStepWarnings = releaseStepWarnings(
  "MLflow",
  (from, to) =>
    `, which may break clients: keep every client (pipeline images, notebooks, ZenML's mlflow integration) at ${semver.major(from)}.x or ${to} and never newer than the server, ` +
    `re-test code using removed or renamed APIs, and read MLflow's ${semver.major(to)}.0 migration notes before applying.`,
);

const addonEntry = (addon: string): PartRule => ({
  name: addonPart(addon),
  label: `EKS add-on ${addon}`,
  configKey: ADDON_PINS_KEY,
  order: 20,
  explainBadVersion: matches(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/, "v4.1.0-eksbuild.1"),
  follows: "kubernetes",
  live: { reader: "eks-addon-version", why: "an add-on updated outside this program (console, eksctl)" },
  noDowngrade: "EKS add-on versions only move forward here; pin the deployed one in eksAddonVersions",
  effects: (from, to) => [`EKS add-on ${addon} ${from} -> ${to} (rolling restart of its pods)`],
  releases: { kind: "eks-addon-versions", addon },
});

export const PARTS: Record<string, PartRule> = {
  kubernetes: {
    name: "kubernetes",
    label: "Kubernetes",
    configKey: "kubernetesVersion",
    order: 10,
    explainBadVersion: matches(/^1\.\d+$/, "1.35"),
    live: { reader: "eks-cluster-version", why: "EKS upgrades a cluster by itself when its version leaves standard support (upgradePolicy STANDARD)" },
    noDowngrade: "EKS cannot downgrade a cluster's Kubernetes version",
    // EKS updates the control plane one minor version per update and refuses a larger jump at apply time.
    checkStep: (from, to) =>
      minorOf(to) - minorOf(from) > 1 ? `EKS upgrades one minor version per update: go ${from} -> 1.${minorOf(from) + 1} first, then on` : undefined,
    effects: (from, to) => [
      `EKS control plane ${from} -> ${to} (in place, API stays up)`,
      "Auto Mode replaces every node (drift), one node at a time per the NodePool disruption budget, server pods moved under their PodDisruptionBudget",
      "add-ons re-resolved for the new cluster version, after the control plane",
    ],
    releases: { kind: "eks-cluster-versions" },
  },
  ...Object.fromEntries(EKS_ADDONS.map((addon) => [addonPart(addon), addonEntry(addon)])),
  mysql: {
    name: "mysql",
    label: "MySQL",
    configKey: "dbEngineVersion",
    order: 30,
    explainBadVersion: matches(/^\d+\.\d+$/, "8.4"),
    live: { reader: "rds-engine-major", why: "a major upgrade made outside this program (console, CLI)" },
    snapshot: { prefix: (env) => `zenml-${env}-pre-mysql-upgrade`, versionParts: 2 },
    noDowngrade: "RDS cannot downgrade a MySQL major version",
    // RDS upgrades majors in place one at a time (5.7 -> 8.0 -> 8.4); ours only knows 8.0 and 8.4.
    checkStep: (from, to) => (!(from === "8.0" && to === "8.4") ? `RDS upgrades MySQL majors one at a time; the only supported step here is 8.0 -> 8.4` : undefined),
    effects: (from, to) => [
      "retained pre-upgrade RDS snapshot, available before the instance changes",
      `parameter group of family mysql${to} created before the switch`,
      `MySQL ${from} -> ${to} with allowMajorVersionUpgrade in this update only (downtime while RDS upgrades; in the maintenance window unless dbMajorUpgradeApplyImmediately)`,
    ],
    releases: { kind: "rds-engine-versions", engine: "mysql" },
  },
  zenml: {
    name: "zenml",
    label: "ZenML",
    configKey: "zenmlVersion",
    order: 40,
    explainBadVersion: explainBadPin,
    snapshot: { prefix: (env) => `zenml-${env}-pre-upgrade`, versionParts: 3 },
    rollback: true,
    noDowngrade: "ZenML cannot downgrade a database that a newer server has migrated",
    stepWarnings: releaseStepWarnings("ZenML", () => "."),
    effects: () => ["retained pre-upgrade RDS snapshot, available before the Helm release", "Helm migration hook (zenml migrate-database)", "rolling restart of the server (maxUnavailable 0)"],
    releases: { kind: "pypi", project: "zenml" },
  },
  mlflow: {
    name: "mlflow",
    label: "MLflow",
    configKey: "mlflowVersion",
    order: 50,
    explainBadVersion: explainBadPin,
    optional: {
      offReason: 'mlflowVersion is "" in this stack, so no MLflow server runs here; turn it on first (mlflowVersion, mlflowImage and mlflowHostname together, staging first: docs/MLFLOW.md)',
      turnedOff: (stack, running) =>
        `Stack "${stack}": mlflowVersion is empty, so the MLflow server ${running} is removed. Its databases (mlflow, mlflow_auth) and artifacts stay; setting mlflowVersion again to ${running} or later brings them back.`,
    },
    snapshot: { prefix: (env) => `mlflow-${env}-pre-upgrade`, versionParts: 3 },
    noDowngrade: "MLflow cannot run on a database schema a newer version migrated; restore its pre-upgrade snapshot instead (docs/MLFLOW.md, Rollback)",
    stepWarnings: mlflowStepWarnings,
    effects: (from, to) => [
      `MLflow server ${from} scaled to zero`,
      "retained pre-upgrade RDS snapshot, after the scale-down",
      `migration Job with ${to} (mlflow db upgrade, then the basic-auth store), after the snapshot`,
      `MLflow server ${to} started after the Job`,
    ],
    releases: { kind: "pypi", project: "mlflow" },
    movesWith: {
      configKey: "mlflowImage",
      how: (to) =>
        `empty (our image): lock it for ${to} with \`npm run lock-images -- --image mlflow --version ${to}\` and let the images workflow build it; an image of your own: "<registry>/<repository>:${to}@sha256:<digest>" (docs/MLFLOW.md)`,
    },
  },
};

export const partsInOrder = (): PartRule[] => Object.values(PARTS).sort((a, b) => a.order - b.order);

/** The rule of a part name, or a refusal naming the parts there are. */
export function partRule(name: string): PartRule {
  const rule = PARTS[name];
  if (!rule) throw new Error(`unknown part "${name}" (parts: ${partsInOrder().map((p) => p.name).join(", ")})`);
  return rule;
}

/** Highest version in a list, by the part's own ordering. */
export function highestVersion(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareDotted).pop();
}

// One snapshot name for every part that snapshots before it moves. RDS identifiers allow letters,
// digits and single hyphens, so dots become hyphens. The same move can happen twice (upgrade, roll
// back, upgrade again) and RDS refuses a taken name, so a repeat gets an attempt number.

/** The identifier of the snapshot taken before `part` moves from -> to in this environment. */
export function snapshotId(part: string, environmentName: string, from: string, to: string, alreadyTaken: readonly string[] = []): string {
  const naming = partRule(part).snapshot;
  if (!naming) throw new Error(`${part} takes no pre-upgrade snapshot`);
  const base = `${naming.prefix(environmentName)}-${from.replace(/\./g, "-")}-to-${to.replace(/\./g, "-")}`;
  if (!alreadyTaken.includes(base)) return base;
  let attempt = 2;
  while (alreadyTaken.includes(`${base}-attempt-${attempt}`)) attempt++;
  return `${base}-attempt-${attempt}`;
}

function snapshotPattern(part: string): RegExp | undefined {
  const naming = PARTS[part]?.snapshot;
  if (!naming) return undefined;
  const version = `(\\d+(?:-\\d+){${naming.versionParts - 1}})`;
  return new RegExp(`^${naming.prefix("([a-z0-9-]+?)")}-${version}-to-${version}(?:-attempt-\\d+)?$`);
}

/** What a snapshot id says (environment, from, to) when it is `part`'s; ZenML's by default, the one rollbackSnapshot takes. */
export function parseSnapshotId(id: string, part = "zenml"): { environmentName: string; fromVersion: string; toVersion: string } | undefined {
  const m = snapshotPattern(part)?.exec(id);
  if (!m) return undefined;
  return { environmentName: m[1], fromVersion: m[2].replace(/-/g, "."), toVersion: m[3].replace(/-/g, ".") };
}

/** The part a snapshot id was taken for, if it is one of ours. */
export function snapshotPartOf(id: string): string | undefined {
  return Object.keys(PARTS).find((part) => parseSnapshotId(id, part) !== undefined);
}
