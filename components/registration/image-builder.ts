// Image builds for pipelines: CodeBuild runs `docker build` for ZenML's image builder, so the
// cluster needs no Docker daemon. Builds run in the private subnets, egress only.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ArtifactBucket } from "../artifact-store";
import type { ContainerRegistry } from "../container-registry";
import { policyDocument } from "../kit/irsa";
import type { PrivateSubnets } from "../network";

export interface ImageBuilderArgs {
  environmentName: string;
  tags: Record<string, string>;
  /** Where the builds run, and the ARN parts of their network interfaces. */
  network: PrivateSubnets;
  partition: string;
  region: string;
  account: pulumi.Input<string>;
  /** ZenML uploads each build context into the artifact bucket. */
  artifacts: ArtifactBucket;
  /** Where builds push the pipeline images. */
  registry: Pick<ContainerRegistry, "repositoryArn">;
}

export interface ImageBuilder {
  /** The CodeBuild project's name, what ZenML's image builder is configured with. */
  projectName: string;
  project: aws.codebuild.Project;
  logs: aws.cloudwatch.LogGroup;
}

/** The CodeBuild project, its role, logs and security group; each parented to `parent`. */
export function imageBuilder(name: string, args: ImageBuilderArgs, parent: pulumi.Resource): ImageBuilder {
  const { tags } = args;
  const child = { parent };
  const projectName = `zenml-${args.environmentName}-image-builder`;
  const logs = new aws.cloudwatch.LogGroup(`${name}-codebuild-logs`, { name: `/aws/codebuild/${projectName}`, retentionInDays: 30, tags }, child);
  const role = new aws.iam.Role(
    `${name}-codebuild-role`,
    { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "codebuild.amazonaws.com" }, Action: "sts:AssumeRole" }] }), tags },
    child,
  );
  const securityGroup = new aws.ec2.SecurityGroup(
    `${name}-codebuild-sg`,
    {
      vpcId: args.network.vpcId,
      description: `ZenML image builds for ${args.environmentName}: egress only`,
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "base images, package indexes, ECR" }],
      tags,
    },
    child,
  );
  const subnetArns = pulumi.all([args.network.privateSubnetIds, args.account]).apply(([ids, account]) => ids.map((id) => `arn:${args.partition}:ec2:${args.region}:${account}:subnet/${id}`));
  const vpcStatements = [
    // What CodeBuild needs to place a build's network interface in the VPC (describe calls take no resource).
    {
      Sid: "VpcDescribe",
      Effect: "Allow",
      Action: ["ec2:CreateNetworkInterface", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"],
      Resource: "*",
    },
    {
      Sid: "VpcInterface",
      Effect: "Allow",
      Action: ["ec2:CreateNetworkInterfacePermission"],
      Resource: pulumi.interpolate`arn:${args.partition}:ec2:${args.region}:${args.account}:network-interface/*`,
      Condition: { StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" }, ArnEquals: { "ec2:Subnet": subnetArns } },
    },
  ];
  new aws.iam.RolePolicy(`${name}-codebuild-vpc`, { role: role.id, policy: policyDocument(vpcStatements) }, child);
  const buildStatements = [
    { Sid: "ReadBuildContext", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: pulumi.interpolate`${args.artifacts.bucketArn}/*` },
    { Sid: "DecryptBuildContext", Effect: "Allow", Action: ["kms:Decrypt"], Resource: args.artifacts.kmsKeyArn },
    { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
    {
      Sid: "PushPipelineImages",
      Effect: "Allow",
      Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"],
      Resource: args.registry.repositoryArn,
    },
    { Sid: "BuildLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${logs.arn}:*` },
  ];
  new aws.iam.RolePolicy(`${name}-codebuild-policy`, { role: role.id, policy: policyDocument(buildStatements) }, child);
  const project = new aws.codebuild.Project(
    `${name}-codebuild`,
    {
      name: projectName,
      description: `ZenML image builder for ${args.environmentName}`,
      serviceRole: role.arn,
      // ZenML overrides source and buildspec per build; the project only fixes where and how.
      source: { type: "S3", location: pulumi.interpolate`${args.artifacts.bucketName}/codebuild/placeholder.zip` },
      artifacts: { type: "NO_ARTIFACTS" },
      // Privileged only because `docker build` needs its own daemon; the build has no inbound path and no cluster access.
      environment: { type: "LINUX_CONTAINER", computeType: "BUILD_GENERAL1_MEDIUM", image: "aws/codebuild/amazonlinux2-x86_64-standard:5.0", privilegedMode: true },
      vpcConfig: { vpcId: args.network.vpcId, subnets: args.network.privateSubnetIds, securityGroupIds: [securityGroup.id] },
      logsConfig: { cloudwatchLogs: { groupName: logs.name, status: "ENABLED" } },
      buildTimeout: 60,
      tags,
    },
    { parent, dependsOn: [logs] },
  );
  return { projectName, project, logs };
}
