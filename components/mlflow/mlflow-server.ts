import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ArtifactBucket } from "../artifact-store";
import type { ClusterAccess } from "../cluster";
import type { DatabaseAccess } from "../database";
import type { AlbExposure } from "../kit/alb-ingress";
import { irsaRole } from "../kit/irsa";
import { baseTags } from "../kit/tags";
import { mlflowCredentials, mlflowDatabaseJobs } from "./mlflow-database";
import { mlflowServing } from "./mlflow-deployment";
import { MLFLOW_ARTIFACT_PREFIX, MLFLOW_DEPLOYMENT, MLFLOW_NAMESPACE, MLFLOW_SERVICE_ACCOUNT } from "./mlflow-names";

export interface MlflowServerArgs {
  environmentName: string;
  /** Exact MLflow release; the migration Job and the server run the same image. */
  mlflowVersion: string;
  /** Digest-pinned image carrying mlflowVersion, PyMySQL and boto3: ours from the environment's ECR, or mlflowImage (validated in config). */
  image: pulumi.Input<string>;
  /** The image without its registry host, which names the Jobs and their scripts (a new image is a new Job). */
  imageId: string;
  cluster: ClusterAccess;
  /** The environment's RDS instance: MLflow's own user and databases live there; the master password reaches only the bootstrap Job. */
  database: DatabaseAccess;
  /** Artifacts go under the bucket's mlflow/ prefix. */
  artifacts: ArtifactBucket;
  /** Hostname, certificate and who may reach the server: the ZenML server's settings, so both are equally reachable. */
  exposure: AlbExposure;
  /** Region of the RDS instance, whose CAs verify its certificate. */
  region: string;
  replicas: number;
  /** Protects the generated credentials (prod). */
  protect: boolean;
  /** On an upgrade: the scale-down and the pre-upgrade snapshot; the migration Job waits for both. Default: none. */
  migrationDependsOn?: pulumi.Resource[];
}

/**
 * Sets the running MLflow Deployment to zero replicas: the first step of an upgrade, before the
 * snapshot, so no old server writes while the database is copied and migrated. Registered only
 * on an upgrade of a running server; the Deployment takes its replicas back after the migration.
 */
export function scaleMlflowToZero(name: string, args: { provider: k8s.Provider; from: string; to: string }, opts: pulumi.CustomResourceOptions = {}): k8s.apps.v1.DeploymentPatch {
  return new k8s.apps.v1.DeploymentPatch(
    `${name}-scale-to-zero-${args.from.replace(/\./g, "-")}-to-${args.to.replace(/\./g, "-")}`,
    {
      metadata: { name: MLFLOW_DEPLOYMENT, namespace: MLFLOW_NAMESPACE, annotations: { "pulumi.com/patchForce": "true", "zenml-platform/upgrade": `${args.from}->${args.to}` } },
      spec: { replicas: 0 },
    },
    { ...opts, provider: args.provider },
  );
}

/**
 * The optional MLflow tracking server: its own databases on the environment's RDS instance (TLS),
 * artifacts under the artifact bucket through IRSA (no keys), basic-auth on with generated
 * credentials, HTTPS through an ALB next to ZenML. Schema changes only happen in a migration Job
 * (`mlflow db upgrade`) that the server's Deployment waits for.
 */
export class MlflowServer extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly adminPassword: pulumi.Output<string>;
  public readonly migrationJobName: pulumi.Output<string>;
  public readonly serviceAccountRoleArn: pulumi.Output<string>;
  /** The server's Deployment: anything that talks to MLflow waits for it. */
  public readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: MlflowServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:MlflowServer", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: MLFLOW_NAMESPACE } }, k8sOpts);
    const inNamespace = { ...k8sOpts, dependsOn: [namespace] };

    const credentials = mlflowCredentials(name, args, { keyOpts: { parent: this, protect: args.protect }, inNamespace });
    const migration = mlflowDatabaseJobs(name, args, credentials, { k8sOpts, inNamespace });
    // Artifacts: the bucket's mlflow/ prefix and its key, nothing else.
    const bucketArn = args.artifacts.bucketArn;
    const role = irsaRole(
      `${name}-role`,
      {
        oidc: args.cluster,
        serviceAccounts: [{ namespace: MLFLOW_NAMESPACE, name: MLFLOW_SERVICE_ACCOUNT }],
        tags: baseTags(args.environmentName, "mlflow-server"),
        policy: {
          name: `${name}-artifact-access`,
          statements: [
            { Sid: "ListMlflowArtifacts", Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn, Condition: { StringLike: { "s3:prefix": [`${MLFLOW_ARTIFACT_PREFIX}/*`, MLFLOW_ARTIFACT_PREFIX] } } },
            { Sid: "LocateBucket", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: bucketArn },
            { Sid: "ReadWriteMlflowArtifacts", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: pulumi.interpolate`${bucketArn}/${MLFLOW_ARTIFACT_PREFIX}/*` },
            { Sid: "UseArtifactKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.artifacts.kmsKeyArn },
          ],
        },
      },
      { parent: this },
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: MLFLOW_SERVICE_ACCOUNT, namespace: MLFLOW_NAMESPACE, annotations: { "eks.amazonaws.com/role-arn": role.arn } } },
      inNamespace,
    );
    const deployment = mlflowServing(name, args, { migration, serviceAccount, credentials: credentials.secret, caBundle: credentials.caBundle }, { k8sOpts, inNamespace });

    this.url = pulumi.output(`https://${args.exposure.hostname}`);
    this.adminPassword = credentials.adminPassword;
    this.migrationJobName = migration.metadata.name;
    this.serviceAccountRoleArn = role.arn;
    this.deployment = deployment;
    this.registerOutputs({ url: this.url, migrationJobName: this.migrationJobName, serviceAccountRoleArn: this.serviceAccountRoleArn });
  }
}
