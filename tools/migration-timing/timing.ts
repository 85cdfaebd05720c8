// The migration timed on prod's own data, before prod's upgrade: prod's latest snapshot restored into
// a short-lived copy in staging's subnets behind staging's database firewall (so only staging's
// cluster reaches it), a throw-away password, the TO version's `zenml migrate-database` in a Job in
// staging's cluster, then everything deleted. Pure apart from the injected RDS, cluster and clock,
// so tests drive it with stand-ins; tools/migration-timing/cli.ts wires the real ones.
import { randomBytes } from "node:crypto";
import { TIMING_RECORD_KIND, type MigrationTimingRecord } from "../gitops/migration-gate";

export interface DbInstance {
  identifier: string;
  status: string;
  instanceClass: string;
  subnetGroup: string;
  securityGroupIds: string[];
  parameterGroup: string;
  address?: string;
  port?: number;
  masterUsername: string;
  dbName?: string;
  allocatedStorageGb: number;
  /** A new master password is still being applied. */
  passwordPending: boolean;
}

export interface DbSnapshot {
  identifier: string;
  status: string;
  createdAt: string;
}

/** What the timing needs from RDS; every call names one instance or snapshot. */
export interface Rds {
  instance(identifier: string): Promise<DbInstance | undefined>;
  /** Snapshots (automated and manual) of one instance. */
  snapshotsOf(identifier: string): Promise<DbSnapshot[]>;
  restore(copy: { identifier: string; snapshot: string; instanceClass: string; subnetGroup: string; securityGroupIds: string[]; parameterGroup: string; tags: Record<string, string> }): Promise<void>;
  setPassword(identifier: string, password: string): Promise<void>;
  remove(identifier: string): Promise<void>;
}

/** What a migration Job reports: its log (the MIGRATION_TIMING line) and whether it succeeded. */
export interface JobOutcome {
  log: string;
  succeeded: boolean;
}

/** Staging's cluster: run the timing Job in a namespace of its own, and remove that namespace. */
export interface TimingCluster {
  run(job: TimingJob): Promise<JobOutcome>;
  remove(namespace: string): Promise<void>;
}

export interface TimingJob {
  namespace: string;
  image: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  to: string;
  region: string;
  deadlineMinutes: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface TimingOptions {
  /** Whose data: "prod". Its live instance is `zenml-<source>` unless sourceInstance says otherwise. */
  source: string;
  /** Where the copy runs: "staging" (its subnets, database firewall, parameter group, cluster). */
  target: string;
  sourceInstance?: string;
  targetInstance?: string;
  to: string;
  /** The TO version's server image as staging pulls it (its ECR pull-through cache). */
  image: string;
  region: string;
  /** Minutes for the restore, the password and the Job together before giving up. */
  waitMinutes: number;
  sha?: string;
  runUrl?: string;
}

export const TIMING_NAMESPACE = "zenml-migration-timing";
export const MIGRATION_TIMING_PREFIX = "MIGRATION_TIMING ";
/** The copy's identifier: its own, so no call here can name a live instance. */
export const copyIdentifier = (source: string) => `zenml-${source}-migration-timing`;

export class TimingError extends Error {}

/** The newest available snapshot, automated or manual. */
export function latestSnapshot(snapshots: DbSnapshot[]): DbSnapshot | undefined {
  return snapshots.filter((s) => s.status === "available").sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))[0];
}

/** The last MIGRATION_TIMING line of a log, parsed. */
export function timingFromLog(log: string): Record<string, unknown> | undefined {
  const line = log.split("\n").reverse().find((l) => l.startsWith(MIGRATION_TIMING_PREFIX));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(MIGRATION_TIMING_PREFIX.length)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function waitFor(rds: Rds, clock: Clock, identifier: string, deadline: number, ready: (db: DbInstance | undefined) => boolean, what: string): Promise<DbInstance | undefined> {
  for (;;) {
    const db = await rds.instance(identifier);
    if (ready(db)) return db;
    if (clock.now() > deadline) throw new TimingError(`${identifier} did not become ${what} in time (now ${db?.status ?? "absent"})`);
    await clock.sleep(20_000);
  }
}

/**
 * Times TO's migration on a copy of the source's latest snapshot and returns the record; the copy
 * and the namespace are deleted whatever happened. Throws TimingError only before anything was made.
 */
export async function timeMigration(rds: Rds, cluster: TimingCluster, clock: Clock, o: TimingOptions, password = randomBytes(24).toString("base64url")): Promise<MigrationTimingRecord> {
  const deadline = clock.now() + o.waitMinutes * 60_000;
  const sourceId = o.sourceInstance ?? `zenml-${o.source}`;
  const targetId = o.targetInstance ?? `zenml-${o.target}`;
  const [source, target] = await Promise.all([rds.instance(sourceId), rds.instance(targetId)]);
  if (!source) throw new TimingError(`${o.source}'s database ${sourceId} does not exist`);
  if (!target) throw new TimingError(`${o.target}'s database ${targetId} does not exist: the copy goes into its subnets and behind its firewall`);
  const snapshot = latestSnapshot(await rds.snapshotsOf(sourceId));
  if (!snapshot) throw new TimingError(`${sourceId} has no available snapshot to time the migration on`);
  const copy = copyIdentifier(o.source);
  const record: MigrationTimingRecord = {
    kind: TIMING_RECORD_KIND,
    source: o.source,
    target: o.target,
    snapshot: snapshot.identifier,
    snapshotCreatedAt: snapshot.createdAt,
    fromRevisions: [],
    to: o.to,
    result: "failed",
    seconds: null,
    minutes: null,
    sizeMb: null,
    allocatedStorageGb: null,
    // The source's class: the copy migrates as fast as prod would.
    instanceClass: source.instanceClass,
    copyDeleted: false,
    measuredAt: new Date(clock.now()).toISOString(),
    ...(o.sha ? { sha: o.sha } : {}),
    ...(o.runUrl ? { runUrl: o.runUrl } : {}),
  };
  try {
    // A copy left by an earlier run that died before its clean-up.
    if (await rds.instance(copy)) {
      await rds.remove(copy);
      await waitFor(rds, clock, copy, deadline, (db) => db === undefined, "deleted");
    }
    await rds.restore({
      identifier: copy,
      snapshot: snapshot.identifier,
      instanceClass: source.instanceClass,
      subnetGroup: target.subnetGroup,
      securityGroupIds: target.securityGroupIds,
      parameterGroup: target.parameterGroup,
      tags: { purpose: "migration-timing", source: o.source, to: o.to },
    });
    await waitFor(rds, clock, copy, deadline, (db) => db?.status === "available", "available");
    // The copy keeps prod's password; it gets one that exists only in this run.
    await rds.setPassword(copy, password);
    await clock.sleep(20_000);
    const db = (await waitFor(rds, clock, copy, deadline, (d) => d?.status === "available" && !d.passwordPending, "available with its new password"))!;
    record.allocatedStorageGb = db.allocatedStorageGb;
    const minutesLeft = Math.max(5, Math.floor((deadline - clock.now()) / 60_000));
    const job: TimingJob = { namespace: TIMING_NAMESPACE, image: o.image, host: db.address!, port: db.port ?? 3306, user: db.masterUsername, password, database: db.dbName ?? "zenml", to: o.to, region: o.region, deadlineMinutes: minutesLeft };
    const outcome = await cluster.run(job);
    const timing = timingFromLog(outcome.log);
    if (!timing) record.error = `the timing Job left no ${MIGRATION_TIMING_PREFIX.trim()} line (${outcome.succeeded ? "succeeded" : "failed"})`;
    else {
      record.result = timing.ok === true && outcome.succeeded ? "passed" : "failed";
      record.seconds = typeof timing.seconds === "number" ? timing.seconds : null;
      record.minutes = typeof timing.minutes === "number" ? timing.minutes : null;
      record.sizeMb = typeof timing.size_mb === "number" ? timing.size_mb : null;
      record.fromRevisions = Array.isArray(timing.alembic_before) ? timing.alembic_before.map(String) : [];
      if (typeof timing.error === "string") record.error = timing.error;
    }
  } catch (err) {
    record.error = (err as Error).message;
  } finally {
    await cluster.remove(TIMING_NAMESPACE).catch((e: Error) => (record.error ??= `removing namespace ${TIMING_NAMESPACE}: ${e.message}`));
    record.copyDeleted = await rds
      .remove(copy)
      .then(() => true)
      .catch((e: Error) => {
        record.error ??= `deleting ${copy}: ${e.message}`;
        return false;
      });
  }
  // A copy that may still exist holds prod's data outside prod: that run failed, whatever it measured.
  if (!record.copyDeleted) record.result = "failed";
  return record;
}
