// Pure: what a stack remembers between updates about every versioned part, as one stack output
// (`versionHistory`), and how a stack deployed before that output existed is read: its older keys
// are read once, then only `versionHistory` is written. No Pulumi.
import { PARTS, compareDotted, snapshotPartOf } from "./parts";

/** The one history output; the program reads it back on the next update. */
export const HISTORY_OUTPUT = "versionHistory";
export const HISTORY_FORMAT = 2;

/** Outputs of the program before versionHistory: read once from a stack it deployed, never written again. */
export const LEGACY_HISTORY_OUTPUTS = [
  "zenmlVersionHistory",
  "partVersionHistory",
  "preUpgradeSnapshots",
  "latestPreUpgradeSnapshot",
  "latestMlflowPreUpgradeSnapshot",
  "rollbackSnapshot",
] as const;

/** Views of the current versions for the deploy workflows and the smoke checks; never read back except from an older stack. */
export const VERSION_VIEWS = { zenml: "zenmlVersion", parts: "partVersions" } as const;

/** Every key a history is read from (the StackReference asks for each). */
export const HISTORY_INPUT_KEYS = [HISTORY_OUTPUT, VERSION_VIEWS.zenml, VERSION_VIEWS.parts, ...LEGACY_HISTORY_OUTPUTS] as const;

export interface AwsMove {
  from: string;
  to: string;
}

export interface PartRecord {
  /** What it runs now; absent for an optional part that is off (or never recorded). */
  deployed?: string;
  /** Every version it ran, oldest first. */
  versions: string[];
  /** Pre-upgrade snapshots taken before its moves, oldest first; the last is the way back from the latest move. */
  snapshots: string[];
  /** Moves AWS made on its own, found at the start of an update. */
  awsMoves: AwsMove[];
}

export interface StackHistory {
  /** The stack has been deployed (it reports outputs). */
  deployedBefore: boolean;
  parts: Record<string, PartRecord>;
  /** The rollback snapshot whose restored database the stack runs on, if any. */
  rollbackSnapshot?: string;
  /** Read from the outputs of the program before versionHistory. */
  migrated: boolean;
}

export const emptyRecord = (): PartRecord => ({ versions: [], snapshots: [], awsMoves: [] });

const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x !== "") : []);
const record = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const unique = (list: string[]) => [...new Set(list)];

/** Appends an entry to a history, keeping order and no repeats. */
export function recordOnce(history: readonly string[], entry: string): string[] {
  return history.includes(entry) ? [...history] : [...history, entry];
}

function readPartRecord(raw: unknown): PartRecord {
  const r = record(raw);
  const moves = Array.isArray(r.awsMoves) ? r.awsMoves.map(record).filter((m) => text(m.from) && text(m.to)).map((m) => ({ from: String(m.from), to: String(m.to) })) : [];
  const deployed = text(r.deployed);
  const versions = strings(r.versions);
  return { ...(deployed ? { deployed } : {}), versions: deployed ? recordOnce(versions, deployed) : versions, snapshots: strings(r.snapshots), awsMoves: moves };
}

/** The history a stack of the program before versionHistory reports, from its keys. */
function migrate(outputs: Record<string, unknown>): StackHistory {
  const parts: Record<string, PartRecord> = {};
  const current = record(outputs.partVersions);
  const past = record(outputs.partVersionHistory);
  for (const name of unique([...Object.keys(current), ...Object.keys(past)])) {
    const deployed = text(current[name]);
    parts[name] = { ...emptyRecord(), ...(deployed ? { deployed } : {}), versions: deployed ? recordOnce(strings(past[name]), deployed) : strings(past[name]) };
  }
  // ZenML's own keys are older than partVersions and win over it.
  const zenml = text(outputs.zenmlVersion);
  if (zenml) parts.zenml = { ...emptyRecord(), deployed: zenml, versions: recordOnce(strings(outputs.zenmlVersionHistory), zenml) };
  // Snapshots belong to the part their name says (ZenML's unless recognised otherwise), oldest first; the latest pointers last.
  const taken = unique([...strings(outputs.preUpgradeSnapshots), ...[outputs.latestPreUpgradeSnapshot, outputs.latestMlflowPreUpgradeSnapshot].map(text).filter((s): s is string => s !== undefined)]);
  for (const id of taken) {
    const part = snapshotPartOf(id) ?? "zenml";
    parts[part] ??= emptyRecord();
    parts[part].snapshots.push(id);
  }
  const rollbackSnapshot = text(outputs.rollbackSnapshot);
  return { deployedBefore: Object.keys(outputs).length > 0, parts, ...(rollbackSnapshot ? { rollbackSnapshot } : {}), migrated: true };
}

/** What a stack remembers, from its outputs (either format); a stack with no outputs was never deployed. */
export function readHistory(outputs: Record<string, unknown> | undefined): StackHistory {
  const all = record(outputs);
  const saved = record(all[HISTORY_OUTPUT]);
  if (saved.format !== HISTORY_FORMAT) return migrate(Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined && v !== null)));
  const parts = Object.fromEntries(Object.entries(record(saved.parts)).map(([name, raw]) => [name, readPartRecord(raw)]));
  const rollbackSnapshot = text(saved.rollbackSnapshot);
  return { deployedBefore: true, parts, ...(rollbackSnapshot ? { rollbackSnapshot } : {}), migrated: false };
}

/** Part names in the registry's order, then any the registry no longer knows. */
function inOrder(names: string[]): string[] {
  const order = (p: string) => PARTS[p]?.order ?? Number.MAX_SAFE_INTEGER;
  return [...names].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}

/** The output value of a history. */
export function historyOutput(history: StackHistory): Record<string, unknown> {
  const parts = Object.fromEntries(
    inOrder(Object.keys(history.parts)).map((name) => {
      const r = history.parts[name];
      return [name, { ...(r.deployed ? { deployed: r.deployed } : {}), versions: r.versions, snapshots: r.snapshots, awsMoves: r.awsMoves }];
    }),
  );
  return { format: HISTORY_FORMAT, parts, ...(history.rollbackSnapshot ? { rollbackSnapshot: history.rollbackSnapshot } : {}) };
}

/** Every snapshot the stack took, whatever part it was for (their names must stay unique). */
export function allSnapshots(history: StackHistory): string[] {
  return Object.values(history.parts).flatMap((r) => r.snapshots);
}

/** Each part's current version, for the views the workflows read. */
export function currentVersions(history: StackHistory): Record<string, string> {
  return Object.fromEntries(inOrder(Object.keys(history.parts)).flatMap((name) => (history.parts[name].deployed ? [[name, history.parts[name].deployed!]] : [])));
}

/** Versions a part ever ran there (its history and what it runs). */
export function ranVersions(r: PartRecord | undefined): string[] {
  return r ? unique([...r.versions, ...(r.deployed ? [r.deployed] : [])]).sort(compareDotted) : [];
}
