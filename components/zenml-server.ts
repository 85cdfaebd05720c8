import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ArtifactBucket } from "./artifact-store";
import { INGRESS_CLASS, type ClusterAccess } from "./cluster";
import { DB_NAME, DB_PORT, DB_USER, type DatabaseAccess } from "./database";
import { albAnnotations, type AlbExposure } from "./kit/alb-ingress";
import { irsaRole } from "./kit/irsa";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "./kit/pod-security";
import { generatedPassword, opaqueSecret } from "./kit/secrets";
import { baseTags } from "./kit/tags";
import type { ZenmlImage } from "./kit/zenml-client";
import { rdsCaBundle } from "./rds-ca";

export const ZENML_CHART = "oci://public.ecr.aws/zenml/zenml";
export const NAMESPACE = "zenml";
export const SERVICE_ACCOUNT = "zenml-server";
/** The chart names the migration hook's service account after the server's. */
export const MIGRATION_SERVICE_ACCOUNT = `${SERVICE_ACCOUNT}-db-migration`;
const DB_PASSWORD_SECRET = "zenml-db-password";
/** The RDS CAs of the region; the chart mounts the key at /dbcerts/<key> for server and migration hook. */
export const DB_CA_SECRET = "zenml-db-ca";
export const DB_CA_KEY = "rds-ca.pem";
/** Holds the generated admin password, for in-cluster jobs that talk to the server. */
export const ADMIN_SECRET = "zenml-platform-admin";
export const ADMIN_USER = "admin";
/** The chart's Service ("zenml", port 80) as seen from inside the cluster. */
export const IN_CLUSTER_URL = `http://zenml.${NAMESPACE}.svc.cluster.local`;

/** Name of the server's load balancer (ALB names: 32 characters at most). */
export const loadBalancerName = (environmentName: string) => `zenml-${environmentName}`.slice(0, 32);
/** The chart's ingress, as "<namespace>/<name>": the controller tags the target group with it. */
export const INGRESS_STACK = `${NAMESPACE}/zenml`;
/** The chart's selector labels for release "zenml" (chart _helpers.tpl `zenml.selectorLabels`). */
export const SERVER_POD_LABELS = { "app.kubernetes.io/name": "zenml", "app.kubernetes.io/instance": "zenml" };
/** The chart names its Deployment after the release when the release name contains the chart name. */
export const SERVER_DEPLOYMENT = "zenml";

/** Server pods that must stay up through voluntary disruption: 1 when there are 2+ replicas; a single replica cannot be protected without blocking every node drain. */
export function serverMinAvailable(replicas: number): number {
  return Math.min(1, replicas - 1);
}

export interface ZenmlServerArgs {
  environmentName: string;
  /** The chart's version and the server image: the chart and image versions never differ. */
  image: ZenmlImage;
  cluster: ClusterAccess;
  database: DatabaseAccess;
  /** The server reads and writes artifacts there (its IRSA role). */
  artifacts: ArtifactBucket;
  /** Hostname, certificate and who may reach the server. */
  exposure: AlbExposure;
  replicas: number;
  cpu: string;
  memory: string;
  /** Protects the JWT and secrets-store keys: losing the latter makes every stored secret unreadable. */
  protect: boolean;
  /** Minutes a login token stays valid (ZenML's default: never expires). */
  jwtExpiryMinutes: number;
  /** The database's region: its RDS CAs verify the server certificate. */
  region: string;
  /** Minutes the chart's migration hook may take (maxMigrationMinutes); the release allows 10 more for the rollout. */
  maxMigrationMinutes: number;
  /** Resources the Helm upgrade must wait for, e.g. the pre-upgrade snapshot. Default: none. */
  upgradeDependsOn?: pulumi.Resource[];
}

/** The ZenML server as a Helm release, so the chart's migration hook runs before new pods start. */
export class ZenmlServer extends pulumi.ComponentResource {
  public readonly serverUrl: pulumi.Output<string>;
  public readonly releaseName: pulumi.Output<string>;
  public readonly serviceAccountRoleArn: pulumi.Output<string>;
  public readonly chartVersion: pulumi.Output<string>;
  public readonly serviceAccountRoleName: pulumi.Output<string>;
  public readonly adminPassword: pulumi.Output<string>;
  /** The Helm release: anything that talks to the server waits for it. */
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: ZenmlServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:ZenmlServer", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const secrets = serverSecrets(name, args, this);
    // Least privilege: the artifact bucket and its key, nothing else.
    const role = irsaRole(
      `${name}-role`,
      {
        oidc: args.cluster,
        serviceAccounts: [
          { namespace: NAMESPACE, name: SERVICE_ACCOUNT },
          { namespace: NAMESPACE, name: MIGRATION_SERVICE_ACCOUNT },
        ],
        tags: baseTags(args.environmentName, "zenml-server"),
        policy: {
          name: `${name}-bucket-access`,
          statements: [
            { Sid: "ListArtifactBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: args.artifacts.bucketArn },
            { Sid: "ReadWriteArtifacts", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: pulumi.interpolate`${args.artifacts.bucketArn}/*` },
            { Sid: "UseArtifactKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.artifacts.kmsKeyArn },
          ],
        },
      },
      { parent: this },
    );

    const serverUrl = `https://${args.exposure.hostname}`;
    const release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "zenml",
        namespace: NAMESPACE,
        chart: ZENML_CHART,
        version: args.image.zenmlVersion,
        // A failed migration hook rolls the release back to the previous image instead of leaving it half-done.
        atomic: true,
        cleanupOnFail: true,
        timeout: (args.maxMigrationMinutes + 10) * 60,
        maxHistory: 10,
        values: chartValues(args, { serverUrl, roleArn: role.arn, ...secrets }),
      },
      { ...k8sOpts, dependsOn: [secrets.namespace, secrets.dbPassword, secrets.dbCa, ...(args.upgradeDependsOn ?? [])] },
    );
    keepServerAvailable(name, args.replicas, { namespace: secrets.namespace, release }, k8sOpts);

    this.serverUrl = pulumi.output(serverUrl);
    this.releaseName = release.name;
    this.serviceAccountRoleArn = role.arn;
    this.chartVersion = release.version.apply((v) => v ?? args.image.zenmlVersion);
    this.serviceAccountRoleName = role.name;
    this.adminPassword = secrets.adminPassword;
    this.release = release;
    this.registerOutputs({ serverUrl: this.serverUrl, releaseName: this.releaseName, serviceAccountRoleArn: this.serviceAccountRoleArn });
  }
}

/** The namespace, the Secrets the chart reads, and the generated keys and admin password. */
function serverSecrets(name: string, args: ZenmlServerArgs, parent: pulumi.Resource) {
  const k8sOpts = { parent, provider: args.cluster.provider };
  const keyOpts = { parent, protect: args.protect };
  const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: NAMESPACE } }, k8sOpts);
  const inNamespace = { ...k8sOpts, dependsOn: [namespace] };
  const dbPassword = opaqueSecret(`${name}-db-password`, { secretName: DB_PASSWORD_SECRET, namespace: NAMESPACE, values: { password: pulumi.secret(args.database.password) } }, inNamespace);
  const dbCa = opaqueSecret(`${name}-db-ca`, { secretName: DB_CA_SECRET, namespace: NAMESPACE, values: { [DB_CA_KEY]: rdsCaBundle(args.region) } }, inNamespace);
  const jwtKey = generatedPassword(`${name}-jwt-key`, 64, keyOpts);
  const secretsStoreKey = generatedPassword(`${name}-secrets-store-key`, 64, keyOpts);
  // The server activates itself with this admin instead of waiting for someone to open the dashboard.
  const adminPassword = generatedPassword(`${name}-admin-password`, 32, keyOpts);
  opaqueSecret(`${name}-admin`, { secretName: ADMIN_SECRET, namespace: NAMESPACE, values: { username: ADMIN_USER, password: adminPassword } }, inNamespace);
  return { namespace, dbPassword, dbCa, jwtKey, secretsStoreKey, adminPassword };
}

/** The chart's values: ZenML's `zenml.*` keys, then the pods' account, resources and security. */
function chartValues(args: ZenmlServerArgs, from: { serverUrl: string; roleArn: pulumi.Output<string>; jwtKey: pulumi.Output<string>; secretsStoreKey: pulumi.Output<string>; adminPassword: pulumi.Output<string> }) {
  // A known load balancer name, so the alarms can find the ALB the controller creates.
  const alb = albAnnotations(args.exposure, loadBalancerName(args.environmentName));
  return {
    zenml: {
      image: { tag: args.image.tag ?? args.image.zenmlVersion, ...(args.image.repository ? { repository: args.image.repository } : {}) },
      replicaCount: args.replicas,
      debug: false,
      analyticsOptIn: false,
      serverURL: from.serverUrl,
      database: {
        url: pulumi.interpolate`mysql://${DB_USER}@${args.database.address}:${DB_PORT}/${DB_NAME}`,
        passwordSecretRef: { name: DB_PASSWORD_SECRET, key: "password" },
        ssl: true,
        // The region's RDS CAs come from a Secret the program writes: a forged server is refused.
        sslCa: { secretRef: { name: DB_CA_SECRET, key: DB_CA_KEY } },
        sslVerifyServerCert: true,
        // The chart's own safety net for a failed migration: a copy inside the same server, no PV, no RAM spike.
        backupStrategy: "database",
        backupDatabase: "zenml_backup",
      },
      secretsStore: { enabled: true, type: "sql", sql: { encryptionKey: from.secretsStoreKey } },
      auth: { jwtSecretKey: from.jwtKey, corsAllowOrigins: [from.serverUrl], jwtTokenExpireMinutes: args.jwtExpiryMinutes },
      environment: {
        ZENML_SERVER_AUTO_ACTIVATE: "1",
        ZENML_DEFAULT_USER_NAME: ADMIN_USER,
        // Service connectors with implicit auth assume their IAM role with the server's IRSA credentials.
        ZENML_ENABLE_IMPLICIT_AUTH_METHODS: "true",
      },
      secretEnvironment: { ZENML_DEFAULT_USER_PASSWORD: from.adminPassword },
      ingress: {
        enabled: true,
        className: INGRESS_CLASS,
        host: args.exposure.hostname,
        path: "/",
        // TLS ends at the ALB with the ACM certificate; plain HTTP is redirected.
        tls: { enabled: false },
        annotations: { ...alb.routing, ...alb.reach },
      },
    },
    serviceAccount: { create: true, name: SERVICE_ACCOUNT, annotations: { "eks.amazonaws.com/role-arn": from.roleArn } },
    resources: { requests: { cpu: args.cpu, memory: args.memory }, limits: { memory: args.memory } },
    // Applies to the server and the chart's migration hook alike.
    podSecurityContext: RESTRICTED_POD,
    securityContext: RESTRICTED_CONTAINER,
  };
}

/**
 * Availability through upgrades and node replacement; the chart has no PodDisruptionBudget,
 * no topology spread and no strategy values, so these are our own objects.
 */
function keepServerAvailable(name: string, replicas: number, after: { namespace: pulumi.Resource; release: pulumi.Resource }, k8sOpts: pulumi.CustomResourceOptions): void {
  new k8s.policy.v1.PodDisruptionBudget(
    `${name}-pdb`,
    { metadata: { name: "zenml-server", namespace: NAMESPACE }, spec: { minAvailable: serverMinAvailable(replicas), selector: { matchLabels: SERVER_POD_LABELS } } },
    { ...k8sOpts, dependsOn: [after.namespace] },
  );
  // Server-side apply patch of the chart's Deployment: Helm's three-way merge leaves fields its manifest never sets.
  new k8s.apps.v1.DeploymentPatch(
    `${name}-availability`,
    {
      metadata: { name: SERVER_DEPLOYMENT, namespace: NAMESPACE, annotations: { "pulumi.com/patchForce": "true" } },
      spec: {
        // New pods come up before old ones go: a rollout never drops below the replica count.
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          spec: {
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: SERVER_POD_LABELS }, matchLabelKeys: ["pod-template-hash"] },
              { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: SERVER_POD_LABELS }, matchLabelKeys: ["pod-template-hash"] },
            ],
          },
        },
      },
    },
    { ...k8sOpts, dependsOn: [after.release] },
  );
}
