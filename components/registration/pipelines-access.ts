// What pipeline pods run as: their own namespace and service account, an IRSA role for the
// artifact bucket, and edit rights in that namespace only (the orchestrator launches step pods).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ArtifactBucket } from "../artifact-store";
import type { ClusterAccess } from "../cluster";
import { irsaRole } from "../kit/irsa";

export const PIPELINES_SERVICE_ACCOUNT = "zenml-pipelines";

export interface PipelinesAccessArgs {
  tags: Record<string, string>;
  cluster: ClusterAccess;
  namespace: string;
  artifacts: ArtifactBucket;
}

/** The pipelines' role, namespace, service account and role binding; each parented to `parent`. */
export function pipelinesAccess(name: string, args: PipelinesAccessArgs, parent: pulumi.Resource): void {
  const namespace = args.namespace;
  const role = irsaRole(
    `${name}-pipelines-role`,
    {
      oidc: args.cluster,
      serviceAccounts: [{ namespace, name: PIPELINES_SERVICE_ACCOUNT }],
      tags: args.tags,
      policy: {
        name: `${name}-pipelines-policy`,
        statements: [
          { Sid: "ArtifactBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: args.artifacts.bucketArn },
          { Sid: "Artifacts", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: pulumi.interpolate`${args.artifacts.bucketArn}/*` },
          { Sid: "ArtifactKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.artifacts.kmsKeyArn },
        ],
      },
    },
    { parent },
  );
  const k8sOpts = { parent, provider: args.cluster.provider };
  const pipelinesNs = new k8s.core.v1.Namespace(`${name}-pipelines-ns`, { metadata: { name: namespace } }, k8sOpts);
  const inNamespace = { ...k8sOpts, dependsOn: [pipelinesNs] };
  new k8s.core.v1.ServiceAccount(`${name}-pipelines-sa`, { metadata: { name: PIPELINES_SERVICE_ACCOUNT, namespace, annotations: { "eks.amazonaws.com/role-arn": role.arn } } }, inNamespace);
  // With service_account_name set, ZenML creates no binding itself; its orchestrator pod launches
  // step pods in this namespace, so the account may edit there (and nowhere else).
  new k8s.rbac.v1.RoleBinding(
    `${name}-pipelines-edit`,
    {
      metadata: { name: "zenml-pipelines-edit", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "ServiceAccount", name: PIPELINES_SERVICE_ACCOUNT, namespace }],
    },
    inNamespace,
  );
}
