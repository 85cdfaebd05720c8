// Pure: the one decision every update makes about every versioned part (components/parts.ts):
// what the stack runs (its records, and what AWS runs now), what the pins ask for, which moves are
// allowed (never down, the part's step, one part per update, prod only what staging ran), which
// snapshot goes first, and the history to record. No Pulumi, no cloud.
import { UserFacingError } from "./errors";
import { emptyRecord, allSnapshots, ranVersions, recordOnce, type PartRecord, type StackHistory } from "./part-history";
import { ADDON_PINS_KEY, PARTS, compareDotted, highestVersion, partsInOrder, snapshotId, type PartRule } from "./parts";

// The names other modules (config, policy pack, mirror check, MLflow) import from here.
export { EKS_ADDONS, PARTS, addonPart, compareDotted, explainBadPin, mlflowStepWarnings, parseSnapshotId, partsInOrder, skippedMinors, snapshotId } from "./parts";
export { recordOnce } from "./part-history";

export interface RollbackRequest {
  snapshotIdentifier: string;
  fromVersion: string;
  toVersion: string;
}

export type PartMove = "first-deploy" | "first-record" | "unchanged" | "upgrade" | "rollback" | "refused";

export interface PartReportEntry {
  part: string;
  configKey: string;
  /** What it runs now: its record, or what AWS runs when that is newer. */
  deployed: string | null;
  desired: string;
  move: PartMove;
  /** What applying it does (empty when nothing changes). */
  effects: string[];
  /** Why it was refused (move "refused"), or why it may not move in this update. */
  refused?: string;
  /** What AWS runs, when the program read it. */
  live?: string;
  /** A move AWS made on its own since the last update, recorded by this one. */
  awsMove?: { from: string; to: string };
}

export interface DecisionInput {
  stack: string;
  /** The desired version of every part that is on, by part name. */
  desired: Record<string, string>;
  /** What this stack recorded. */
  own: StackHistory;
  /** What AWS runs now, for the parts it can move (components/live-versions.ts); empty on a first deploy. */
  live: Record<string, string>;
  /** The promotion source's records (prod); undefined for staging. */
  source?: { stackName: string; history: StackHistory };
  promotionOverrideReason: string;
  rollback?: RollbackRequest;
}

/** The one part this update moves. */
export interface PartChange {
  part: string;
  kind: "upgrade" | "rollback";
  from: string;
  to: string;
  /** The snapshot taken first, for parts that snapshot. */
  snapshot?: string;
  /** It ran before this update (an optional part turned on again was paused). */
  wasRunning: boolean;
}

export interface Decision {
  entries: PartReportEntry[];
  refusals: string[];
  warnings: string[];
  /** Parts whose promotion gate promotionOverrideReason overrode. */
  overridden: string[];
  change?: PartChange;
  /** What the stack records once this update succeeds. */
  history: StackHistory;
}

const keyText = (rule: PartRule, version: string) => (rule.configKey === ADDON_PINS_KEY ? `${rule.configKey} "${version}" for ${rule.name}` : `${rule.configKey} "${version}"`);
const fixCommand = (stack: string, part: string, version: string) => `npm run bump -- --stack ${stack} --part ${part} --version ${version}`;

/** What the stack runs, from its record and what AWS runs now. */
function effectiveVersion(rule: PartRule, record: PartRecord | undefined, live: string | undefined) {
  // An optional part that is off keeps its history: its data was last migrated by its highest version.
  const recorded = record?.deployed ?? (rule.optional ? highestVersion(record?.versions ?? []) : undefined);
  if (live === undefined) return { deployed: recorded, fromLive: false };
  if (recorded === undefined) return { deployed: live, fromLive: true };
  if (compareDotted(live, recorded) > 0) return { deployed: live, fromLive: true, awsMove: { from: recorded, to: live } };
  return { deployed: recorded, fromLive: false, pending: compareDotted(live, recorded) < 0 };
}

/** ZenML's rollback rules: the restored database stays, and a new rollback goes onto its snapshot's from-version. */
function decideRollback(stack: string, rule: PartRule, desired: string, deployed: string | undefined, own: StackHistory, rollback: RollbackRequest | undefined): { refused?: string; rollback?: true; warning?: string } {
  const established = own.rollbackSnapshot;
  if (established && rollback?.snapshotIdentifier !== established) {
    return {
      refused:
        `Stack "${stack}": the server runs on the database restored from "${established}". Removing or changing ` +
        `rollbackSnapshot would point it at another database and hide everything written since the rollback. ` +
        `Keep rollbackSnapshot: "${established}" (see docs/UPGRADING.md, "After a rollback").`,
    };
  }
  if (!rollback || rollback.snapshotIdentifier === established) return {};
  const { snapshotIdentifier: id, fromVersion, toVersion } = rollback;
  if (desired !== fromVersion) return { refused: `Stack "${stack}": rollbackSnapshot "${id}" was taken before the upgrade ${fromVersion} -> ${toVersion}, so ${rule.configKey} must be set back to "${fromVersion}" (it is "${desired}").` };
  if (deployed !== undefined && compareDotted(deployed, desired) <= 0) {
    return { refused: `Stack "${stack}": rollbackSnapshot "${id}" restores the database of ${fromVersion}, but the stack runs "${deployed}", which is not newer: there is nothing to roll back. Clear rollbackSnapshot.` };
  }
  const warning =
    deployed !== undefined && deployed !== toVersion
      ? `Stack "${stack}": rolling back from ${deployed} onto the snapshot taken before ${fromVersion} -> ${toVersion}: everything written since that snapshot stays only in the current database.`
      : undefined;
  return { rollback: true, warning };
}

/** The promotion gate for one part: prod only takes a version its source ran. */
function gate(input: DecisionInput, rule: PartRule, desired: string): { refused?: string; warning?: string; overridden?: true } {
  const source = input.source!;
  const record = source.history.parts[rule.name];
  const ran = ranVersions(record);
  if (source.history.deployedBefore && record === undefined && !rule.optional) {
    return { warning: `Stack "${input.stack}": ${source.stackName} reports no ${rule.name} history (deployed by an older program); the promotion gate for ${rule.name} is not checked this time.` };
  }
  if (ran.includes(desired)) return {};
  const seen = record?.deployed ? `it runs "${record.deployed}"` : "it reports no deployed version";
  const reason = input.promotionOverrideReason.trim();
  if (reason !== "") return { overridden: true, warning: `Stack "${input.stack}": promotion gate overridden for ${rule.name} "${desired}" (${seen} on ${source.stackName}). Reason: ${reason}` };
  return {
    refused:
      `Stack "${input.stack}": ${keyText(rule, desired)} has not run on ${source.stackName} (${seen}; versions it ran: ${ran.join(", ") || "none"}). ` +
      `Deploy and smoke-test it there first, or for an emergency set promotionOverrideReason to a reason recorded in the stack outputs.`,
  };
}

/**
 * Decides every part's move at once and collects every refusal: pins below what runs (recorded or
 * live), jumps larger than the part's step, bad rollbacks, more than one part moving, and (prod)
 * versions the promotion source never ran.
 */
export function decideParts(input: DecisionInput): Decision {
  const { stack, own } = input;
  const entries: PartReportEntry[] = [];
  const refusals: string[] = [];
  const warnings: string[] = [];
  const overridden: string[] = [];
  const parts: Record<string, PartRecord> = Object.fromEntries(Object.entries(own.parts).map(([name, r]) => [name, { ...r, versions: [...r.versions], snapshots: [...r.snapshots], awsMoves: [...r.awsMoves] }]));
  for (const rule of partsInOrder()) {
    const desired = input.desired[rule.name];
    const record = own.parts[rule.name];
    const live = input.live[rule.name];
    const now = effectiveVersion(rule, record, live);
    if (now.awsMove) {
      const next = (parts[rule.name] ??= emptyRecord());
      next.awsMoves.push(now.awsMove);
      next.versions = recordOnce(next.versions, now.awsMove.to);
      next.deployed = now.awsMove.to;
      warnings.push(`Stack "${stack}": AWS runs ${rule.label} ${now.awsMove.to}, not the ${now.awsMove.from} the last update recorded (${rule.live!.why}); recorded as a move AWS made.`);
    }
    if (now.pending) warnings.push(`Stack "${stack}": AWS still runs ${rule.label} ${live} while ${record!.deployed} is recorded: the change is pending (e.g. until the maintenance window).`);
    if (desired === undefined) {
      if (rule.optional && record?.deployed) warnings.push(rule.optional.turnedOff(stack, record.deployed));
      if (parts[rule.name]) delete parts[rule.name].deployed;
      continue;
    }
    const entry: PartReportEntry = { part: rule.name, configKey: rule.configKey, deployed: now.deployed ?? null, desired, move: "unchanged", effects: [], ...(live ? { live } : {}), ...(now.awsMove ? { awsMove: now.awsMove } : {}) };
    entries.push(entry);
    const refuse = (why: string) => {
      entry.move = "refused";
      entry.refused = why;
      refusals.push(why);
    };
    const deployed = now.deployed;
    const rollback = rule.rollback ? decideRollback(stack, rule, desired, deployed, own, input.rollback) : {};
    if (rollback.warning) warnings.push(rollback.warning);
    if (rollback.refused) refuse(rollback.refused);
    else if (rollback.rollback) {
      entry.move = "rollback";
      entry.effects = ["restore the pre-upgrade snapshot into a new instance", "Helm release back to the snapshot's version"];
    } else if (deployed === undefined) {
      entry.move = own.deployedBefore && !rule.optional ? "first-record" : "first-deploy";
      if (entry.move === "first-record") warnings.push(`Stack "${stack}": no ${rule.name} version was recorded by the last update (an older program deployed it); recording "${desired}" now, so the next change is checked.`);
    } else if (compareDotted(desired, deployed) < 0) {
      if (now.fromLive) {
        refuse(
          `Stack "${stack}": ${keyText(rule, desired)} is below the ${rule.label} ${deployed} that AWS runs now (recorded: ${record?.deployed ?? "none"}; ${rule.live!.why}). ` +
            `${rule.noDowngrade}, and this program never asks AWS for a downgrade. Fix: ${fixCommand(stack, rule.name, deployed)}`,
        );
      } else {
        const back = rule.rollback ? `, or roll back: set rollbackSnapshot to the pre-upgrade snapshot of ${desired} -> ${deployed} (see docs/UPGRADING.md, "Rollback") and ${rule.configKey} to "${desired}"; the upgraded database is kept` : "";
        refuse(`Stack "${stack}": ${keyText(rule, desired)} is lower than the deployed "${deployed}": ${rule.noDowngrade}. Set it back to "${deployed}" or higher${back}.`);
      }
    } else if (compareDotted(desired, deployed) > 0) {
      const step = rule.checkStep?.(deployed, desired);
      if (step) refuse(`Stack "${stack}": ${rule.configKey} ${deployed} -> ${desired} for ${rule.name} is refused: ${step}.`);
      else {
        entry.move = "upgrade";
        entry.effects = rule.effects(deployed, desired);
        warnings.push(...(rule.stepWarnings?.(stack, deployed, desired) ?? []));
      }
    }
    // Prod takes only what staging ran; a version it already runs is no promotion.
    if (input.source && (entry.move === "upgrade" || entry.move === "first-deploy")) {
      const verdict = gate(input, rule, desired);
      if (verdict.warning) warnings.push(verdict.warning);
      if (verdict.overridden) overridden.push(rule.name);
      if (verdict.refused) refuse(verdict.refused);
    }
    const next = (parts[rule.name] ??= emptyRecord());
    next.deployed = desired;
    next.versions = recordOnce(next.versions, desired);
  }
  const change = oneChange(stack, entries, refusals);
  if (change?.kind === "upgrade" && PARTS[change.part].snapshot) {
    change.snapshot = snapshotId(change.part, stack, change.from, change.to, allSnapshots(own));
    parts[change.part].snapshots.push(change.snapshot);
  }
  if (change) change.wasRunning = own.parts[change.part]?.deployed !== undefined;
  const rollbackSnapshot = input.rollback?.snapshotIdentifier;
  const history: StackHistory = { deployedBefore: true, parts, ...(rollbackSnapshot ? { rollbackSnapshot } : {}), migrated: false };
  return { entries, refusals, warnings, overridden, ...(change && refusals.length === 0 ? { change } : {}), history };
}

/** One change at a time: a follower moving with its leader is part of the leader's change. */
function oneChange(stack: string, entries: PartReportEntry[], refusals: string[]): PartChange | undefined {
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
    return undefined;
  }
  const leader = leaders[0];
  return leader && { part: leader.part, kind: leader.move as "upgrade" | "rollback", from: leader.deployed!, to: leader.desired, wasRunning: false };
}

/** Throws the refusals as one user-facing error, each on its line, then the report. */
export function refuseAll(refusals: string[], report: string): void {
  if (refusals.length > 0) throw new UserFacingError(`${refusals.join("\n")}\n${report}`);
}
