// The work before a ZenML upgrade moves the server, as Jobs the Helm release waits for:
//   inventory -> drain -> (the database's pre-upgrade snapshot) -> restore-test -> release.
// Registered only in an update that upgrades ZenML, so every path that upgrades the server through
// this program (either deploy workflow, a `pulumi up` from a laptop, a re-run) goes through them.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import type { ArtifactBucket } from "../artifact-store";
import type { ClusterAccess } from "../cluster";
import { DB_PORT } from "../database";
import { irsaRole } from "../kit/irsa";
import { readPayload } from "../kit/payload";
import { RESTRICTED_CONTAINER } from "../kit/pod-security";
import { scriptJob, shipPayload, type Payload } from "../kit/script-job";
import { baseTags } from "../kit/tags";
import { zenmlClientEnv, zenmlClientImage, zenmlImageTag, type ZenmlImage } from "../kit/zenml-client";
import { DB_CA_KEY, DB_CA_SECRET, NAMESPACE } from "../zenml-server";
import {
  INVENTORY_MINUTES,
  PRE_UPGRADE_LABELS,
  PRE_UPGRADE_MOUNT,
  PRE_UPGRADE_SCRIPTS,
  PRE_UPGRADE_SERVICE_ACCOUNT,
  RESTORE_TEST_LABELS,
  RESTORE_TEST_MINUTES,
  RESTORE_TEST_SERVICE_ACCOUNT,
  documentKeys,
  documentStatements,
  drainCommand,
  inventoryCommand,
  preUpgradeJobNames,
  restoreTestCommand,
  restoreTestRdsStatements,
  type DrainSettings,
  type RestoreTarget,
  type UpgradeMove,
} from "./pre-upgrade-spec";

/** A Job that failed (a refusal) is replaced on the next update instead of waited on again. */
const RETRY_ON_NEXT_UPDATE = { "pulumi.com/replaceUnready": "true" };
const TMP = { volume: { name: "tmp", emptyDir: {} }, mount: { name: "tmp", mountPath: "/tmp" } };

export interface PreUpgradeArgs {
  environmentName: string;
  /** The version the server runs now and its image: the Jobs are its own client. */
  from: ZenmlImage;
  /** The version this update moves the server to. */
  to: string;
  cluster: ClusterAccess;
  /** The upgrade's documents go to its `upgrades/<stack>/<from>-<to>/` folder. */
  artifacts: ArtifactBucket;
  drain: DrainSettings;
}

/**
 * The inventory (what the server holds, no secret value) and then the drain (runs in progress and
 * schedules about to fire hold the upgrade; refused after `drain.waitMinutes`). The snapshot waits
 * for `drainJob`; Pulumi waits for each Job to complete and fails the update when one fails.
 */
export class PreUpgrade extends pulumi.ComponentResource {
  public readonly inventoryJob: k8s.batch.v1.Job;
  public readonly drainJob: k8s.batch.v1.Job;
  /** The scripts, for the restore-test Job too. */
  public readonly payload: Payload;
  public readonly move: UpgradeMove;
  /** s3:// URIs of this upgrade's documents. */
  public readonly documents: { inventory: pulumi.Output<string>; drain: pulumi.Output<string>; restoreTest: pulumi.Output<string> };
  public readonly names: ReturnType<typeof preUpgradeJobNames>;

  constructor(name: string, args: PreUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:PreUpgrade", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const move: UpgradeMove = { stack: args.environmentName, from: args.from.zenmlVersion, to: args.to };
    const scripts = Object.fromEntries(PRE_UPGRADE_SCRIPTS.map((f) => [f, readPayload(__dirname, f, "pre-upgrade script")]));
    const names = preUpgradeJobNames(move, zenmlImageTag(args.from), args.drain, Object.values(scripts));
    const bucket = args.artifacts.bucketName;

    const role = irsaRole(
      `${name}-role`,
      {
        oidc: args.cluster,
        serviceAccounts: [{ namespace: NAMESPACE, name: PRE_UPGRADE_SERVICE_ACCOUNT }],
        tags: baseTags(args.environmentName, "pre-upgrade"),
        policy: { name: `${name}-documents`, statements: pulumi.all([args.artifacts.bucketArn, args.artifacts.kmsKeyArn]).apply(([bucketArn, keyArn]) => documentStatements(bucketArn, keyArn, move, false)) },
      },
      { parent: this },
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: PRE_UPGRADE_SERVICE_ACCOUNT, namespace: NAMESPACE, labels: PRE_UPGRADE_LABELS, annotations: { "eks.amazonaws.com/role-arn": role.arn } } },
      k8sOpts,
    );
    const payload = shipPayload(`${name}-files`, { name: names.files, namespace: NAMESPACE, labels: PRE_UPGRADE_LABELS, files: scripts, volumeName: "files", mountPath: PRE_UPGRADE_MOUNT }, k8sOpts);

    const clientJob = (suffix: string, jobName: string, command: pulumi.Input<string[]>, limits: { backoffLimit: number; minutes: number }, after: pulumi.Resource[]) =>
      scriptJob(
        `${name}-${suffix}`,
        {
          name: jobName,
          namespace: NAMESPACE,
          labels: PRE_UPGRADE_LABELS,
          jobLabels: { "zenml-platform/upgrade": `${move.from}-to-${move.to}` },
          annotations: RETRY_ON_NEXT_UPDATE,
          backoffLimit: limits.backoffLimit,
          activeDeadlineSeconds: limits.minutes * 60,
          serviceAccountName: PRE_UPGRADE_SERVICE_ACCOUNT,
          payload,
          container: {
            name: suffix,
            image: zenmlClientImage(args.from),
            securityContext: RESTRICTED_CONTAINER,
            command,
            env: [...zenmlClientEnv(), { name: "HOME", value: "/tmp" }],
            volumeMounts: [payload.mount, TMP.mount],
            resources: { requests: { cpu: "100m", memory: "384Mi" }, limits: { memory: "768Mi" } },
          },
          volumes: [TMP.volume],
        },
        // Pulumi waits for each Job (its default for Jobs) up to its deadline plus the pod's start.
        { ...k8sOpts, dependsOn: [payload.configMap, serviceAccount, ...after], deleteBeforeReplace: true, customTimeouts: { create: `${limits.minutes + 10}m`, update: `${limits.minutes + 10}m` } },
      );
    // A transient failure of the inventory (IAM still propagating) may retry; a refused drain may not.
    const inventoryJob = clientJob("inventory", names.inventory, bucket.apply((b) => inventoryCommand(move, b)), { backoffLimit: 2, minutes: INVENTORY_MINUTES }, [role]);
    const drainJob = clientJob("drain", names.drain, bucket.apply((b) => drainCommand(move, b, args.drain)), { backoffLimit: 0, minutes: args.drain.waitMinutes + 5 }, [inventoryJob]);

    const keys = documentKeys(move);
    this.inventoryJob = inventoryJob;
    this.drainJob = drainJob;
    this.payload = payload;
    this.move = move;
    this.names = names;
    this.documents = {
      inventory: pulumi.interpolate`s3://${bucket}/${keys.inventory}`,
      drain: pulumi.interpolate`s3://${bucket}/${keys.drain}`,
      restoreTest: pulumi.interpolate`s3://${bucket}/${keys.restoreTest}`,
    };
    this.registerOutputs({ inventoryJob: inventoryJob.metadata.name, drainJob: drainJob.metadata.name, inventory: this.documents.inventory });
  }
}

export interface RestoreTestArgs {
  environmentName: string;
  /** The inventory and drain before it: its scripts, image, documents and upgrade. */
  preUpgrade: PreUpgrade;
  from: ZenmlImage;
  cluster: ClusterAccess;
  artifacts: ArtifactBucket;
  /** The pre-upgrade snapshot (the Job waits for it) and where its copy goes. */
  snapshot: aws.rds.Snapshot;
  target: { [K in keyof RestoreTarget]: pulumi.Input<RestoreTarget[K]> };
  /** MySQL major of the live instance: the copy gets its default option group. */
  engineVersion: string;
  region: string;
  partition: string;
  /** The VPC's range: the copy's endpoint is inside it, on the database port. */
  vpcCidr: string;
}

/**
 * The pre-upgrade snapshot restored into a short-lived instance (`zenml-<stack>-restore-test`),
 * checked against FROM's alembic head and the inventory's counts, then deleted, before the Helm
 * release may start. Its role can act on nothing but that copy; its pod never has the live password.
 */
export class RestoreTest extends pulumi.ComponentResource {
  public readonly job: k8s.batch.v1.Job;

  constructor(name: string, args: RestoreTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:RestoreTest", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const pre = args.preUpgrade;
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const rds = pulumi.all([account, args.target.subnetGroupName, args.target.parameterGroupName]).apply(([acct, subnetGroupName, parameterGroupName]) =>
      restoreTestRdsStatements({ partition: args.partition, region: args.region, account: acct, stack: args.environmentName, engineVersion: args.engineVersion, subnetGroupName, parameterGroupName }),
    );
    const documents = pulumi.all([args.artifacts.bucketArn, args.artifacts.kmsKeyArn]).apply(([bucketArn, keyArn]) => documentStatements(bucketArn, keyArn, pre.move, true));
    const role = irsaRole(
      `${name}-role`,
      {
        oidc: args.cluster,
        serviceAccounts: [{ namespace: NAMESPACE, name: RESTORE_TEST_SERVICE_ACCOUNT }],
        tags: baseTags(args.environmentName, "restore-test"),
        policy: { name: `${name}-policy`, statements: pulumi.all([rds, documents]).apply(([r, d]) => [...r, ...d]) },
      },
      { parent: this },
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: RESTORE_TEST_SERVICE_ACCOUNT, namespace: NAMESPACE, labels: RESTORE_TEST_LABELS, annotations: { "eks.amazonaws.com/role-arn": role.arn } } },
      k8sOpts,
    );
    // The namespace's policy closes the database port to every pod but the release's; this one
    // opens it for the restore-test pod, which holds no credential of the live database.
    const egress = new k8s.networking.v1.NetworkPolicy(
      `${name}-database-egress`,
      {
        metadata: { name: "restore-test-database-egress", namespace: NAMESPACE, labels: RESTORE_TEST_LABELS },
        spec: { podSelector: { matchLabels: RESTORE_TEST_LABELS }, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: args.vpcCidr } }], ports: [{ protocol: "TCP", port: DB_PORT }] }] },
      },
      k8sOpts,
    );
    const caDir = "/dbcerts";
    const target = pulumi.all([args.target.snapshotIdentifier, args.target.instanceClass, args.target.subnetGroupName, args.target.securityGroupId, args.target.parameterGroupName]);
    const command = pulumi
      .all([args.artifacts.bucketName, target])
      .apply(([bucket, [snapshotIdentifier, instanceClass, subnetGroupName, securityGroupId, parameterGroupName]]) =>
        restoreTestCommand(pre.move, bucket, { snapshotIdentifier, instanceClass, subnetGroupName, securityGroupId, parameterGroupName }, `${caDir}/${DB_CA_KEY}`),
      );
    this.job = scriptJob(
      `${name}-job`,
      {
        name: pre.names.restoreTest,
        namespace: NAMESPACE,
        labels: RESTORE_TEST_LABELS,
        jobLabels: { "zenml-platform/upgrade": `${pre.move.from}-to-${pre.move.to}` },
        annotations: RETRY_ON_NEXT_UPDATE,
        // The script deletes its copy whatever happens; a second pod would only restore another.
        backoffLimit: 0,
        activeDeadlineSeconds: RESTORE_TEST_MINUTES * 60,
        serviceAccountName: RESTORE_TEST_SERVICE_ACCOUNT,
        payload: pre.payload,
        container: {
          name: "restore-test",
          image: zenmlClientImage(args.from),
          securityContext: RESTRICTED_CONTAINER,
          command,
          // No ZenML login and no database password: this pod reaches only its own copy, with a password it makes.
          env: [
            { name: "HOME", value: "/tmp" },
            { name: "AWS_REGION", value: args.region },
            { name: "AWS_DEFAULT_REGION", value: args.region },
          ],
          volumeMounts: [pre.payload.mount, TMP.mount, { name: "db-ca", mountPath: caDir, readOnly: true }],
          resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
        },
        volumes: [TMP.volume, { name: "db-ca", secret: { secretName: DB_CA_SECRET } }],
      },
      {
        ...k8sOpts,
        dependsOn: [args.snapshot, pre.inventoryJob, serviceAccount, egress, role],
        deleteBeforeReplace: true,
        customTimeouts: { create: `${RESTORE_TEST_MINUTES + 10}m`, update: `${RESTORE_TEST_MINUTES + 10}m` },
      },
    );
    this.registerOutputs({ job: this.job.metadata.name });
  }
}

/** The stack output preUpgrade: where this upgrade's documents are and which Jobs wrote them, for the deploy record and whoever looks for what went missing. */
export function preUpgradeOutput(pre: PreUpgrade, restoreTest: RestoreTest | undefined, drainOverrideReason: string) {
  return {
    from: pre.move.from,
    to: pre.move.to,
    inventory: pre.documents.inventory,
    drain: pre.documents.drain,
    restoreTest: restoreTest ? pre.documents.restoreTest : null,
    jobs: { inventory: pre.inventoryJob.metadata.name, drain: pre.drainJob.metadata.name, restoreTest: restoreTest?.job.metadata.name ?? null },
    drainOverrideReason: drainOverrideReason.trim() === "" ? null : drainOverrideReason.trim(),
  };
}
