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

// ---------------------------------------------------------------------------------------------
// Every versioned part, one registry. ZenML's pin keeps its own rules above (rollback, snapshot
// naming); the registry adds the rules every part shares: never down, one part per update,
// staging first, and the part's own step rule. A new part is one PARTS entry (its config key,
// order, step rule and effects): the program, the plan's --deployed and the outputs pick it up.

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

export interface PartRule {
  /** Name in outputs, reports and `--deployed name=version`. */
  name: string;
  /** Config key that pins it ("" for parts derived from another part, e.g. add-ons). */
  configKey: string;
  /** Position in the order parts are upgraded in when several are due: infrastructure first, applications last. */
  order: number;
  /** Part whose move legitimately carries this one in the same update (add-ons follow the cluster version). */
  follows?: string;
  /** Off unless its config key is set (MLflow): no record means it never ran, not "deployed by an older program". */
  optional?: boolean;
  /** Why going down is impossible, for the refusal. */
  noDowngrade: string;
  /** A refusal when from -> to is not one allowed step, else undefined. */
  checkStep?: (from: string, to: string) => string | undefined;
  /** Warnings for an accepted step. */
  stepWarnings?: (stack: string, from: string, to: string) => string[];
  /** What an accepted upgrade does when applied. */
  effects: (from: string, to: string) => string[];
}

/** Add-ons the program installs through aws.eks.Addon; each is a part named "addon:<name>". */
export const EKS_ADDONS = ["amazon-cloudwatch-observability"] as const;

export const addonPart = (addon: string) => `addon:${addon}`;

const minorOf = (v: string) => Number(v.split(".")[1]);

export const PARTS: Record<string, PartRule> = {
  kubernetes: {
    name: "kubernetes",
    configKey: "kubernetesVersion",
    order: 10,
    noDowngrade: "EKS cannot downgrade a cluster's Kubernetes version",
    // EKS updates the control plane one minor version per update and refuses a larger jump at apply time.
    checkStep: (from, to) =>
      minorOf(to) - minorOf(from) > 1 ? `EKS upgrades one minor version per update: go ${from} -> 1.${minorOf(from) + 1} first, then on` : undefined,
    effects: (from, to) => [
      `EKS control plane ${from} -> ${to} (in place, API stays up)`,
      "Auto Mode replaces every node (drift), one node at a time per the NodePool disruption budget, server pods moved under their PodDisruptionBudget",
      "add-ons re-resolved for the new cluster version, after the control plane",
    ],
  },
  ...Object.fromEntries(
    EKS_ADDONS.map((addon) => [
      addonPart(addon),
      {
        name: addonPart(addon),
        configKey: "",
        order: 20,
        follows: "kubernetes",
        noDowngrade: "EKS add-on versions only move forward here; pin the deployed one in eksAddonVersions",
        effects: (from: string, to: string) => [`EKS add-on ${addon} ${from} -> ${to} (rolling restart of its pods)`],
      } satisfies PartRule,
    ]),
  ),
  mysql: {
    name: "mysql",
    configKey: "dbEngineVersion",
    order: 30,
    noDowngrade: "RDS cannot downgrade a MySQL major version",
    // RDS upgrades majors in place one at a time (5.7 -> 8.0 -> 8.4); ours only knows 8.0 and 8.4.
    checkStep: (from, to) => (!(from === "8.0" && to === "8.4") ? `RDS upgrades MySQL majors one at a time; the only supported step here is 8.0 -> 8.4` : undefined),
    effects: (from, to) => [
      "retained pre-upgrade RDS snapshot, available before the instance changes",
      `parameter group of family mysql${to} created before the switch`,
      `MySQL ${from} -> ${to} with allowMajorVersionUpgrade in this update only (downtime while RDS upgrades; in the maintenance window unless dbMajorUpgradeApplyImmediately)`,
    ],
  },
  zenml: {
    name: "zenml",
    configKey: "zenmlVersion",
    order: 40,
    noDowngrade: "ZenML cannot downgrade a database that a newer server has migrated",
    stepWarnings: (stack, from, to) => decideUpgrade(stack, to, { deployedVersion: from, versions: [from], snapshots: [] }).warnings,
    effects: () => ["retained pre-upgrade RDS snapshot, available before the Helm release", "Helm migration hook (zenml migrate-database)", "rolling restart of the server (maxUnavailable 0)"],
  },
  // Optional: only registered while mlflowVersion is set (components/mlflow-policy.ts).
  mlflow: {
    name: "mlflow",
    configKey: "mlflowVersion",
    order: 50,
    optional: true,
    noDowngrade: "MLflow cannot run on a database schema a newer version migrated; restore its pre-upgrade snapshot instead (docs/MLFLOW.md, Rollback)",
    stepWarnings: (stack, from, to) => mlflowStepWarnings(stack, from, to),
    effects: (from, to) => [
      `MLflow server ${from} scaled to zero`,
      "retained pre-upgrade RDS snapshot, after the scale-down",
      `migration Job with ${to} (mlflow db upgrade, then the basic-auth store), after the snapshot`,
      `MLflow server ${to} started after the Job`,
    ],
  },
};

/** What an accepted MLflow step warns about: skipped minors, and a major that may break clients. */
export function mlflowStepWarnings(stack: string, from: string, to: string): string[] {
  const warnings: string[] = [];
  const skipped = skippedMinors(from, to);
  if (skipped.length > 0) warnings.push(`Stack "${stack}": MLflow ${from} -> ${to} jumps over ${skipped.length} minor release(s) (${skipped.join(", ")}); every schema migration between them runs in one Job.`);
  if (semver.major(to) !== semver.major(from)) {
    warnings.push(
      `Stack "${stack}": MLflow ${from} -> ${to} crosses a major version, which may break clients: ` +
        `keep every client (pipeline images, notebooks, ZenML's mlflow integration) at ${semver.major(from)}.x or ${to} and never newer than the server, ` +
        `re-test code using removed or renamed APIs, and read MLflow's ${semver.major(to)}.0 migration notes before applying.`,
    );
  }
  return warnings;
}

export const partsInOrder = (): PartRule[] => Object.values(PARTS).sort((a, b) => a.order - b.order);

export type PartMove = "first-deploy" | "first-record" | "unchanged" | "upgrade" | "rollback" | "refused";

export interface PartReportEntry {
  part: string;
  configKey: string;
  deployed: string | null;
  desired: string;
  move: PartMove;
  /** What applying it does (empty when nothing changes). */
  effects: string[];
  /** Why it was refused (move "refused"). */
  refused?: string;
}

export interface PartHistory {
  /** Version last deployed, from the stack's outputs; undefined when the stack never recorded it. */
  deployed?: string;
  /** Every version this stack has run, oldest first. */
  versions: string[];
}

export interface PartsInput {
  stack: string;
  /** The desired version of every part, by part name. */
  desired: Record<string, string>;
  /** What the stack recorded per part. */
  own: Record<string, PartHistory>;
  /** Whether the stack was ever deployed (a missing part record then means "deployed by an older program"). */
  deployedBefore: boolean;
  /** The promotion source's records per part, for prod; undefined for staging. */
  source?: { stackName: string; parts: Record<string, PartHistory> };
  promotionOverrideReason: string;
  /** ZenML's decision, made by decideUpgrade (it knows rollbacks); its refusal message when it refused. */
  zenml?: { kind: UpgradeKind; refused?: string };
}

export interface PartsDecision {
  entries: PartReportEntry[];
  refusals: string[];
  warnings: string[];
  overridden: string[];
}

/**
 * Decides every part's move at once and collects every refusal: lower pins, jumps larger than the
 * part's step, more than one part moving, and (prod) versions the promotion source never ran.
 */
export function decideParts(input: PartsInput): PartsDecision {
  const { stack } = input;
  const entries: PartReportEntry[] = [];
  const refusals: string[] = [];
  const warnings: string[] = [];
  const overridden: string[] = [];
  for (const rule of partsInOrder()) {
    const desired = input.desired[rule.name];
    if (desired === undefined) continue;
    const own = input.own[rule.name] ?? { versions: [] };
    const deployed = own.deployed;
    const key = rule.configKey || "eksAddonVersions";
    const entry: PartReportEntry = { part: rule.name, configKey: key, deployed: deployed ?? null, desired, move: "unchanged", effects: [] };
    entries.push(entry);
    const refuse = (why: string) => {
      entry.move = "refused";
      entry.refused = why;
      refusals.push(why);
    };
    if (rule.name === "zenml" && input.zenml) {
      if (input.zenml.refused) refuse(input.zenml.refused);
      else entry.move = input.zenml.kind;
      if (entry.move === "upgrade" && deployed) entry.effects = rule.effects(deployed, desired);
      if (entry.move === "rollback") entry.effects = ["restore the pre-upgrade snapshot into a new instance", "Helm release back to the snapshot's version"];
    } else if (deployed === undefined) {
      entry.move = input.deployedBefore && !rule.optional ? "first-record" : "first-deploy";
      if (entry.move === "first-record") warnings.push(`Stack "${stack}": no ${rule.name} version was recorded by the last update (an older program deployed it); recording "${desired}" now, so the next change is checked.`);
    } else {
      const order = compareDotted(desired, deployed);
      if (order < 0) refuse(`Stack "${stack}": ${key} "${desired}" for ${rule.name} is lower than the deployed "${deployed}": ${rule.noDowngrade}. Set it back to "${deployed}" or higher.`);
      else if (order > 0) {
        const step = rule.checkStep?.(deployed, desired);
        if (step) refuse(`Stack "${stack}": ${key} ${deployed} -> ${desired} for ${rule.name} is refused: ${step}.`);
        else {
          entry.move = "upgrade";
          entry.effects = rule.effects(deployed, desired);
          warnings.push(...(rule.stepWarnings?.(stack, deployed, desired) ?? []));
        }
      }
    }
    // ZenML's own gate (checkPromotion) runs in the program; this covers every other part, when it
    // moves or is first deployed (a version prod already runs is not a promotion).
    if (input.source && (entry.move === "upgrade" || entry.move === "first-deploy") && rule.name !== "zenml") {
      // A source that records its parts but not an optional one never ran it.
      const recordsParts = Object.keys(input.source.parts).some((p) => p !== "zenml");
      const ran = input.source.parts[rule.name] ?? (rule.optional && recordsParts ? { versions: [] } : undefined);
      if (ran === undefined || (!rule.optional && ran.versions.length === 0 && ran.deployed === undefined)) {
        warnings.push(`Stack "${stack}": ${input.source.stackName} reports no ${rule.name} history (deployed by an older program); the promotion gate for ${rule.name} is not checked this time.`);
      } else if (!new Set([...ran.versions, ...(ran.deployed ? [ran.deployed] : [])]).has(desired)) {
        const seen = ran.deployed ? `it runs "${ran.deployed}"` : "it reports no deployed version";
        if (input.promotionOverrideReason.trim() !== "") {
          overridden.push(rule.name);
          warnings.push(`Stack "${stack}": promotion gate overridden for ${rule.name} "${desired}" (${seen} on ${input.source.stackName}). Reason: ${input.promotionOverrideReason.trim()}`);
        } else {
          refuse(
            `Stack "${stack}": ${key} "${desired}" for ${rule.name} has not run on ${input.source.stackName} (${seen}; versions it ran: ${[...new Set(ran.versions)].join(", ") || "none"}). ` +
              `Deploy it there first, or for an emergency set promotionOverrideReason to a reason recorded in the stack outputs.`,
          );
        }
      }
    }
  }
  // One change at a time: a follower moving with its leader is part of the leader's change.
  const moving = entries.filter((e) => e.move === "upgrade" || e.move === "rollback");
  const leaders = moving.filter((e) => {
    const follows = PARTS[e.part]?.follows;
    return !(follows && moving.some((m) => m.part === follows));
  });
  if (leaders.length > 1) {
    const list = leaders.map((e, i) => `${i + 1}. ${e.part} ${e.deployed} -> ${e.desired} (${e.configKey})`).join(", ");
    refusals.push(
      `Stack "${stack}": this update moves ${leaders.length} parts at once; move one part per update so a failure has one cause and one rollback. ` +
        `Do them in this order, one update each: ${list}. Set the others back to their deployed versions for now.`,
    );
    for (const e of leaders) if (e.move !== "refused") e.refused = "more than one part moves in this update";
  }
  return { entries, refusals, warnings, overridden };
}

// EKS standard support ends, from AWS's "Amazon EKS Kubernetes release calendar"
// (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar,
// read 2026-12-02; 1.35 from endoflife.date/amazon-eks, which copies that table). Re-check when
// adding a version: AWS announces each end date at least 60 days ahead.
export const EKS_STANDARD_SUPPORT_ENDS: Record<string, string> = {
  "1.31": "2025-11-26",
  "1.32": "2026-03-23",
  "1.33": "2026-07-29",
  "1.34": "2026-12-02",
  "1.35": "2027-03-27",
};
export const EKS_SUPPORT_SOURCE = "AWS, Amazon EKS Kubernetes release calendar (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html)";
export const SUPPORT_WARNING_DAYS = 90;

/** A warning when the pinned version leaves (or has left) EKS standard support within 90 days of `now`. */
export function eksSupportWarning(stack: string, version: string, now: Date): string | undefined {
  const end = EKS_STANDARD_SUPPORT_ENDS[version];
  if (!end) return `Stack "${stack}": kubernetesVersion "${version}" has no standard-support end date in the table (components/version-policy.ts); add it from ${EKS_SUPPORT_SOURCE}.`;
  const days = Math.floor((Date.parse(`${end}T00:00:00Z`) - now.getTime()) / 86_400_000);
  if (days > SUPPORT_WARNING_DAYS) return undefined;
  const next = `1.${minorOf(version) + 1}`;
  const when = days < 0 ? `left EKS standard support on ${end}` : days === 0 ? `leaves EKS standard support today (${end})` : `leaves EKS standard support on ${end}, in ${days} day(s)`;
  return `Stack "${stack}": Kubernetes ${version} ${when}; with upgradePolicy STANDARD, EKS then upgrades the cluster itself. Upgrade to ${next} (staging first). Source: ${EKS_SUPPORT_SOURCE}.`;
}

/** Snapshot taken before a MySQL major upgrade; kept apart from ZenML's pattern so rollbackSnapshot never takes it. */
export function mysqlPreUpgradeSnapshotId(environmentName: string, from: string, to: string, alreadyTaken: readonly string[] = []): string {
  const base = `zenml-${environmentName}-pre-mysql-upgrade-${from.replace(/\./g, "-")}-to-${to.replace(/\./g, "-")}`;
  if (!alreadyTaken.includes(base)) return base;
  let attempt = 2;
  while (alreadyTaken.includes(`${base}-attempt-${attempt}`)) attempt++;
  return `${base}-attempt-${attempt}`;
}
