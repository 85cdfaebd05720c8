// Pure: prod's gate on the migration's duration. The migration-timing workflow restores prod's latest
// snapshot into a short-lived copy reachable only from staging's cluster, runs the TO version's
// migration on it and records how long it took (MigrationTimingRecord). Prod may then deploy an
// upgrade only when that record exists for this very `to`, passed, and took no longer than
// Pulumi.prod.yaml's maxMigrationMinutes; migrationTimeOverrideReason lets it through, reported.
import { parseDocument } from "yaml";
import { DEFAULT_MAX_MIGRATION_MINUTES } from "../../components/prod-window";

export const TIMING_RECORD_KIND = "zenml-platform/migration-timing-record";
export const TIMING_WORKFLOW = "migration-timing.yml";
export const TIMING_FILE = "migration-timing.json";
/** The artifact the timing of <stack>'s data is uploaded as. */
export const timingArtifact = (stack: string) => `migration-timing-${stack}`;
export const MAX_MINUTES_KEY = "zenml-platform:maxMigrationMinutes";
export const MIGRATION_OVERRIDE_KEY = "zenml-platform:migrationTimeOverrideReason";

export interface MigrationTimingRecord {
  kind: typeof TIMING_RECORD_KIND;
  /** Whose data was copied (prod) and where the copy ran (staging's cluster). */
  source: string;
  target: string;
  snapshot: string;
  snapshotCreatedAt: string;
  /** The copy's alembic revisions before the migration. */
  fromRevisions: string[];
  to: string;
  result: "passed" | "failed";
  seconds: number | null;
  minutes: number | null;
  sizeMb: number | null;
  allocatedStorageGb: number | null;
  instanceClass: string;
  /** The copy was deleted (or is being deleted) when the record was written. */
  copyDeleted: boolean;
  measuredAt: string;
  error?: string;
  sha?: string;
  runUrl?: string;
}

export function parseTimingRecord(text: string): MigrationTimingRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<MigrationTimingRecord>;
    if (r.kind !== TIMING_RECORD_KIND || typeof r.to !== "string" || (r.result !== "passed" && r.result !== "failed")) return undefined;
    return r as MigrationTimingRecord;
  } catch {
    return undefined;
  }
}

/** maxMigrationMinutes and migrationTimeOverrideReason as a stack file's text sets them (the schema's default when absent). */
export function migrationLimits(stackFileText: string): { maxMinutes: number; overrideReason: string } {
  const doc = parseDocument(stackFileText);
  const max = doc.getIn(["config", MAX_MINUTES_KEY]);
  const reason = doc.getIn(["config", MIGRATION_OVERRIDE_KEY]);
  return { maxMinutes: typeof max === "number" ? max : DEFAULT_MAX_MIGRATION_MINUTES, overrideReason: typeof reason === "string" ? reason.trim() : "" };
}

export interface MigrationCheckInput {
  /** What prod runs now; null before its first deploy. */
  from: string | null;
  to: string;
  /** The newest timing of prod's data for `to`, if any. */
  record?: MigrationTimingRecord;
  maxMinutes: number;
  overrideReason: string;
}

export interface MigrationCheck {
  name: "migration time";
  ok: boolean;
  /** Starts with "OVERRIDDEN" when only the override let it pass (the gate's convention). */
  detail: string;
}

const figure = (r: MigrationTimingRecord) =>
  `${r.minutes} min on ${r.sizeMb} MB (snapshot ${r.snapshot} of ${r.snapshotCreatedAt}, ${r.instanceClass}, measured ${r.measuredAt}${r.runUrl ? `, ${r.runUrl}` : ""})`;

/** One gate check: pass, refuse with what to do, or pass overridden with the reason. */
export function migrationCheck(input: MigrationCheckInput): MigrationCheck {
  const name = "migration time";
  if (input.from === null || input.from === input.to) return { name, ok: true, detail: input.from === null ? "first deploy: nothing to migrate" : `prod stays at ${input.to}: no migration` };
  const r = input.record;
  let why: string | undefined;
  if (!r) why = `no timing of ${input.to}'s migration on prod's data: run the migration-timing workflow (it runs when prod's pin changes on staging) and deploy again when it is done`;
  else if (r.result !== "passed") why = `${input.to}'s migration FAILED on a copy of prod's data (${r.error ?? "see the run"}${r.runUrl ? `, ${r.runUrl}` : ""}): it would fail on prod too`;
  else if (r.minutes === null || r.minutes > input.maxMinutes)
    why = `${input.to}'s migration took ${figure(r)}, more than maxMigrationMinutes ${input.maxMinutes}: prod would be down that long; plan a window, then raise maxMigrationMinutes in Pulumi.prod.yaml`;
  if (!why) return { name, ok: true, detail: `${input.from} -> ${input.to} migrates in ${figure(r!)}, within ${input.maxMinutes} min` };
  if (input.overrideReason !== "") return { name, ok: true, detail: `OVERRIDDEN: ${why}. ${MIGRATION_OVERRIDE_KEY}: ${input.overrideReason}` };
  return { name, ok: false, detail: `${why}; or set ${MIGRATION_OVERRIDE_KEY} in Pulumi.prod.yaml` };
}

/** The newest record for `to` among completed runs (newest first), whatever their conclusion: a failed timing is a finding too. */
export function newestTimingFor<R extends { status: string }>(to: string, runsNewestFirst: R[], recordOf: (run: R) => MigrationTimingRecord | undefined): MigrationTimingRecord | undefined {
  for (const run of runsNewestFirst) {
    if (run.status !== "completed") continue;
    const record = recordOf(run);
    if (record?.to === to) return record;
  }
  return undefined;
}
