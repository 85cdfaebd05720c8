// `npm run --silent migration-timing -- [--to X.Y.Z] [--source prod] [--target staging] [--out migration-timing.json]`
// Times the TO version's migration on a copy of prod's latest snapshot, in staging's cluster, and
// writes the record prod's gate reads (tools/gitops/migration-gate.ts). RDS through the AWS SDK,
// the cluster through kubectl (its current context: `aws eks update-kubeconfig --name zenml-staging`).
// Exit 0 the migration passed (however long), 1 it failed or the copy could not be deleted, 2 bad usage.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
} from "@aws-sdk/client-rds";
import { ZENML_SERVER_IMAGE, lockedTag, readImageLock } from "../../components/image-lock";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { TIMING_FILE, type MigrationTimingRecord } from "../gitops/migration-gate";
import { readPin } from "../gitops/pin-file";
import { summarize } from "../gitops/workflow-commands";
import { TIMING_JOB, stagingImage, timingManifests } from "./manifests";
import { TimingError, timeMigration, type Clock, type DbInstance, type Rds, type TimingCluster } from "./timing";

const USAGE = `usage: npm run --silent migration-timing -- [--to X.Y.Z] [--source prod] [--target staging] [--image <image>] [--wait-minutes 120] [--out ${TIMING_FILE}]
  Restores <source>'s latest snapshot into zenml-<source>-migration-timing, in <target>'s subnets behind
  its database firewall, runs TO's migration there from <target>'s cluster (kubectl's current context),
  records minutes, size and result, and deletes the copy and the namespace. --to: Pulumi.<source>.yaml's pin.
  Region: AWS_REGION. Exit 0 the migration passed, 1 it failed, 2 bad usage or nothing to copy.`;

const TOOL: ToolSpec = { name: "migration-timing", usage: USAGE, badInput: (err) => err instanceof TimingError };

const notFound = (e: unknown) => /NotFound/.test((e as Error).name ?? "") || /NotFound/.test((e as Error).message ?? "");

function toInstance(db: DBInstance): DbInstance {
  return {
    identifier: db.DBInstanceIdentifier ?? "",
    status: db.DBInstanceStatus ?? "unknown",
    instanceClass: db.DBInstanceClass ?? "",
    subnetGroup: db.DBSubnetGroup?.DBSubnetGroupName ?? "",
    securityGroupIds: (db.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId ?? "").filter((g) => g !== ""),
    parameterGroup: db.DBParameterGroups?.[0]?.DBParameterGroupName ?? "",
    address: db.Endpoint?.Address,
    port: db.Endpoint?.Port,
    masterUsername: db.MasterUsername ?? "",
    dbName: db.DBName,
    allocatedStorageGb: db.AllocatedStorage ?? 0,
    passwordPending: db.PendingModifiedValues?.MasterUserPassword !== undefined,
  };
}

/** RDS through the SDK; the account comes from an instance's ARN, so no other service is needed. */
export function sdkRds(region: string): Rds & { account(identifier: string): Promise<string> } {
  const client = new RDSClient({ region });
  const describe = async (identifier: string) => {
    try {
      return (await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }))).DBInstances?.[0];
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  };
  return {
    instance: async (identifier) => {
      const db = await describe(identifier);
      return db && toInstance(db);
    },
    account: async (identifier) => (await describe(identifier))?.DBInstanceArn?.split(":")[4] ?? "",
    snapshotsOf: async (identifier) => {
      const out = await client.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: identifier }));
      return (out.DBSnapshots ?? []).map((s) => ({ identifier: s.DBSnapshotIdentifier ?? "", status: s.Status ?? "", createdAt: s.SnapshotCreateTime?.toISOString() ?? "" }));
    },
    restore: async (c) => {
      await client.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: c.identifier,
          DBSnapshotIdentifier: c.snapshot,
          DBInstanceClass: c.instanceClass,
          DBSubnetGroupName: c.subnetGroup,
          VpcSecurityGroupIds: c.securityGroupIds,
          DBParameterGroupName: c.parameterGroup,
          MultiAZ: false,
          PubliclyAccessible: false,
          DeletionProtection: false,
          AutoMinorVersionUpgrade: false,
          Tags: Object.entries(c.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    },
    setPassword: async (identifier, password) => {
      await client.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: identifier, MasterUserPassword: password, ApplyImmediately: true }));
    },
    remove: async (identifier) => {
      try {
        await client.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: identifier, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }));
      } catch (e) {
        // Gone, or already being deleted: what remove means.
        if (!notFound(e) && !/InvalidDBInstanceState/.test((e as Error).name ?? "")) throw e;
      }
    },
  };
}

/** kubectl on its current context, waiting on the Job by polling (a Job that fails never completes). */
export function kubectlCluster(clock: Clock, run = (args: string[], input?: string) => execFileSync("kubectl", args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"], maxBuffer: 32 * 1024 * 1024 })): TimingCluster {
  return {
    async run(job) {
      run(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: timingManifests(job) }));
      const deadline = clock.now() + (job.deadlineMinutes + 5) * 60_000;
      let succeeded = false;
      for (;;) {
        const status = (JSON.parse(run(["get", "job", TIMING_JOB, "-n", job.namespace, "-o", "json"])) as { status?: { succeeded?: number; failed?: number } }).status ?? {};
        if (status.succeeded) succeeded = true;
        if (status.succeeded || status.failed || clock.now() > deadline) break;
        await clock.sleep(10_000);
      }
      return { succeeded, log: run(["logs", `job/${TIMING_JOB}`, "-n", job.namespace, "--tail", "200"]) };
    },
    async remove(namespace) {
      run(["delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=5m"]);
    },
  };
}

export function timingSummary(r: MigrationTimingRecord): string {
  return [
    `### Migration timing: ${r.source}'s data, ZenML ${r.to}: ${r.result === "passed" ? "passed" : "**FAILED**"}`,
    "",
    "| | |",
    "| --- | --- |",
    `| minutes | ${r.minutes ?? "-"} |`,
    `| database size | ${r.sizeMb ?? "-"} MB (allocated ${r.allocatedStorageGb ?? "-"} GiB, ${r.instanceClass}) |`,
    `| snapshot | ${r.snapshot} (${r.snapshotCreatedAt}) |`,
    `| revisions before | ${r.fromRevisions.join(", ") || "-"} |`,
    `| copy deleted | ${r.copyDeleted ? "yes" : "**NO: delete it by hand**"} |`,
    ...(r.error ? [`| error | ${r.error.replace(/\|/g, "\\|")} |`] : []),
    "",
  ].join("\n");
}

const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

export async function main(argv: string[], io: CliIo, env: CliEnv, deps: { rds?: ReturnType<typeof sdkRds>; cluster?: TimingCluster; clock?: Clock; projectDir?: string } = {}): Promise<number> {
  return runTool(TOOL, io, async () => {
    const { values } = parseArgs({
      args: argv,
      options: { to: { type: "string" }, source: { type: "string", default: "prod" }, target: { type: "string", default: "staging" }, image: { type: "string" }, "wait-minutes": { type: "string", default: "120" }, out: { type: "string", default: TIMING_FILE }, help: { type: "boolean" } },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new UsageError("AWS_REGION is not set (the workflow's configure-aws-credentials sets it)");
    const wait = Number(values["wait-minutes"]);
    if (!Number.isInteger(wait) || wait < 20) throw new UsageError("--wait-minutes must be a whole number of minutes, 20 or more (a restore alone takes 10+)");
    const projectDir = deps.projectDir ?? process.cwd();
    const to = values.to ?? readPin(path.join(projectDir, `Pulumi.${values.source}.yaml`)).pin.value;
    const clock = deps.clock ?? realClock;
    const rds = deps.rds ?? sdkRds(region);
    const account = values.image ? "" : await rds.account(`zenml-${values.target}`);
    const image = values.image ?? stagingImage(account, region, values.target!, to, lockedTag(readImageLock(projectDir), ZENML_SERVER_IMAGE, to).digest);
    const runUrl = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
    const record = await timeMigration(rds, deps.cluster ?? kubectlCluster(clock), clock, { source: values.source!, target: values.target!, to, image, region, waitMinutes: wait, sha: env.GITHUB_SHA, runUrl });
    fs.writeFileSync(values.out!, JSON.stringify(record, null, 2) + "\n");
    summarize(timingSummary(record), env as NodeJS.ProcessEnv);
    io.stdout(`migration-timing: ${record.source}'s data, ZenML ${record.to}: ${record.result} in ${record.minutes ?? "?"} min on ${record.sizeMb ?? "?"} MB (snapshot ${record.snapshot}); copy deleted: ${record.copyDeleted}${record.error ? `; ${record.error}` : ""}\n`);
    return record.result === "passed" ? 0 : 1;
  });
}
