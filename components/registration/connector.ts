// The AWS service connector's role: what pipelines reach through ZenML, and nothing else. The
// server assumes it (implicit auth, no stored keys); EKS lets it edit the pipelines namespace only.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ArtifactBucket } from "../artifact-store";
import type { ContainerRegistry } from "../container-registry";
import { policyDocument } from "../kit/irsa";
import type { ZenmlServer } from "../zenml-server";
import type { ImageBuilder } from "./image-builder";

export interface ConnectorArgs {
  environmentName: string;
  tags: Record<string, string>;
  partition: string;
  clusterName: pulumi.Input<string>;
  clusterArn: pulumi.Input<string>;
  pipelinesNamespace: string;
  artifacts: ArtifactBucket;
  /** Pipelines push and pull their images there. */
  registry: Pick<ContainerRegistry, "repositoryArn">;
  imageBuilder: ImageBuilder;
  /** The ZenML server's IRSA role: the only principal that may assume the connector role. */
  server: Pick<ZenmlServer, "serviceAccountRoleArn" | "serviceAccountRoleName">;
}

/** The connector role and its session policy; each resource parented to `parent`. */
export function connectorAccess(name: string, args: ConnectorArgs, parent: pulumi.Resource): { role: aws.iam.Role; sessionPolicy: pulumi.Output<string> } {
  const { tags } = args;
  const child = { parent };
  const role = new aws.iam.Role(
    `${name}-connector-role`,
    { name: `zenml-${args.environmentName}-connector`, assumeRolePolicy: policyDocument([{ Effect: "Allow", Principal: { AWS: args.server.serviceAccountRoleArn }, Action: "sts:AssumeRole" }]), tags },
    child,
  );
  // What pipelines need, once: the role's policy, and the session policy every connector session
  // is narrowed to, so a session can never do more than this even if the role is later widened.
  const statements = connectorStatements(args);
  new aws.iam.RolePolicy(`${name}-connector-policy`, { role: role.id, policy: policyDocument(statements) }, child);
  // Sids dropped: AWS caps a packed session policy at 2048 characters.
  const sessionPolicy = policyDocument(statements.map(({ Sid: _sid, ...rest }) => rest));
  // Implicit auth: the server resolves connector credentials by assuming this role.
  new aws.iam.RolePolicy(
    `${name}-server-assumes-connector`,
    { role: args.server.serviceAccountRoleName, policy: policyDocument([{ Sid: "AssumeConnectorRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: role.arn }]) },
    child,
  );
  // Kubernetes access for the orchestrator, limited to the pipelines namespace.
  const accessEntry = new aws.eks.AccessEntry(`${name}-connector-access`, { clusterName: args.clusterName, principalArn: role.arn, type: "STANDARD", tags }, child);
  new aws.eks.AccessPolicyAssociation(
    `${name}-connector-edit`,
    {
      clusterName: args.clusterName,
      principalArn: role.arn,
      policyArn: `arn:${args.partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy`,
      accessScope: { type: "namespace", namespaces: [args.pipelinesNamespace] },
    },
    { parent, dependsOn: [accessEntry] },
  );
  return { role, sessionPolicy };
}

function connectorStatements(args: ConnectorArgs) {
  const bucketArn = args.artifacts.bucketArn;
  return [
    // The bucket is versioned: ZenML lists and removes old versions of its log files.
    { Sid: "ArtifactBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:GetBucketVersioning"], Resource: bucketArn },
    { Sid: "Artifacts", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], Resource: pulumi.interpolate`${bucketArn}/*` },
    { Sid: "ArtifactKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.artifacts.kmsKeyArn },
    { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken", "ecr:DescribeRegistry"], Resource: "*" },
    {
      Sid: "PipelineImages",
      Effect: "Allow",
      Action: ["ecr:DescribeRepositories", "ecr:ListImages", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"],
      Resource: args.registry.repositoryArn,
    },
    { Sid: "Cluster", Effect: "Allow", Action: ["eks:DescribeCluster"], Resource: args.clusterArn },
    { Sid: "ImageBuilds", Effect: "Allow", Action: ["codebuild:StartBuild", "codebuild:BatchGetBuilds"], Resource: args.imageBuilder.project.arn },
    { Sid: "ImageBuildLogs", Effect: "Allow", Action: ["logs:GetLogEvents"], Resource: pulumi.interpolate`${args.imageBuilder.logs.arn}:*` },
  ];
}
