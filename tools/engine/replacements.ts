// Which input changes make a provider replace a resource instead of updating it, read from the
// providers' own source (facts only; this is our table, not their code). The engine suite's local
// plugins (tools/engine/provider) answer Diff from it, so a preview under the real engine says
// create/update/replace/delete where the real providers would.
//
// Re-read this table whenever a provider pin in package.json moves: tests/engine-replacements.test.ts
// fails until the pins below equal package.json's.

/** Where the AWS facts come from. pulumi-aws bridges terraform-provider-aws; ForceNew there is a replace here. */
export const AWS_SOURCE = {
  /** The @pulumi/aws pin this table was read for. */
  pulumiAws: "7.48.0",
  /** What that release bridges (pulumi-aws's upstream submodule). */
  bridged: "hashicorp/terraform-provider-aws v6.66.0 (commit 351a07f09bff), as recorded for pulumi-aws v7.48.0 by pulumi-proserv/pulumi-tool-import importids/aws/v7/source.json",
  /**
   * What was read: the resource schema functions of each file at v6.58.0, through the verbatim
   * per-function index lonegunmanb/terraform-provider-aws-index (tag v6.58.0), the newest release
   * of the upstream source reachable here. v6.59..v6.66 were not readable (see docs/ENGINE.md).
   */
  read: "v6.58.0",
} as const;

/** Where the Kubernetes facts come from: pulumi-kubernetes' own diff. */
export const KUBERNETES_SOURCE = {
  pulumiKubernetes: "4.34.2",
  read: "pulumi/pulumi-kubernetes provider/pkg/provider/diff.go, helm_release.go (Diff) and provider.go (DiffConfig) at v4.32.0-27-g94977969 (2026-07-01), the newest stored; the Job/Deployment/Secret rules there are unchanged since v4.0",
} as const;

/** Where the random provider's facts come from. */
export const RANDOM_SOURCE = {
  pulumiRandom: "4.21.2",
  read: "hashicorp/terraform-provider-random internal/provider/resource_password.go, unchanged in its schema v3.7.0..v3.9.0",
} as const;

export interface AwsRule {
  /** Pulumi type token. */
  type: string;
  /** Terraform resource type. */
  tf: string;
  /** File in terraform-provider-aws holding the schema, at AWS_SOURCE.read. */
  file: string;
  /** ForceNew (SDKv2) or RequiresReplace (framework) attributes, Terraform names, nested with dots. */
  forceNew: string[];
  /** Terraform -> Pulumi names where the bridge does more than camel-case (pluralised list blocks, renames). */
  renames?: Record<string, string>;
  /** Conditional replacements (CustomizeDiff ForceNewIf...) the table leaves to the notes. */
  note?: string;
}

export const AWS_RULES: AwsRule[] = [
  { type: "aws:cloudwatch/logGroup:LogGroup", tf: "aws_cloudwatch_log_group", file: "internal/service/logs/group.go", forceNew: ["log_group_class", "name", "name_prefix"] },
  { type: "aws:cloudwatch/metricAlarm:MetricAlarm", tf: "aws_cloudwatch_metric_alarm", file: "internal/service/cloudwatch/metric_alarm.go", forceNew: ["alarm_name"], renames: { alarm_name: "name" } },
  { type: "aws:codebuild/project:Project", tf: "aws_codebuild_project", file: "internal/service/codebuild/project.go", forceNew: ["name"] },
  { type: "aws:ec2/securityGroup:SecurityGroup", tf: "aws_security_group", file: "internal/service/ec2/vpc_security_group.go", forceNew: ["description", "name", "name_prefix", "vpc_id"] },
  { type: "aws:ecr/lifecyclePolicy:LifecyclePolicy", tf: "aws_ecr_lifecycle_policy", file: "internal/service/ecr/lifecycle_policy.go", forceNew: ["policy", "repository"] },
  { type: "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", tf: "aws_ecr_pull_through_cache_rule", file: "internal/service/ecr/pull_through_cache_rule.go", forceNew: ["ecr_repository_prefix", "upstream_registry_url", "upstream_repository_prefix"] },
  {
    type: "aws:ecr/repository:Repository",
    tf: "aws_ecr_repository",
    file: "internal/service/ecr/repository.go",
    forceNew: ["name", "encryption_configuration", "encryption_configuration.encryption_type", "encryption_configuration.kms_key"],
    renames: { encryption_configuration: "encryptionConfigurations" },
  },
  { type: "aws:eks/accessEntry:AccessEntry", tf: "aws_eks_access_entry", file: "internal/service/eks/access_entry.go", forceNew: ["cluster_name", "principal_arn", "type"] },
  {
    type: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    tf: "aws_eks_access_policy_association",
    file: "internal/service/eks/access_policy_association.go",
    forceNew: ["access_scope", "access_scope.namespaces", "access_scope.type", "cluster_name", "policy_arn", "principal_arn"],
  },
  { type: "aws:eks/addon:Addon", tf: "aws_eks_addon", file: "internal/service/eks/addon.go", forceNew: ["addon_name", "cluster_name", "namespace_config", "namespace_config.namespace"] },
  {
    type: "aws:eks/cluster:Cluster",
    tf: "aws_eks_cluster",
    file: "internal/service/eks/cluster.go",
    forceNew: ["access_config.bootstrap_cluster_creator_admin_permissions", "bootstrap_self_managed_addons", "kubernetes_network_config.ip_family", "kubernetes_network_config.service_ipv4_cidr", "name", "role_arn"],
    note: "CustomizeDiff also replaces when encryption_config is removed, or vpc_config.control_plane_egress_mode goes CUSTOMER_ROUTED -> AWS_MANAGED; vpc_config.subnet_ids and version update in place",
  },
  { type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider", tf: "aws_iam_openid_connect_provider", file: "internal/service/iam/openid_connect_provider.go", forceNew: ["url"] },
  { type: "aws:iam/role:Role", tf: "aws_iam_role", file: "internal/service/iam/role.go", forceNew: ["name", "name_prefix", "path"] },
  { type: "aws:iam/rolePolicy:RolePolicy", tf: "aws_iam_role_policy", file: "internal/service/iam/role_policy.go", forceNew: ["name", "name_prefix", "role"] },
  { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", tf: "aws_iam_role_policy_attachment", file: "internal/service/iam/role_policy_attachment.go", forceNew: ["policy_arn", "role"] },
  { type: "aws:kms/key:Key", tf: "aws_kms_key", file: "internal/service/kms/key.go", forceNew: ["custom_key_store_id", "customer_master_key_spec", "key_usage", "multi_region", "xks_key_id"] },
  {
    type: "aws:rds/instance:Instance",
    tf: "aws_db_instance",
    file: "internal/service/rds/instance.go",
    forceNew: [
      "availability_zone",
      "backup_target",
      "character_set_name",
      "custom_iam_instance_profile",
      "db_name",
      "engine",
      "kms_key_id",
      "nchar_character_set_name",
      "restore_to_point_in_time",
      "s3_import.bucket_name",
      "s3_import.bucket_prefix",
      "s3_import.ingestion_role",
      "s3_import.source_engine",
      "s3_import.source_engine_version",
      "snapshot_identifier",
      "storage_encrypted",
      "timezone",
      "username",
    ],
    note: "identifier, engine_version, instance_class, multi_az, db_subnet_group_name and parameter_group_name update in place (identifier renames the instance)",
  },
  { type: "aws:rds/parameterGroup:ParameterGroup", tf: "aws_db_parameter_group", file: "internal/service/rds/parameter_group.go", forceNew: ["description", "family", "name", "name_prefix"] },
  { type: "aws:rds/snapshot:Snapshot", tf: "aws_db_snapshot", file: "internal/service/rds/snapshot.go", forceNew: ["db_instance_identifier", "db_snapshot_identifier"] },
  { type: "aws:rds/subnetGroup:SubnetGroup", tf: "aws_db_subnet_group", file: "internal/service/rds/subnet_group.go", forceNew: ["name", "name_prefix"], note: "subnet_ids update in place" },
  {
    type: "aws:s3/bucket:Bucket",
    tf: "aws_s3_bucket",
    file: "internal/service/s3/bucket.go",
    forceNew: ["bucket", "bucket_namespace", "bucket_prefix", "object_lock_configuration.object_lock_enabled", "object_lock_enabled"],
  },
  { type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", tf: "aws_s3_bucket_lifecycle_configuration", file: "internal/service/s3/bucket_lifecycle_configuration.go", forceNew: ["bucket", "expected_bucket_owner"] },
  { type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls", tf: "aws_s3_bucket_ownership_controls", file: "internal/service/s3/bucket_ownership_controls.go", forceNew: ["bucket"] },
  { type: "aws:s3/bucketPolicy:BucketPolicy", tf: "aws_s3_bucket_policy", file: "internal/service/s3/bucket_policy.go", forceNew: ["bucket"] },
  { type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", tf: "aws_s3_bucket_public_access_block", file: "internal/service/s3/bucket_public_access_block.go", forceNew: ["bucket"] },
  {
    type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    tf: "aws_s3_bucket_server_side_encryption_configuration",
    file: "internal/service/s3/bucket_server_side_encryption_configuration.go",
    forceNew: ["bucket", "expected_bucket_owner"],
  },
  { type: "aws:s3/bucketVersioning:BucketVersioning", tf: "aws_s3_bucket_versioning", file: "internal/service/s3/bucket_versioning.go", forceNew: ["bucket", "expected_bucket_owner"] },
  // Inside the awsx VPC and the EKS cluster (remote components, modelled by tools/engine/provider/components.ts).
  { type: "aws:ec2/vpc:Vpc", tf: "aws_vpc", file: "internal/service/ec2/vpc_.go", forceNew: ["cidr_block", "ipv4_ipam_pool_id", "ipv4_netmask_length"] },
  {
    type: "aws:ec2/subnet:Subnet",
    tf: "aws_subnet",
    file: "internal/service/ec2/vpc_subnet.go",
    forceNew: ["availability_zone", "availability_zone_id", "cidr_block", "ipv4_ipam_pool_id", "ipv4_netmask_length", "ipv6_ipam_pool_id", "ipv6_native", "ipv6_netmask_length", "outpost_arn", "vpc_id"],
  },
  { type: "aws:ec2/natGateway:NatGateway", tf: "aws_nat_gateway", file: "internal/service/ec2/vpc_nat_gateway.go", forceNew: ["allocation_id", "availability_mode", "connectivity_type", "private_ip", "subnet_id", "vpc_id"] },
  { type: "aws:ec2/eip:Eip", tf: "aws_eip", file: "internal/service/ec2/ec2_eip.go", forceNew: ["address", "domain", "ipam_pool_id", "network_border_group", "public_ipv4_pool"] },
];

/** Every input of a random_password requires replacement (keepers only when their values are set). */
export const RANDOM_PASSWORD_REPLACES = ["keepers", "length", "special", "upper", "lower", "number", "numeric", "minNumeric", "minUpper", "minLower", "minSpecial", "overrideSpecial"];

/** pulumi-kubernetes: every object is replaced when its name or namespace changes. */
export const KUBERNETES_METADATA = ["metadata.name", "metadata.namespace"];

/** pulumi-kubernetes' immutable fields by kind (apiVersion/kind), beyond the metadata. */
export const KUBERNETES_KINDS: Record<string, string[]> = {
  "batch/v1/Job": ["spec.completions", "spec.parallelism", "spec.selector", "spec.template"],
  "apps/v1/Deployment": ["spec.selector"],
  "apps/v1/StatefulSet": ["spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"],
  "apps/v1/DaemonSet": ["spec.selector"],
  "v1/Service": ["spec.clusterIP"],
  "rbac.authorization.k8s.io/v1/RoleBinding": ["roleRef"],
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ["roleRef"],
  // Secrets and ConfigMaps are immutable unless the provider enables mutation (enableSecretMutable /
  // enableConfigMapMutable, both off by default, and off in components/cluster.ts's provider).
  "v1/Secret": ["type", "stringData", "data"],
  "v1/ConfigMap": ["binaryData", "data"],
};

/** A Helm release is replaced when its name or namespace changes (helm_release.go's forceNewFields). */
export const HELM_RELEASE_REPLACES = ["name", "namespace"];

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Pulumi input paths (dotted) of an AWS rule's ForceNew attributes. */
export function awsReplacePaths(rule: AwsRule): string[] {
  return rule.forceNew.map((path) =>
    path
      .split(".")
      .map((segment) => rule.renames?.[segment] ?? camel(segment))
      .join("."),
  );
}

/** Kubernetes' apiVersion/kind of a Pulumi type token: "kubernetes:apps/v1:DeploymentPatch" -> "apps/v1/Deployment". */
export function kubernetesKind(type: string): string {
  const [, groupVersion, kind] = type.split(":");
  const gv = groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
  return `${gv}/${kind.replace(/Patch$/, "")}`;
}

/** The input paths whose change replaces a resource of this type, or undefined for a type no rule covers. */
export function replacePaths(type: string): string[] | undefined {
  if (type === "random:index/randomPassword:RandomPassword") return RANDOM_PASSWORD_REPLACES;
  if (type === "kubernetes:helm.sh/v3:Release") return HELM_RELEASE_REPLACES;
  if (type.startsWith("kubernetes:")) return [...KUBERNETES_METADATA, ...(KUBERNETES_KINDS[kubernetesKind(type)] ?? [])];
  const rule = AWS_RULES.find((r) => r.type === type);
  return rule && awsReplacePaths(rule);
}
