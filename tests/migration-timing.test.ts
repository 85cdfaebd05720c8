// The migration timed on prod's data (tools/migration-timing) with stand-ins for RDS and the cluster,
// and prod's gate on it (tools/gitops/migration-gate.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ZENML_SERVER_IMAGE } from "../components/image-lock";
import { migrationCheck, migrationLimits, newestTimingFor, parseTimingRecord, type MigrationTimingRecord } from "../tools/gitops/migration-gate";
import { buildRecord } from "../tools/gitops/deploy-record";
import { evaluateGate, type GateSources } from "../tools/gitops/staging-gate";
import { main } from "../tools/migration-timing/cli";
import { TIMING_JOB, stagingImage, timingManifests } from "../tools/migration-timing/manifests";
import { TimingError, copyIdentifier, latestSnapshot, timeMigration, type Clock, type DbInstance, type DbSnapshot, type JobOutcome, type Rds, type TimingCluster, type TimingJob } from "../tools/migration-timing/timing";
import { PROJECT_DIR, named, plan } from "./helpers/plan";

const instance = (identifier: string, extra: Partial<DbInstance> = {}): DbInstance => ({
  identifier,
  status: "available",
  instanceClass: identifier.includes("staging") ? "db.t4g.medium" : "db.m7g.large",
  subnetGroup: `${identifier}-subnets`,
  securityGroupIds: [`sg-${identifier}`],
  parameterGroup: `${identifier}-params`,
  address: `${identifier}.rds.example`,
  port: 3306,
  masterUsername: "zenml",
  dbName: "zenml",
  allocatedStorageGb: 100,
  passwordPending: false,
  ...extra,
});

const SNAPSHOTS: DbSnapshot[] = [
  { identifier: "rds:zenml-prod-2026-12-06-02-10", status: "available", createdAt: "2026-12-06T02:10:00.000Z" },
  { identifier: "rds:zenml-prod-2026-12-07-02-10", status: "available", createdAt: "2026-12-07T02:10:00.000Z" },
  { identifier: "rds:zenml-prod-2026-12-07-09-00", status: "creating", createdAt: "2026-12-07T09:00:00.000Z" },
];

/** RDS with prod's and staging's live instances; a restored copy becomes available after two polls. */
class FakeRds implements Rds {
  calls: [string, string, unknown?][] = [];
  instances = new Map<string, DbInstance & { polls?: number }>([
    ["zenml-prod", instance("zenml-prod")],
    ["zenml-staging", instance("zenml-staging")],
  ]);
  constructor(private readonly opts: { snapshots?: DbSnapshot[]; removeFails?: boolean; leftover?: boolean } = {}) {
    if (opts.leftover) this.instances.set(copyIdentifier("prod"), instance(copyIdentifier("prod")));
  }
  async instance(id: string) {
    this.calls.push(["describe", id]);
    const db = this.instances.get(id);
    if (db && db.status !== "available") {
      db.polls = (db.polls ?? 0) + 1;
      if (db.polls > 2) db.status = db.status === "deleting" ? "gone" : "available";
      if (db.status === "gone") this.instances.delete(id);
    }
    if (db?.passwordPending) db.passwordPending = false;
    return this.instances.get(id) && { ...this.instances.get(id)! };
  }
  async snapshotsOf(id: string) {
    this.calls.push(["snapshots", id]);
    return id === "zenml-prod" ? (this.opts.snapshots ?? SNAPSHOTS) : [];
  }
  async restore(c: Parameters<Rds["restore"]>[0]) {
    this.calls.push(["restore", c.identifier, c]);
    this.instances.set(c.identifier, { ...instance(c.identifier), status: "creating", instanceClass: c.instanceClass });
  }
  async setPassword(id: string, password: string) {
    this.calls.push(["password", id, password]);
    this.instances.get(id)!.passwordPending = true;
  }
  async remove(id: string) {
    this.calls.push(["remove", id]);
    if (this.opts.removeFails) throw new Error("AccessDenied");
    const db = this.instances.get(id);
    if (db) Object.assign(db, { status: "deleting", polls: 0 });
  }
  /** Identifiers named by calls that change something. */
  changed = () => new Set(this.calls.filter(([c]) => c !== "describe" && c !== "snapshots").map(([, id]) => id));
}

const timingLine = (extra: Record<string, unknown> = {}) =>
  `migrating...\nMIGRATION_TIMING ${JSON.stringify({ ok: true, result: "passed", seconds: 754.2, minutes: 12.57, size_mb: 4210.5, alembic_before: ["0.97.0"], alembic_after: ["0.98.0"], ...extra })}\n`;

class FakeCluster implements TimingCluster {
  jobs: TimingJob[] = [];
  removed: string[] = [];
  constructor(private readonly outcome: JobOutcome | Error = { succeeded: true, log: timingLine() }) {}
  async run(job: TimingJob) {
    this.jobs.push(job);
    if (this.outcome instanceof Error) throw this.outcome;
    return this.outcome;
  }
  async remove(ns: string) {
    this.removed.push(ns);
  }
}

const clock = (): Clock => {
  let t = Date.parse("2026-12-07T10:00:00Z");
  return { now: () => t, sleep: async (ms) => void (t += ms) };
};
const OPTIONS = { source: "prod", target: "staging", to: "0.98.0", image: "img:0.98.0", region: "eu-west-1", waitMinutes: 120 };

describe("timing TO's migration on a copy of prod's latest snapshot", () => {
  it("restores the newest available snapshot at prod's size behind staging's firewall, times it, deletes it", async () => {
    const rds = new FakeRds();
    const cluster = new FakeCluster();
    const record = await timeMigration(rds, cluster, clock(), OPTIONS, "throw-away-password");
    expect(record).toMatchObject({ result: "passed", minutes: 12.57, sizeMb: 4210.5, snapshot: "rds:zenml-prod-2026-12-07-02-10", fromRevisions: ["0.97.0"], to: "0.98.0", instanceClass: "db.m7g.large", copyDeleted: true, allocatedStorageGb: 100 });
    const [, , restore] = rds.calls.find(([c]) => c === "restore")!;
    expect(restore).toMatchObject({ identifier: "zenml-prod-migration-timing", snapshot: "rds:zenml-prod-2026-12-07-02-10", instanceClass: "db.m7g.large", subnetGroup: "zenml-staging-subnets", securityGroupIds: ["sg-zenml-staging"], parameterGroup: "zenml-staging-params" });
    // Nothing but the copy is ever restored into, re-passworded or deleted.
    expect(rds.changed()).toEqual(new Set(["zenml-prod-migration-timing"]));
    const [job] = cluster.jobs;
    expect(job).toMatchObject({ host: "zenml-prod-migration-timing.rds.example", user: "zenml", password: "throw-away-password", to: "0.98.0", image: "img:0.98.0" });
    expect(rds.calls.find(([c]) => c === "password")?.[2]).toBe("throw-away-password");
    expect(cluster.removed).toEqual(["zenml-migration-timing"]);
    expect(rds.calls.at(-1)).toEqual(["remove", "zenml-prod-migration-timing"]);
  });

  it("a migration that fails on the copy is recorded as failed, and the copy is still deleted", async () => {
    const rds = new FakeRds();
    const record = await timeMigration(rds, new FakeCluster({ succeeded: false, log: timingLine({ ok: false, result: "failed", error: "OperationalError: (1054) Unknown column" }) }), clock(), OPTIONS);
    expect(record).toMatchObject({ result: "failed", error: "OperationalError: (1054) Unknown column", copyDeleted: true });
  });

  it("a Job that cannot run, or leaves no line, fails the record and cleans up", async () => {
    for (const outcome of [new Error("kubectl: forbidden"), { succeeded: true, log: "no line" }]) {
      const rds = new FakeRds();
      const cluster = new FakeCluster(outcome);
      const record = await timeMigration(rds, cluster, clock(), OPTIONS);
      expect(record.result).toBe("failed");
      expect(record.error).toMatch(outcome instanceof Error ? /kubectl: forbidden/ : /no MIGRATION_TIMING line/);
      expect(cluster.removed).toEqual(["zenml-migration-timing"]);
      expect(record.copyDeleted).toBe(true);
    }
  });

  it("a copy that cannot be deleted fails the record, however well the migration went", async () => {
    const record = await timeMigration(new FakeRds({ removeFails: true }), new FakeCluster(), clock(), OPTIONS);
    expect(record).toMatchObject({ result: "failed", copyDeleted: false, error: expect.stringMatching(/deleting zenml-prod-migration-timing: AccessDenied/) });
  });

  it("deletes a copy an earlier run left before restoring", async () => {
    const rds = new FakeRds({ leftover: true });
    await timeMigration(rds, new FakeCluster(), clock(), OPTIONS);
    expect(rds.calls.filter(([c]) => c === "remove" || c === "restore").map(([c]) => c)).toEqual(["remove", "restore", "remove"]);
  });

  it("refuses before making anything when prod has no snapshot", async () => {
    const rds = new FakeRds({ snapshots: [] });
    await expect(timeMigration(rds, new FakeCluster(), clock(), OPTIONS)).rejects.toThrow(TimingError);
    expect(rds.changed()).toEqual(new Set());
  });

  it("picks the newest available snapshot", () => {
    expect(latestSnapshot(SNAPSHOTS)?.identifier).toBe("rds:zenml-prod-2026-12-07-02-10");
    expect(latestSnapshot([])).toBeUndefined();
  });
});

describe("the timing Job in staging's cluster", () => {
  const job: TimingJob = { namespace: "zenml-migration-timing", image: "img", host: "h", port: 3306, user: "zenml", password: "p4ss", database: "zenml", to: "0.98.0", region: "eu-west-1", deadlineMinutes: 90 };
  const objects = timingManifests(job, { "time_migration.py": "print()" }) as { kind: string; metadata: { name: string }; spec?: Record<string, unknown>; stringData?: Record<string, string> }[];

  it("runs once under the restricted pod standard, the password only in its Secret", () => {
    expect(objects.map((o) => o.kind)).toEqual(["Namespace", "Secret", "Secret", "ConfigMap", "Job"]);
    const jobObject = objects.find((o) => o.kind === "Job")!;
    expect(jobObject.metadata.name).toBe(TIMING_JOB);
    expect(jobObject.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 5400, template: { spec: { automountServiceAccountToken: false, securityContext: { runAsNonRoot: true } } } });
    expect(JSON.stringify(jobObject)).not.toContain("p4ss");
    expect(objects.find((o) => o.metadata.name === "copy-password")?.stringData).toEqual({ password: "p4ss" });
    expect(objects.find((o) => o.metadata.name === "rds-ca")?.stringData?.["rds-ca.pem"]).toMatch(/BEGIN CERTIFICATE/);
  });

  it("pulls TO from staging's own pull-through cache, as the plan names that repository", async () => {
    const repository = named(await plan("staging"), "zenml-images-zenml-server");
    expect(repository.inputs.name).toBe(`docker-hub-staging/${ZENML_SERVER_IMAGE}`);
    expect(stagingImage("123456789012", "eu-west-1", "staging", "0.98.0", "sha256:ab")).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/${String(repository.inputs.name)}:0.98.0@sha256:ab`);
  });
});

describe("npm run migration-timing", () => {
  const io = () => {
    const out = { stdout: "", stderr: "" };
    return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
  };
  const rdsWithAccount = () => Object.assign(new FakeRds(), { account: async () => "123456789012" });

  it("writes the record for prod's pin, the image from staging's cache, exit 0 when it passed", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "timing-"));
    const { out, io: cliIo } = io();
    const cluster = new FakeCluster();
    const code = await main(["--out", path.join(dir, "t.json")], cliIo, { AWS_REGION: "eu-west-1", GITHUB_SHA: "abc" }, { rds: rdsWithAccount(), cluster, clock: clock(), projectDir: PROJECT_DIR });
    expect(code).toBe(0);
    const prodPin = /zenmlVersion: (\S+)/.exec(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8"))![1];
    const record = parseTimingRecord(fs.readFileSync(path.join(dir, "t.json"), "utf8"))!;
    expect(record).toMatchObject({ to: prodPin, result: "passed", sha: "abc" });
    expect(cluster.jobs[0].image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub-staging/zenmldocker/zenml-server:${prodPin}`);
    expect(out.stdout).toMatch(/^migration-timing: prod's data, ZenML .*: passed in 12.57 min on 4210.5 MB/);
  });

  it("exit 1 when the migration failed, 2 without a region or with nothing to copy", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "timing-"));
    const failed = new FakeCluster({ succeeded: false, log: timingLine({ ok: false }) });
    expect(await main(["--to", "0.98.0", "--out", path.join(dir, "t.json")], io().io, { AWS_REGION: "eu-west-1" }, { rds: rdsWithAccount(), cluster: failed, clock: clock(), projectDir: PROJECT_DIR })).toBe(1);
    const noRegion = io();
    expect(await main(["--to", "0.98.0"], noRegion.io, {}, { rds: rdsWithAccount(), cluster: new FakeCluster(), clock: clock(), projectDir: PROJECT_DIR })).toBe(2);
    expect(noRegion.out.stderr).toMatch(/^migration-timing: AWS_REGION is not set/);
    const empty = io();
    const noSnapshots = Object.assign(new FakeRds({ snapshots: [] }), { account: async () => "1" });
    expect(await main(["--to", "0.98.0", "--out", path.join(dir, "t.json")], empty.io, { AWS_REGION: "eu-west-1" }, { rds: noSnapshots, cluster: new FakeCluster(), clock: clock(), projectDir: PROJECT_DIR })).toBe(2);
    expect(empty.out.stderr).toMatch(/zenml-prod has no available snapshot/);
  });
});

describe("prod's gate on the migration's duration", () => {
  const record = (extra: Partial<MigrationTimingRecord> = {}): MigrationTimingRecord => ({
    kind: "zenml-platform/migration-timing-record", source: "prod", target: "staging", snapshot: "rds:zenml-prod-2026-12-07-02-10", snapshotCreatedAt: "2026-12-07T02:10:00Z", fromRevisions: ["0.97.0"],
    to: "0.98.0", result: "passed", seconds: 480, minutes: 8, sizeMb: 4210.5, allocatedStorageGb: 100, instanceClass: "db.m7g.large", copyDeleted: true, measuredAt: "2026-12-07T10:30:00Z", ...extra,
  });
  const check = (extra: Partial<Parameters<typeof migrationCheck>[0]> = {}) => migrationCheck({ from: "0.97.0", to: "0.98.0", record: record(), maxMinutes: 10, overrideReason: "", ...extra });

  it("passes a timed migration within maxMigrationMinutes, naming the figure", () => {
    expect(check()).toEqual({ name: "migration time", ok: true, detail: expect.stringMatching(/^0\.97\.0 -> 0\.98\.0 migrates in 8 min on 4210\.5 MB \(snapshot rds:zenml-prod-2026-12-07-02-10 .*\), within 10 min$/) });
  });

  it("refuses one that took longer, failed, or was never timed, each saying what to do", () => {
    expect(check({ record: record({ minutes: 25 }) })).toMatchObject({ ok: false, detail: expect.stringMatching(/took 25 min on 4210\.5 MB .* more than maxMigrationMinutes 10: prod would be down that long; .* or set zenml-platform:migrationTimeOverrideReason/) });
    expect(check({ record: record({ result: "failed", error: "Unknown column" }) })).toMatchObject({ ok: false, detail: expect.stringMatching(/migration FAILED on a copy of prod's data \(Unknown column\)/) });
    expect(check({ record: undefined })).toMatchObject({ ok: false, detail: expect.stringMatching(/^no timing of 0\.98\.0's migration on prod's data: run the migration-timing workflow/) });
  });

  it("an override reason lets it through, reported as overridden", () => {
    expect(check({ record: record({ minutes: 95 }), overrideReason: "INC-3 window booked 02:00-04:00" })).toMatchObject({ ok: true, detail: expect.stringMatching(/^OVERRIDDEN: .*took 95 min.*zenml-platform:migrationTimeOverrideReason: INC-3 window booked/) });
  });

  it("asks nothing when prod does not move", () => {
    expect(check({ from: "0.98.0", record: undefined })).toMatchObject({ ok: true, detail: "prod stays at 0.98.0: no migration" });
    expect(check({ from: null, record: undefined }).ok).toBe(true);
  });

  it("reads the limits from the stack file, the schema's default when absent", () => {
    expect(migrationLimits("config:\n  zenml-platform:maxMigrationMinutes: 25\n  zenml-platform:migrationTimeOverrideReason: ' INC-9 agreed '\n")).toEqual({ maxMinutes: 25, overrideReason: "INC-9 agreed" });
    expect(migrationLimits("config: {}\n")).toEqual({ maxMinutes: 10, overrideReason: "" });
    expect(migrationLimits(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8"))).toEqual({ maxMinutes: 10, overrideReason: "" });
  });

  it("takes the newest completed run's record for this version, a failed one included", () => {
    const runs = [{ id: 3, status: "in_progress" }, { id: 2, status: "completed" }, { id: 1, status: "completed" }];
    const records: Record<number, MigrationTimingRecord> = { 3: record({ minutes: 1 }), 2: record({ to: "0.99.0" }), 1: record({ result: "failed" }) };
    expect(newestTimingFor("0.98.0", runs, (r) => records[r.id])?.result).toBe("failed");
    expect(newestTimingFor("0.97.0", runs, (r) => records[r.id])).toBeUndefined();
    expect(parseTimingRecord("{}")).toBeUndefined();
    expect(parseTimingRecord(JSON.stringify(record()))?.minutes).toBe(8);
  });
});

describe("the staging gate with the migration time", () => {
  const sha = "c".repeat(40);
  const timed = (minutes: number): MigrationTimingRecord => ({
    kind: "zenml-platform/migration-timing-record", source: "prod", target: "staging", snapshot: "rds:zenml-prod-2026-12-07-02-10", snapshotCreatedAt: "2026-12-07T02:10:00Z", fromRevisions: ["0.97.0"],
    to: "0.98.0", result: "passed", seconds: minutes * 60, minutes, sizeMb: 4210.5, allocatedStorageGb: 100, instanceClass: "db.m7g.large", copyDeleted: true, measuredAt: "2026-12-07T10:30:00Z",
  });
  /** Staging ran 0.97.0 -> 0.98.0 green at this commit; prod runs 0.97.0; the timing as given. */
  const sources = (record?: MigrationTimingRecord): GateSources => {
    const staging = { databaseId: 1, headSha: sha, status: "completed", conclusion: "success", createdAt: "2026-12-07T00:00:00Z", url: "u1" };
    const prod = { databaseId: 2, headSha: "d".repeat(40), status: "completed", conclusion: "success", createdAt: "2026-12-01T00:00:00Z", url: "u2" };
    const records = { 1: buildRecord({ stack: "staging", sha, from: "0.97.0", to: "0.98.0", checks: ["up=success"] }), 2: buildRecord({ stack: "prod", sha: prod.headSha, from: "0.96.0", to: "0.97.0", checks: ["up=success"] }) };
    return { runs: (w) => (w === "deploy-staging.yml" ? [staging] : [prod]), record: (r) => records[r.databaseId as 1 | 2], pinAt: () => "0.98.0", migrationTiming: (to) => (record?.to === to ? record : undefined) };
  };
  const input = { sha, prodPin: "0.98.0", overrideReason: "", migration: { maxMinutes: 10, overrideReason: "" } };

  it("shows the timed figure and passes within maxMigrationMinutes", () => {
    const v = evaluateGate(input, sources(timed(8)));
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => [c.name, c.ok])).toEqual([["commit", true], ["latest staging run", true], ["upgrade path", true], ["migration time", true]]);
    expect(v.checks[3].detail).toMatch(/migrates in 8 min on 4210\.5 MB/);
  });

  it("refuses a longer or untimed migration, and passes it overridden with the reason", () => {
    expect(evaluateGate(input, sources(timed(25)))).toMatchObject({ ok: false, message: expect.stringMatching(/took 25 min .* more than maxMigrationMinutes 10/) });
    expect(evaluateGate(input, sources())).toMatchObject({ ok: false, message: expect.stringMatching(/^no timing of 0\.98\.0's migration on prod's data/) });
    const overridden = evaluateGate({ ...input, migration: { maxMinutes: 10, overrideReason: "INC-5 window booked" } }, sources(timed(25)));
    expect(overridden).toMatchObject({ ok: true, overridden: true });
  });
});
