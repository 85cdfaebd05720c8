import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { irsaRole } from "../kit/irsa";
import { readPayload } from "../kit/payload";
import { RESTRICTED_CONTAINER } from "../kit/pod-security";
import { scriptJob, shipPayload } from "../kit/script-job";
import { baseTags } from "../kit/tags";
import { zenmlClientEnv, zenmlClientImage, zenmlImageTag, type ZenmlImage } from "../kit/zenml-client";
import { NAMESPACE } from "../zenml-server";
import { MLFLOW_CREDENTIAL_ENV, buildStackSpec, registrationDigest, type StackSpec } from "./zenml-stack-spec";

const SCRIPT = "register_stack.py";
export const PIPELINES_SERVICE_ACCOUNT = "zenml-pipelines";

export interface ZenmlStackArgs {
  environmentName: string;
  /** The client's image: exactly the server's. */
  image: ZenmlImage;
  stackName: string;
  pipelinesNamespace: string;
  region: string;
  provider: k8s.Provider;
  clusterName: pulumi.Input<string>;
  oidcProviderArn: pulumi.Input<string>;
  oidcProviderUrl: pulumi.Input<string>;
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  bucketKmsKeyArn: pulumi.Input<string>;
  registryUri: pulumi.Input<string>;
  repositoryName: pulumi.Input<string>;
  repositoryArn: pulumi.Input<string>;
  /** The ZenML server's IRSA role: the only principal that may assume the connector role. */
  serverRoleArn: pulumi.Input<string>;
  serverRoleName: pulumi.Input<string>;
  /** The server's Helm release; registration waits for it. */
  server: pulumi.Resource;
  /** The environment's MLflow server, registered as the experiment tracker. Default: none. */
  mlflow?: { trackingUri: pulumi.Input<string>; username: string; password: pulumi.Input<string>; server: pulumi.Resource };
  /** ARN partition of the region ("aws", "aws-cn", "aws-us-gov"). */
  partition: string;
  /** CodeBuild runs inside the VPC's private subnets, egress only. */
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string[]>;
}

/**
 * Registers the environment's ZenML stack (AWS connector, S3 artifact store, ECR registry,
 * Kubernetes orchestrator, CodeBuild image builder) from inside the cluster, with a client of the
 * server's version, so it needs no network path from CI to the server.
 */
export class ZenmlStack extends pulumi.ComponentResource {
  public readonly stackName: pulumi.Output<string>;
  public readonly connectorRoleArn: pulumi.Output<string>;
  public readonly jobName: pulumi.Output<string>;
  public readonly spec: pulumi.Output<StackSpec>;
  /** The registration Job: later in-cluster work (the post-upgrade Job) starts after it. */
  public readonly registrationJob: k8s.batch.v1.Job;

  constructor(name: string, args: ZenmlStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:ZenmlStack", name, {}, opts);
    const env = args.environmentName;
    const tags = baseTags(env, "zenml-stack");
    const child = { parent: this };
    const k8sOpts = { parent: this, provider: args.provider };
    const identity = aws.getCallerIdentityOutput({}, child);
    const account = identity.accountId;
    const clusterArn = pulumi.interpolate`arn:${args.partition}:eks:${args.region}:${account}:cluster/${args.clusterName}`;
    const codeBuildProjectName = `zenml-${env}-image-builder`;
    const codeBuildLogGroupName = `/aws/codebuild/${codeBuildProjectName}`;

    // Image builds: CodeBuild runs `docker build` for ZenML, so the cluster needs no Docker daemon.
    const codeBuildLogs = new aws.cloudwatch.LogGroup(`${name}-codebuild-logs`, { name: codeBuildLogGroupName, retentionInDays: 30, tags }, child);
    const codeBuildRole = new aws.iam.Role(
      `${name}-codebuild-role`,
      { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "codebuild.amazonaws.com" }, Action: "sts:AssumeRole" }] }), tags },
      child,
    );
    // Builds run in the private subnets: no inbound path, egress through the NAT like the nodes.
    const codeBuildSg = new aws.ec2.SecurityGroup(
      `${name}-codebuild-sg`,
      { vpcId: args.vpcId, description: `ZenML image builds for ${env}: egress only`, egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "base images, package indexes, ECR" }], tags },
      child,
    );
    const subnetArns = pulumi.all([args.privateSubnetIds, account]).apply(([ids, acct]) => ids.map((id) => `arn:${args.partition}:ec2:${args.region}:${acct}:subnet/${id}`));
    new aws.iam.RolePolicy(
      `${name}-codebuild-vpc`,
      {
        role: codeBuildRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            // What CodeBuild needs to place a build's network interface in the VPC (describe calls take no resource).
            { Sid: "VpcDescribe", Effect: "Allow", Action: ["ec2:CreateNetworkInterface", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"], Resource: "*" },
            { Sid: "VpcInterface", Effect: "Allow", Action: ["ec2:CreateNetworkInterfacePermission"], Resource: pulumi.interpolate`arn:${args.partition}:ec2:${args.region}:${account}:network-interface/*`, Condition: { StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" }, ArnEquals: { "ec2:Subnet": subnetArns } } },
          ],
        }),
      },
      child,
    );
    new aws.iam.RolePolicy(
      `${name}-codebuild-policy`,
      {
        role: codeBuildRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "ReadBuildContext", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: pulumi.interpolate`${args.bucketArn}/*` },
            { Sid: "DecryptBuildContext", Effect: "Allow", Action: ["kms:Decrypt"], Resource: args.bucketKmsKeyArn },
            { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
            {
              Sid: "PushPipelineImages",
              Effect: "Allow",
              Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"],
              Resource: args.repositoryArn,
            },
            { Sid: "BuildLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${codeBuildLogs.arn}:*` },
          ],
        }),
      },
      child,
    );
    const codeBuild = new aws.codebuild.Project(
      `${name}-codebuild`,
      {
        name: codeBuildProjectName,
        description: `ZenML image builder for ${env}`,
        serviceRole: codeBuildRole.arn,
        // ZenML overrides source and buildspec per build; the project only fixes where and how.
        source: { type: "S3", location: pulumi.interpolate`${args.bucketName}/codebuild/placeholder.zip` },
        artifacts: { type: "NO_ARTIFACTS" },
        // Privileged only because `docker build` needs its own daemon; the build has no inbound path and no cluster access.
        environment: { type: "LINUX_CONTAINER", computeType: "BUILD_GENERAL1_MEDIUM", image: "aws/codebuild/amazonlinux2-x86_64-standard:5.0", privilegedMode: true },
        vpcConfig: { vpcId: args.vpcId, subnets: args.privateSubnetIds, securityGroupIds: [codeBuildSg.id] },
        logsConfig: { cloudwatchLogs: { groupName: codeBuildLogs.name, status: "ENABLED" } },
        buildTimeout: 60,
        tags,
      },
      { parent: this, dependsOn: [codeBuildLogs] },
    );

    // The connector role: what pipelines reach through ZenML, and nothing else.
    const connectorRole = new aws.iam.Role(
      `${name}-connector-role`,
      {
        name: `zenml-${env}-connector`,
        assumeRolePolicy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: args.serverRoleArn }, Action: "sts:AssumeRole" }] }),
        tags,
      },
      child,
    );
    // What pipelines need, once: the role's policy, and the session policy every connector session
    // is narrowed to, so a session can never do more than this even if the role is later widened.
    const connectorStatements = [
      // The bucket is versioned: ZenML lists and removes old versions of its log files.
      { Sid: "ArtifactBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:GetBucketVersioning"], Resource: args.bucketArn },
      { Sid: "Artifacts", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource: pulumi.interpolate`${args.bucketArn}/*` },
      { Sid: "ArtifactKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.bucketKmsKeyArn },
      { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken", "ecr:DescribeRegistry"], Resource: "*" },
      {
        Sid: "PipelineImages",
        Effect: "Allow",
        Action: ["ecr:DescribeRepositories", "ecr:ListImages", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"],
        Resource: args.repositoryArn,
      },
      { Sid: "Cluster", Effect: "Allow", Action: ["eks:DescribeCluster"], Resource: clusterArn },
      { Sid: "ImageBuilds", Effect: "Allow", Action: ["codebuild:StartBuild", "codebuild:BatchGetBuilds"], Resource: codeBuild.arn },
      { Sid: "ImageBuildLogs", Effect: "Allow", Action: ["logs:GetLogEvents"], Resource: pulumi.interpolate`${codeBuildLogs.arn}:*` },
    ];
    new aws.iam.RolePolicy(`${name}-connector-policy`, { role: connectorRole.id, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: connectorStatements }) }, child);
    // Sids dropped: AWS caps a packed session policy at 2048 characters.
    const sessionPolicy = pulumi.jsonStringify({ Version: "2012-10-17", Statement: connectorStatements.map(({ Sid: _sid, ...rest }) => rest) });
    // Implicit auth: the server resolves connector credentials by assuming this role.
    new aws.iam.RolePolicy(
      `${name}-server-assumes-connector`,
      { role: args.serverRoleName, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [{ Sid: "AssumeConnectorRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: connectorRole.arn }] }) },
      child,
    );
    // Kubernetes access for the orchestrator, limited to the pipelines namespace.
    const accessEntry = new aws.eks.AccessEntry(`${name}-connector-access`, { clusterName: args.clusterName, principalArn: connectorRole.arn, type: "STANDARD", tags }, child);
    new aws.eks.AccessPolicyAssociation(
      `${name}-connector-edit`,
      {
        clusterName: args.clusterName,
        principalArn: connectorRole.arn,
        policyArn: `arn:${args.partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy`,
        accessScope: { type: "namespace", namespaces: [args.pipelinesNamespace] },
      },
      { parent: this, dependsOn: [accessEntry] },
    );

    // Pipeline pods read and write artifacts with their own role.
    const pipelinesRole = irsaRole(
      `${name}-pipelines-role`,
      {
        oidc: args,
        serviceAccounts: [{ namespace: args.pipelinesNamespace, name: PIPELINES_SERVICE_ACCOUNT }],
        tags,
        policy: {
          name: `${name}-pipelines-policy`,
          statements: [
            { Sid: "ArtifactBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: args.bucketArn },
            { Sid: "Artifacts", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: pulumi.interpolate`${args.bucketArn}/*` },
            { Sid: "ArtifactKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.bucketKmsKeyArn },
          ],
        },
      },
      child,
    );
    const pipelinesNs = new k8s.core.v1.Namespace(`${name}-pipelines-ns`, { metadata: { name: args.pipelinesNamespace } }, k8sOpts);
    new k8s.core.v1.ServiceAccount(
      `${name}-pipelines-sa`,
      { metadata: { name: PIPELINES_SERVICE_ACCOUNT, namespace: args.pipelinesNamespace, annotations: { "eks.amazonaws.com/role-arn": pipelinesRole.arn } } },
      { ...k8sOpts, dependsOn: [pipelinesNs] },
    );
    // With service_account_name set, ZenML creates no binding itself; its orchestrator pod launches
    // step pods in this namespace, so the account may edit there (and nowhere else).
    new k8s.rbac.v1.RoleBinding(
      `${name}-pipelines-edit`,
      {
        metadata: { name: "zenml-pipelines-edit", namespace: args.pipelinesNamespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ kind: "ServiceAccount", name: PIPELINES_SERVICE_ACCOUNT, namespace: args.pipelinesNamespace }],
      },
      { ...k8sOpts, dependsOn: [pipelinesNs] },
    );

    // MLflow's credentials, copied into this namespace for the job (a pod reads only its own namespace's secrets).
    const mlflowCredentials =
      args.mlflow &&
      new k8s.core.v1.Secret(
        `${name}-mlflow-credentials`,
        { metadata: { name: "zenml-platform-mlflow", namespace: NAMESPACE }, type: "Opaque", stringData: { username: args.mlflow.username, password: pulumi.secret(args.mlflow.password) } },
        k8sOpts,
      );
    const script = readPayload(__dirname, SCRIPT, "stack registration script");
    const spec = pulumi.all([connectorRole.arn, args.bucketName, args.registryUri, args.repositoryName, args.clusterName, sessionPolicy, args.mlflow?.trackingUri ?? ""]).apply(([connectorRoleArn, bucketName, registryUri, repositoryName, clusterName, connectorSessionPolicy, trackingUri]) =>
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
        codeBuildProject: codeBuildProjectName,
        sessionPolicy: connectorSessionPolicy,
        mlflow: args.mlflow ? { trackingUri } : undefined,
      }),
    );
    const digest = spec.apply((s) => registrationDigest(zenmlImageTag(args.image), s, script));
    const resourceName = pulumi.interpolate`zenml-register-stack-${digest}`;
    const labels = { "app.kubernetes.io/managed-by": "zenml-platform", "app.kubernetes.io/component": "stack-registration" };

    const payload = shipPayload(
      `${name}-registration-files`,
      { name: resourceName, namespace: NAMESPACE, labels, files: { [SCRIPT]: script, "spec.json": spec.apply((s) => JSON.stringify(s, null, 2)) }, volumeName: "files", mountPath: "/opt/zenml-platform" },
      k8sOpts,
    );
    const mlflowEnv = (envName: string, key: string) => ({ name: envName, valueFrom: { secretKeyRef: { name: "zenml-platform-mlflow", key } } });
    const job = scriptJob(
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
      { ...k8sOpts, dependsOn: [args.server, payload.configMap, ...(args.mlflow && mlflowCredentials ? [args.mlflow.server, mlflowCredentials] : [])] },
    );

    this.stackName = pulumi.output(args.stackName);
    this.connectorRoleArn = connectorRole.arn;
    this.jobName = job.metadata.name;
    this.registrationJob = job;
    this.spec = spec;
    this.registerOutputs({ stackName: this.stackName, connectorRoleArn: this.connectorRoleArn, jobName: this.jobName });
  }
}
