import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import type { ArtifactBucket } from "../artifact-store";
import type { ClusterAccess } from "../cluster";
import type { ContainerRegistry } from "../container-registry";
import { readPayload } from "../kit/payload";
import { RESTRICTED_CONTAINER } from "../kit/pod-security";
import { scriptJob, shipPayload } from "../kit/script-job";
import { opaqueSecret } from "../kit/secrets";
import { baseTags } from "../kit/tags";
import { zenmlClientEnv, zenmlClientImage, zenmlImageTag, type ZenmlImage } from "../kit/zenml-client";
import { MLFLOW_ADMIN_USER } from "../mlflow/mlflow-policy";
import type { MlflowServer } from "../mlflow/mlflow-server";
import type { PrivateSubnets } from "../network";
import { NAMESPACE, type ZenmlServer } from "../zenml-server";
import { connectorAccess } from "./connector";
import { imageBuilder } from "./image-builder";
import { PIPELINES_SERVICE_ACCOUNT, pipelinesAccess } from "./pipelines-access";
import { MLFLOW_CREDENTIAL_ENV, buildStackSpec, registrationDigest, type StackSpec } from "./zenml-stack-spec";

const SCRIPT = "register_stack.py";
/** MLflow's credentials, copied into the server's namespace for the Job (a pod reads only its own namespace's secrets). */
const MLFLOW_SECRET = "zenml-platform-mlflow";

export interface ZenmlStackArgs {
  environmentName: string;
  /** The client's image: exactly the server's. */
  image: ZenmlImage;
  stackName: string;
  pipelinesNamespace: string;
  region: string;
  /** ARN partition of the region ("aws", "aws-cn", "aws-us-gov"). */
  partition: string;
  cluster: ClusterAccess;
  /** CodeBuild runs inside the VPC's private subnets, egress only. */
  network: PrivateSubnets;
  artifacts: ArtifactBucket;
  /** The pipelines' image repository: ZenML's container registry. */
  registry: Pick<ContainerRegistry, "registryUri" | "repositoryName" | "repositoryArn">;
  /** Its IRSA role is the only principal that may assume the connector role; registration waits for its release. */
  server: Pick<ZenmlServer, "serviceAccountRoleArn" | "serviceAccountRoleName" | "release">;
  /** The environment's MLflow server, registered as the experiment tracker. Default: none. */
  mlflow?: Pick<MlflowServer, "url" | "adminPassword" | "deployment">;
}

/**
 * Registers the environment's ZenML stack (AWS connector, S3 artifact store, ECR registry,
 * Kubernetes orchestrator, CodeBuild image builder) from inside the cluster, with a client of the
 * server's version, so it needs no network path from CI to the server.
 */
export class ZenmlStack extends pulumi.ComponentResource {
  /** The registration Job: later in-cluster work (the post-upgrade Job) starts after it. */
  public readonly registrationJob: k8s.batch.v1.Job;
  public readonly jobName: pulumi.Output<string>;
  public readonly stackName: pulumi.Output<string>;
  /** What the Job registers. */
  public readonly spec: pulumi.Output<StackSpec>;
  public readonly connectorRoleArn: pulumi.Output<string>;

  constructor(name: string, args: ZenmlStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:ZenmlStack", name, {}, opts);
    const env = args.environmentName;
    const tags = baseTags(env, "zenml-stack");
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const clusterArn = pulumi.interpolate`arn:${args.partition}:eks:${args.region}:${account}:cluster/${args.cluster.clusterName}`;

    const builder = imageBuilder(name, { environmentName: env, tags, network: args.network, partition: args.partition, region: args.region, account, artifacts: args.artifacts, registry: args.registry }, this);
    const connector = connectorAccess(
      name,
      { environmentName: env, tags, partition: args.partition, clusterName: args.cluster.clusterName, clusterArn, pipelinesNamespace: args.pipelinesNamespace, artifacts: args.artifacts, registry: args.registry, imageBuilder: builder, server: args.server },
      this,
    );
    pipelinesAccess(name, { tags, cluster: args.cluster, namespace: args.pipelinesNamespace, artifacts: args.artifacts }, this);

    const spec = pulumi
      .all([connector.role.arn, args.artifacts.bucketName, args.registry.registryUri, args.registry.repositoryName, args.cluster.clusterName, connector.sessionPolicy, args.mlflow?.url ?? ""])
      .apply(([connectorRoleArn, bucketName, registryUri, repositoryName, clusterName, sessionPolicy, trackingUri]) =>
        buildStackSpec({
          environmentName: env,
          stackName: args.stackName,
          region: args.region,
          connectorRoleArn,
          bucketName,
          registryUri,
          repositoryName,
          clusterName,
          pipelinesNamespace: args.pipelinesNamespace,
          pipelinesServiceAccount: PIPELINES_SERVICE_ACCOUNT,
          codeBuildProject: builder.projectName,
          sessionPolicy,
          mlflow: args.mlflow ? { trackingUri } : undefined,
        }),
      );
    const job = registrationJob(name, args, spec, this);

    this.stackName = pulumi.output(args.stackName);
    this.connectorRoleArn = connector.role.arn;
    this.jobName = job.metadata.name;
    this.registrationJob = job;
    this.spec = spec;
    this.registerOutputs({ stackName: this.stackName, connectorRoleArn: this.connectorRoleArn, jobName: this.jobName });
  }
}

/** The Job that registers `spec` (register_stack.py), after the server (and MLflow) are up. */
function registrationJob(name: string, args: ZenmlStackArgs, spec: pulumi.Output<StackSpec>, parent: pulumi.Resource): k8s.batch.v1.Job {
  const k8sOpts = { parent, provider: args.cluster.provider };
  const mlflowCredentials =
    args.mlflow && opaqueSecret(`${name}-mlflow-credentials`, { secretName: MLFLOW_SECRET, namespace: NAMESPACE, values: { username: MLFLOW_ADMIN_USER, password: pulumi.secret(args.mlflow.adminPassword) } }, k8sOpts);
  const script = readPayload(__dirname, SCRIPT, "stack registration script");
  const resourceName = pulumi.interpolate`zenml-register-stack-${spec.apply((s) => registrationDigest(zenmlImageTag(args.image), s, script))}`;
  const labels = { "app.kubernetes.io/managed-by": "zenml-platform", "app.kubernetes.io/component": "stack-registration" };
  const payload = shipPayload(
    `${name}-registration-files`,
    { name: resourceName, namespace: NAMESPACE, labels, files: { [SCRIPT]: script, "spec.json": spec.apply((s) => JSON.stringify(s, null, 2)) }, volumeName: "files", mountPath: "/opt/zenml-platform" },
    k8sOpts,
  );
  const mlflowEnv = (envName: string, key: string) => ({ name: envName, valueFrom: { secretKeyRef: { name: MLFLOW_SECRET, key } } });
  return scriptJob(
    `${name}-registration`,
    {
      name: resourceName,
      namespace: NAMESPACE,
      labels,
      backoffLimit: 2,
      payload,
      container: {
        name: "register",
        image: zenmlClientImage(args.image),
        securityContext: RESTRICTED_CONTAINER,
        command: ["python", `/opt/zenml-platform/${SCRIPT}`, "--spec", "/opt/zenml-platform/spec.json"],
        env: [...zenmlClientEnv(), ...(mlflowCredentials ? [mlflowEnv(MLFLOW_CREDENTIAL_ENV.username, "username"), mlflowEnv(MLFLOW_CREDENTIAL_ENV.password, "password")] : [])],
        volumeMounts: [payload.mount],
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
      },
    },
    { ...k8sOpts, dependsOn: [args.server.release, payload.configMap, ...(args.mlflow && mlflowCredentials ? [args.mlflow.deployment, mlflowCredentials] : [])] },
  );
}
