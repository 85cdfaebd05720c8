// Pure: what the work before a ZenML upgrade is called, where its documents go, what its Jobs run
// and what its IAM roles may touch. The component (pre-upgrade.ts) only turns this into resources.
import { digestOf } from "../kit/digest";

/** The scripts every pre-upgrade Job mounts (one ConfigMap), beside this file. */
export const PRE_UPGRADE_SCRIPTS = ["preflight_io.py", "inventory.py", "drain.py", "restore_test.py"] as const;
export const PRE_UPGRADE_MOUNT = "/opt/zenml-platform";
/** Inventory and drain: the ZenML client's admin login, and writing this upgrade's documents. */
export const PRE_UPGRADE_SERVICE_ACCOUNT = "zenml-pre-upgrade";
/** Restore-test: RDS on its own copy only, reading the inventory, writing its report. */
export const RESTORE_TEST_SERVICE_ACCOUNT = "zenml-restore-test";
export const RESTORE_TEST_LABELS = { "app.kubernetes.io/managed-by": "zenml-platform", "app.kubernetes.io/component": "restore-test" };
export const PRE_UPGRADE_LABELS = { "app.kubernetes.io/managed-by": "zenml-platform", "app.kubernetes.io/component": "pre-upgrade" };
/**
 * Minutes before a schedule fires in which the server must not start moving: a run it starts then
 * meets a server mid-migration. About the migration plus the rollout (the release allows more).
 */
export const SCHEDULE_GUARD_MINUTES = 15;
/** Minutes the restore-test may take: a restore of tens of GiB takes 10-25, a new password 1-3. */
export const RESTORE_TEST_MINUTES = 60;
/** Minutes the inventory may take before its Job is stopped. */
export const INVENTORY_MINUTES = 15;

/** One ZenML upgrade of one stack. */
export interface UpgradeMove {
  stack: string;
  from: string;
  to: string;
}

/** The folder of this upgrade's documents in the artifact bucket: `upgrades/<stack>/<from>-<to>`. */
export const upgradeFolder = (m: UpgradeMove): string => `upgrades/${m.stack}/${m.from}-${m.to}`;

/** The three documents of one upgrade, as keys in the artifact bucket. */
export function documentKeys(m: UpgradeMove): { inventory: string; drain: string; restoreTest: string } {
  const folder = upgradeFolder(m);
  return { inventory: `${folder}/inventory.json`, drain: `${folder}/drain.json`, restoreTest: `${folder}/restore-test.json` };
}

/** The restore-test's own RDS identifier: never the live instance's (`zenml-<stack>`), never another stack's. */
export const restoreTestIdentifier = (stack: string): string => `zenml-${stack}-restore-test`;

/** The drain's settings: what it waits for and whether an emergency lets the upgrade through anyway. */
export interface DrainSettings {
  waitMinutes: number;
  overrideReason: string;
}

/**
 * The Jobs' names, by the digest of everything they run with: a changed script, image or drain
 * setting (an override reason added after a refusal) is a new Job, so it runs again.
 */
export function preUpgradeJobNames(m: UpgradeMove, fromImageTag: string, drain: DrainSettings, scripts: string[]): { inventory: string; drain: string; restoreTest: string; files: string } {
  const digest = digestOf(m.stack, m.from, m.to, fromImageTag, String(drain.waitMinutes), drain.overrideReason, ...scripts);
  return { inventory: `zenml-inventory-${digest}`, drain: `zenml-drain-${digest}`, restoreTest: `zenml-restore-test-${digest}`, files: `zenml-pre-upgrade-${digest}` };
}

const script = (name: string) => `${PRE_UPGRADE_MOUNT}/${name}`;

export function inventoryCommand(m: UpgradeMove, bucket: string): string[] {
  return ["python", script("inventory.py"), "--stack", m.stack, "--from-version", m.from, "--to-version", m.to, "--out", `s3://${bucket}/${documentKeys(m).inventory}`];
}

export function drainCommand(m: UpgradeMove, bucket: string, drain: DrainSettings): string[] {
  return [
    "python",
    script("drain.py"),
    "--wait-minutes",
    String(drain.waitMinutes),
    "--guard-minutes",
    String(SCHEDULE_GUARD_MINUTES),
    ...(drain.overrideReason.trim() === "" ? [] : ["--override-reason", drain.overrideReason.trim()]),
    "--out",
    `s3://${bucket}/${documentKeys(m).drain}`,
  ];
}

/** Where the restore-test puts its copy: the live database's subnets, security group and parameters. */
export interface RestoreTarget {
  snapshotIdentifier: string;
  instanceClass: string;
  subnetGroupName: string;
  securityGroupId: string;
  parameterGroupName: string;
}

export function restoreTestCommand(m: UpgradeMove, bucket: string, target: RestoreTarget, caFile: string): string[] {
  const keys = documentKeys(m);
  return [
    "python",
    script("restore_test.py"),
    "rds",
    "--snapshot",
    target.snapshotIdentifier,
    "--instance",
    restoreTestIdentifier(m.stack),
    "--instance-class",
    target.instanceClass,
    "--subnet-group",
    target.subnetGroupName,
    "--security-group",
    target.securityGroupId,
    "--parameter-group",
    target.parameterGroupName,
    "--inventory",
    `s3://${bucket}/${keys.inventory}`,
    "--out",
    `s3://${bucket}/${keys.restoreTest}`,
    "--ca",
    caFile,
    "--wait-minutes",
    String(RESTORE_TEST_MINUTES - 5),
  ];
}

/** What an ARN of this stack's account and region looks like for RDS. */
export interface RdsScope {
  partition: string;
  region: string;
  account: string;
  stack: string;
  /** MySQL major ("8.4"): the restore uses its default option group. */
  engineVersion: string;
  subnetGroupName: string;
  parameterGroupName: string;
}

/**
 * The restore-test role's RDS statements: restore only from this stack's pre-upgrade snapshots and
 * only into its own identifier; describe, re-password and delete only that identifier. The live
 * instance's ARN matches none of them.
 */
export function restoreTestRdsStatements(s: RdsScope): object[] {
  const arn = (type: string, name: string) => `arn:${s.partition}:rds:${s.region}:${s.account}:${type}:${name}`;
  const copy = arn("db", restoreTestIdentifier(s.stack));
  return [
    {
      Sid: "RestoreOwnCopyFromThisStacksPreUpgradeSnapshots",
      Effect: "Allow",
      Action: ["rds:RestoreDBInstanceFromDBSnapshot", "rds:AddTagsToResource"],
      Resource: [
        copy,
        arn("snapshot", `zenml-${s.stack}-pre-upgrade-*`),
        arn("subgrp", s.subnetGroupName),
        arn("pg", s.parameterGroupName),
        arn("og", `default:mysql-${s.engineVersion.replace(/\./g, "-")}`),
      ],
    },
    { Sid: "OwnCopyOnly", Effect: "Allow", Action: ["rds:DescribeDBInstances", "rds:ModifyDBInstance", "rds:DeleteDBInstance"], Resource: copy },
  ];
}

/** Read and write this upgrade's documents (and nothing else of the bucket) through its KMS key. */
export function documentStatements(bucketArn: string, kmsKeyArn: string, m: UpgradeMove, read: boolean): object[] {
  return [
    { Sid: "UpgradeDocuments", Effect: "Allow", Action: ["s3:PutObject", ...(read ? ["s3:GetObject"] : [])], Resource: `${bucketArn}/${upgradeFolder(m)}/*` },
    { Sid: "ArtifactKey", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: kmsKeyArn },
  ];
}
