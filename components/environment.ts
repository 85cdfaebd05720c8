import * as pulumi from "@pulumi/pulumi";
import { ArtifactStore } from "./artifact-store";
import { Cluster } from "./cluster";
import { ClusterLogging } from "./cluster-logging";
import type { PlatformConfig } from "./config";
import { ContainerRegistry } from "./container-registry";
import { Database } from "./database";
import { Alarms } from "./alarms";
import { ImageMirror } from "./image-mirror";
import type { AlbExposure } from "./kit/alb-ingress";
import { builtEcrRepository, type LockedBuiltImage } from "./kit/built-images";
import type { ZenmlImage } from "./kit/zenml-client";
import { MlflowServer, scaleMlflowToZero } from "./mlflow/mlflow-server";
import { Network } from "./network";
import { NetworkPolicies } from "./network-policies";
import type { PipelineCatalogue, SourceFiles } from "./post-upgrade/pipeline-catalogue";
import { PostUpgrade } from "./post-upgrade/post-upgrade";
import { PreUpgrade, RestoreTest } from "./pre-upgrade/pre-upgrade";
import { INGRESS_STACK, NAMESPACE as SERVER_NAMESPACE, ZenmlServer, loadBalancerName } from "./zenml-server";
import { ZenmlStack } from "./registration/zenml-stack";

export interface ZenmlEnvironmentArgs {
  config: PlatformConfig;
  /** Identifier of the manual snapshot to take before the Helm upgrade. Default: none (no version change). */
  preUpgradeSnapshotId?: string;
  /** Rollback: restore this snapshot into a new instance and point the server at it. Default: none. */
  rollback?: { snapshotIdentifier: string; fromVersion: string };
  /** The environment's pipeline catalogue (pipelines/<stack>.yaml), validated, with its in-repo sources. */
  pipelines: { catalogue: PipelineCatalogue; sources: SourceFiles };
  /** Each EKS add-on's version for this cluster (resolveAddonVersions), by add-on name. */
  addonVersions: Record<string, string>;
  /** This update upgrades the MySQL major: the version it comes from and the snapshot to take first. Default: none. */
  mysqlMajorUpgrade?: { fromVersion: string; snapshotId: string };
  /** MLflow upgrade of a running server: scale it to zero before the snapshot, migrate after it. Default: none. */
  mlflowUpgrade?: { from: string; to: string };
  /** The server image's tag for the chart and the Jobs: `<version>@sha256:<digest>` when images.lock.yaml pins it. Default: the version. */
  serverImageTag?: string;
  /** This update upgrades ZenML from this version (image tag as it ran, with its digest when recorded): inventory, drain and restore-test come first. Default: none. */
  zenmlUpgrade?: { from: string; fromImageTag?: string };
  /** The post-upgrade Job's image, built by the images workflow and locked by digest. */
  postUpgradeImage: LockedBuiltImage;
  /** MLflow's image when we build it (mlflowImage ""). Default: mlflowImage. */
  mlflowBuiltImage?: LockedBuiltImage;
}

/** One complete ZenML environment. Staging and prod are two instances of this, differing only in config. */
export class ZenmlEnvironment extends pulumi.ComponentResource {
  public readonly serverUrl: pulumi.Output<string>;
  public readonly bucketName: pulumi.Output<string>;
  public readonly registryUrl: pulumi.Output<string>;
  public readonly registryUri: pulumi.Output<string>;
  public readonly clusterName: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly databaseEndpoint: pulumi.Output<string>;
  public readonly databaseInstanceIdentifier: pulumi.Output<string>;
  public readonly activeDatabaseInstanceIdentifier: pulumi.Output<string>;
  public readonly applicationLogGroup: pulumi.Output<string>;
  public readonly serverRoleArn: pulumi.Output<string>;
  public readonly adminPassword: pulumi.Output<string>;
  public readonly zenmlStackName: pulumi.Output<string>;
  public readonly zenmlStackRegistrationJob: pulumi.Output<string>;
  public readonly postUpgradeJob: pulumi.Output<string>;
  /** Undefined unless mlflowVersion is set. */
  public readonly mlflow?: MlflowServer;
  /** Inventory and drain, when this update upgrades ZenML. */
  public readonly preUpgrade?: PreUpgrade;
  /** The pre-upgrade snapshot's restore-test, when this update upgrades ZenML and the stack wants it. */
  public readonly restoreTest?: RestoreTest;

  constructor(name: string, args: ZenmlEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:ZenmlEnvironment", name, {}, opts);
    const c = args.config;
    const env = c.stack;
    const child = { parent: this };

    const { network, cluster, logging, artifacts, registry } = foundation(name, args, this);
    // Upgrade order: scale MLflow to zero -> snapshot -> migration Job -> new server.
    const mlflowStopped = args.mlflowUpgrade && scaleMlflowToZero(`${name}-mlflow`, { provider: cluster.provider, ...args.mlflowUpgrade }, child);
    // ZenML's: inventory -> drain -> snapshot -> restore-test -> release. The Jobs are declared before the
    // database (its snapshot waits for the drain), the image mirror after it: their repository is filled in then.
    const [mirror, resolveMirror] = pulumi.deferredOutput<string>();
    const from: ZenmlImage | undefined = args.zenmlUpgrade && { zenmlVersion: args.zenmlUpgrade.from, repository: mirror, tag: args.zenmlUpgrade.fromImageTag };
    const preUpgrade = from && new PreUpgrade(`${name}-pre-upgrade`, { environmentName: env, from, to: c.zenmlVersion, cluster, artifacts, drain: { waitMinutes: c.upgradeDrainMinutes, overrideReason: c.upgradeDrainOverrideReason } }, child);
    const database = newDatabase(name, args, { network, cluster, snapshotAfter: [mlflowStopped, preUpgrade?.drainJob] }, this);
    const images = new ImageMirror(`${name}-images`, { environmentName: env, dockerHubCredentialArn: c.dockerHubCredentialArn, nodeRoleName: cluster.nodeRoleName, protect: c.isProd }, child);
    resolveMirror(images.serverImageRepository);
    this.preUpgrade = preUpgrade;
    this.restoreTest = from && preUpgrade && c.restoreTestBeforeUpgrade && database.preUpgradeSnapshot ? restoreTestOf(name, args, { from, preUpgrade, cluster, artifacts, database }, this) : undefined;
    const image = { zenmlVersion: c.zenmlVersion, repository: images.serverImageRepository, tag: args.serverImageTag };
    const { server, mlflow } = servers(name, args, { image, cluster, database, artifacts, registry, mlflowStopped, restoreTest: this.restoreTest }, this);
    this.mlflow = mlflow;
    const zenmlStack = new ZenmlStack(
      `${name}-stack`,
      {
        environmentName: env,
        image,
        stackName: c.zenmlStackName === "" ? `aws-${env}` : c.zenmlStackName,
        pipelinesNamespace: c.pipelinesNamespace,
        region: c.region,
        partition: c.partition,
        cluster,
        network,
        artifacts,
        registry,
        server,
        mlflow: this.mlflow,
      },
      child,
    );
    new NetworkPolicies(
      `${name}-network-policies`,
      { provider: cluster.provider, vpcCidr: c.vpcCidr, serverNamespace: SERVER_NAMESPACE, workloadNamespaces: [c.pipelinesNamespace], dependsOn: [server.release, zenmlStack] },
      child,
    );
    new Alarms(
      `${name}-alarms`,
      {
        environmentName: env,
        topicArn: c.alarmTopicArn,
        loadBalancerName: loadBalancerName(env),
        ingressStack: INGRESS_STACK,
        loadBalancerDependsOn: [server.release],
        dbInstanceIdentifier: database.activeInstanceIdentifier,
        dbAllocatedStorageGb: c.dbAllocatedStorageGb,
      },
      child,
    );
    const postUpgrade = new PostUpgrade(
      `${name}-post-upgrade`,
      {
        environmentName: env,
        // Our own image in this environment's ECR (.github/workflows/images.yml pushes it there).
        image: {
          zenmlVersion: c.zenmlVersion,
          repository: pulumi.interpolate`${registry.registryUri}/${builtEcrRepository(env, "post-upgrade")}`,
          tag: `${args.postUpgradeImage.tag}@${args.postUpgradeImage.digest}`,
        },
        stackName: zenmlStack.stackName,
        catalogue: args.pipelines.catalogue,
        sources: args.pipelines.sources,
        provider: cluster.provider,
        dependsOn: [server.release, zenmlStack.registrationJob],
      },
      child,
    );

    this.serverUrl = server.serverUrl;
    this.bucketName = artifacts.bucketName;
    this.registryUrl = registry.repositoryUrl;
    this.registryUri = registry.registryUri;
    this.clusterName = cluster.clusterName;
    this.kubeconfig = cluster.kubeconfig;
    this.databaseEndpoint = database.endpoint;
    this.databaseInstanceIdentifier = database.instanceIdentifier;
    this.activeDatabaseInstanceIdentifier = database.activeInstanceIdentifier;
    this.applicationLogGroup = logging.applicationLogGroup;
    this.serverRoleArn = server.serviceAccountRoleArn;
    this.adminPassword = server.adminPassword;
    this.zenmlStackName = zenmlStack.stackName;
    this.zenmlStackRegistrationJob = zenmlStack.jobName;
    this.postUpgradeJob = postUpgrade.jobName;
    this.registerOutputs({ serverUrl: this.serverUrl, bucketName: this.bucketName, clusterName: this.clusterName, databaseEndpoint: this.databaseEndpoint });
  }
}

/** The ZenML server, and the MLflow server when mlflowVersion is set: both exposed alike. */
function servers(name: string, args: ZenmlEnvironmentArgs, on: { image: ZenmlImage; cluster: Cluster; database: Database; artifacts: ArtifactStore; registry: ContainerRegistry; mlflowStopped?: pulumi.Resource; restoreTest?: RestoreTest }, parent: pulumi.Resource) {
  const c = args.config;
  const { cluster, database, artifacts } = on;
  const child = { parent };
  const exposure: AlbExposure = { hostname: c.serverHostname, certificateArn: c.certificateArn, inboundCidrs: c.serverIngressCidrs, scheme: c.serverIngressScheme };
  const server = new ZenmlServer(
    `${name}-server`,
    {
      environmentName: c.stack,
      image: on.image,
      cluster,
      database,
      artifacts,
      exposure,
      replicas: c.serverReplicas,
      cpu: c.serverCpu,
      memory: c.serverMemory,
      protect: c.isProd,
      upgradeDependsOn: [database.preUpgradeSnapshot, database.preMajorUpgradeSnapshot, on.restoreTest?.job].filter((x): x is NonNullable<typeof x> => x !== undefined),
      maxMigrationMinutes: c.maxMigrationMinutes,
      jwtExpiryMinutes: c.serverJwtExpiryMinutes,
      region: c.region,
    },
    child,
  );
  if (c.mlflowVersion === "") return { server, mlflow: undefined };
  const mlflow = new MlflowServer(
    `${name}-mlflow`,
    {
      environmentName: c.stack,
      mlflowVersion: c.mlflowVersion,
      ...(args.mlflowBuiltImage
        ? { image: pulumi.interpolate`${on.registry.registryUri}/${builtEcrRepository(c.stack, "mlflow")}:${args.mlflowBuiltImage.tag}@${args.mlflowBuiltImage.digest}`, imageId: args.mlflowBuiltImage.id }
        : { image: c.mlflowImage, imageId: c.mlflowImage }),
      cluster,
      database,
      artifacts,
      exposure: { ...exposure, hostname: c.mlflowHostname, certificateArn: c.mlflowCertificateArn === "" ? c.certificateArn : c.mlflowCertificateArn },
      region: c.region,
      replicas: c.serverReplicas,
      protect: c.isProd,
      migrationDependsOn: [...(on.mlflowStopped ? [on.mlflowStopped] : []), ...(database.preUpgradeSnapshot ? [database.preUpgradeSnapshot] : [])],
    },
    child,
  );
  return { server, mlflow };
}

/** What everything else stands on: the network, the cluster and its logs, the artifact bucket and the image registry. */
function foundation(name: string, args: ZenmlEnvironmentArgs, parent: pulumi.Resource) {
  const c = args.config;
  const env = c.stack;
  const child = { parent };
  const network = new Network(`${name}-network`, { environmentName: env, cidrBlock: c.vpcCidr, availabilityZones: c.availabilityZones, natGateways: c.natGateways }, child);
  const cluster = new Cluster(
    `${name}-cluster`,
    {
      environmentName: env,
      kubernetesVersion: c.kubernetesVersion,
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      privateSubnetIds: network.privateSubnetIds,
      publicAccessCidrs: c.clusterPublicAccessCidrs,
      adminRoleArns: c.clusterAdminRoleArns,
      viewerRoleArns: c.clusterViewerRoleArns,
      releaseNamespace: SERVER_NAMESPACE,
      partition: c.partition,
      nodePoolCpuLimit: c.nodePoolCpuLimit,
      protect: c.isProd,
      ingressScheme: c.serverIngressScheme,
    },
    child,
  );
  const logging = new ClusterLogging(
    `${name}-logging`,
    {
      environmentName: env,
      cluster,
      retentionDays: c.logRetentionDays,
      addonVersion: args.addonVersions["amazon-cloudwatch-observability"],
      after: [cluster.controlPlane],
      partition: c.partition,
    },
    child,
  );
  const artifacts = new ArtifactStore(`${name}-artifacts`, { environmentName: env, noncurrentVersionDays: c.artifactNoncurrentVersionDays, protect: c.isProd }, child);
  const registry = new ContainerRegistry(`${name}-registry`, { environmentName: env, untaggedImageDays: c.ecrUntaggedImageDays, protect: c.isProd }, child);
  return { network, cluster, logging, artifacts, registry };
}

/** The pre-upgrade snapshot restored into a short-lived copy and checked before the release moves. */
function restoreTestOf(name: string, args: ZenmlEnvironmentArgs, on: { from: ZenmlImage; preUpgrade: PreUpgrade; cluster: Cluster; artifacts: ArtifactStore; database: Database }, parent: pulumi.Resource): RestoreTest {
  const c = args.config;
  const { placement } = on.database;
  return new RestoreTest(
    `${name}-restore-test`,
    {
      environmentName: c.stack,
      preUpgrade: on.preUpgrade,
      from: on.from,
      cluster: on.cluster,
      artifacts: on.artifacts,
      snapshot: on.database.preUpgradeSnapshot!,
      target: { snapshotIdentifier: args.preUpgradeSnapshotId!, instanceClass: c.dbInstanceClass, ...placement },
      engineVersion: c.dbEngineVersion,
      region: c.region,
      partition: c.partition,
      vpcCidr: c.vpcCidr,
    },
    { parent },
  );
}

/** The RDS instance, with this update's snapshot, rollback restore or major upgrade when there is one. */
function newDatabase(name: string, args: ZenmlEnvironmentArgs, on: { network: Network; cluster: Cluster; snapshotAfter: (pulumi.Resource | undefined)[] }, parent: pulumi.Resource): Database {
  const c = args.config;
  return new Database(
    `${name}-database`,
    {
      environmentName: c.stack,
      vpcId: on.network.vpcId,
      subnetIds: on.network.privateSubnetIds,
      clientSecurityGroupId: on.cluster.clusterSecurityGroupId,
      engineVersion: c.dbEngineVersion,
      instanceClass: c.dbInstanceClass,
      allocatedStorageGb: c.dbAllocatedStorageGb,
      maxAllocatedStorageGb: c.dbMaxAllocatedStorageGb,
      multiAz: c.dbMultiAz,
      backupRetentionDays: c.dbBackupRetentionDays,
      backupWindow: c.dbBackupWindow,
      maintenanceWindow: c.dbMaintenanceWindow,
      protect: c.isProd,
      preUpgradeSnapshotId: args.preUpgradeSnapshotId,
      preUpgradeSnapshotAfter: on.snapshotAfter.filter((r): r is pulumi.Resource => r !== undefined),
      restoreFromSnapshot: args.rollback && { snapshotIdentifier: args.rollback.snapshotIdentifier, label: args.rollback.fromVersion.replace(/\./g, "-") },
      majorUpgrade: args.mysqlMajorUpgrade && { ...args.mysqlMajorUpgrade, applyImmediately: c.dbMajorUpgradeApplyImmediately },
    },
    { parent },
  );
}
