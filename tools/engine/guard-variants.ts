// The replacement guard's edits: for every config key (components/config.ts FIELDS), another valid
// value for the deployed prod stack of the engine suite's story. Keys whose value travels with
// others (a rollback pins the version it restores; MLflow's image and hostname need its version)
// change together. A key prod allows one value for is listed with the reason. Pure.
import type { ConfigValue } from "./world";

export interface Variant {
  /** The key under test. */
  key: string;
  /** What the edit sets (the key, and the keys that must move with it). */
  change: Record<string, ConfigValue>;
  /** Why this value, when not obvious. */
  note?: string;
}

export interface FixedKey {
  key: string;
  /** Why prod has no other valid value. */
  fixed: string;
}

const ACCOUNT = "123456789012";
const DIGEST = "sha256:" + "fedcba9876543210".repeat(4);

/**
 * The edits, given what the story deployed on prod when the guard runs: ZenML 0.98.0, Kubernetes
 * 1.34, MySQL 8.0 and MLflow 3.17.2, with staging having run ZenML 0.99.0, Kubernetes 1.35 and MySQL 8.4.
 */
export const GUARD_VARIANTS: (Variant | FixedKey)[] = [
  { key: "environment", fixed: "the stack name prod makes it prod; any other value is refused" },
  { key: "zenmlVersion", change: { zenmlVersion: "0.99.0" }, note: "staging ran it" },
  { key: "vpcCidr", change: { vpcCidr: "10.40.0.0/16" } },
  { key: "availabilityZones", fixed: "prod spans 3 availability zones, the most the layout allows" },
  { key: "natGateways", fixed: "prod runs OnePerAz" },
  { key: "kubernetesVersion", change: { kubernetesVersion: "1.35" }, note: "staging ran it" },
  { key: "clusterPublicAccessCidrs", change: { clusterPublicAccessCidrs: ["198.51.100.0/24"] } },
  { key: "clusterAdminRoleArns", change: { clusterAdminRoleArns: [`arn:aws:iam::${ACCOUNT}:role/zenml-prod-breakglass`] } },
  { key: "clusterViewerRoleArns", change: { clusterViewerRoleArns: [`arn:aws:iam::${ACCOUNT}:role/zenml-prod-readonly`] } },
  { key: "nodePoolCpuLimit", change: { nodePoolCpuLimit: 96 } },
  { key: "dbInstanceClass", change: { dbInstanceClass: "db.m7g.xlarge" } },
  { key: "dbEngineVersion", change: { dbEngineVersion: "8.4" }, note: "staging ran it" },
  { key: "dbAllocatedStorageGb", change: { dbAllocatedStorageGb: 200 } },
  { key: "dbMaxAllocatedStorageGb", change: { dbMaxAllocatedStorageGb: 1000 } },
  { key: "dbMultiAz", fixed: "prod runs the database Multi-AZ" },
  { key: "dbBackupRetentionDays", change: { dbBackupRetentionDays: 21 } },
  { key: "dbBackupWindow", change: { dbBackupWindow: "01:00-01:30" } },
  { key: "dbMaintenanceWindow", change: { dbMaintenanceWindow: "sat:04:00-sat:05:00" } },
  { key: "artifactNoncurrentVersionDays", change: { artifactNoncurrentVersionDays: 120 } },
  { key: "ecrUntaggedImageDays", change: { ecrUntaggedImageDays: 60 } },
  { key: "serverHostname", change: { serverHostname: "ml.example.com" } },
  { key: "certificateArn", change: { certificateArn: `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/11111111-2222-4333-8444-555555555555` } },
  { key: "serverReplicas", change: { serverReplicas: 3 } },
  { key: "serverCpu", change: { serverCpu: "2" } },
  { key: "serverMemory", change: { serverMemory: "4Gi" } },
  { key: "logRetentionDays", change: { logRetentionDays: 180 } },
  { key: "zenmlStackName", change: { zenmlStackName: "aws-prod-main" } },
  { key: "pipelinesNamespace", change: { pipelinesNamespace: "zenml-runs" } },
  { key: "promotionSourceStack", change: { promotionSourceStack: "organization/zenml-platform/staging-2" }, note: "a second staging stack with staging's outputs" },
  { key: "promotionOverrideReason", change: { promotionOverrideReason: "Emergency: security fix rolled out by hand" } },
  {
    key: "rollbackSnapshot",
    change: { rollbackSnapshot: "zenml-prod-pre-upgrade-0-97-0-to-0-98-0", zenmlVersion: "0.97.0" },
    note: "a rollback pins the version the snapshot was taken from",
  },
  { key: "serverIngressCidrs", change: { serverIngressCidrs: ["198.51.100.0/24"] } },
  { key: "serverIngressScheme", change: { serverIngressScheme: "internal", serverIngressCidrs: ["10.0.0.0/8"] }, note: "an internal load balancer serves private sources" },
  { key: "serverOpenToAllReason", change: { serverOpenToAllReason: "Partners reach it from anywhere" } },
  { key: "serverJwtExpiryMinutes", change: { serverJwtExpiryMinutes: 120 } },
  { key: "alarmTopicArn", change: { alarmTopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:zenml-platform-oncall-2` } },
  { key: "dockerHubCredentialArn", change: { dockerHubCredentialArn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-2-GhIjKl` } },
  { key: "promotionSoakHours", change: { promotionSoakHours: 48 } },
  { key: "upgradeWindow", change: { upgradeWindow: "sat:02:00-sat:06:00" } },
  { key: "upgradeTimingOverrideReason", change: { upgradeTimingOverrideReason: "0.99.0: security fix, users told on Monday" } },
  { key: "announcementChannel", change: { announcementChannel: "discussion:12" } },
  { key: "upgradeDrainMinutes", change: { upgradeDrainMinutes: 60 } },
  { key: "upgradeDrainOverrideReason", change: { upgradeDrainOverrideReason: "Security fix: runs restarted by hand afterwards" } },
  { key: "restoreTestBeforeUpgrade", change: { restoreTestBeforeUpgrade: false } },
  { key: "maxMigrationMinutes", change: { maxMigrationMinutes: 20 } },
  { key: "migrationTimeOverrideReason", change: { migrationTimeOverrideReason: "Timed by hand on a copy of prod: 14 minutes" } },
  { key: "eksAddonVersions", change: { eksAddonVersions: ["amazon-cloudwatch-observability=v1.34.0-eksbuild.1"] }, note: "pins the version running" },
  { key: "dbMajorUpgradeApplyImmediately", change: { dbMajorUpgradeApplyImmediately: true } },
  { key: "mlflowVersion", change: { mlflowVersion: "", mlflowImage: "", mlflowHostname: "" }, note: "MLflow off: its settings go with it" },
  {
    key: "mlflowVersion",
    change: { mlflowVersion: "3.18.0", mlflowImage: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mlflow-server:3.18.0@${DIGEST}` },
    note: "a release staging has not run",
  },
  { key: "mlflowImage", change: { mlflowImage: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mlflow-server:3.17.2@${DIGEST}` }, note: "a rebuild of the same release" },
  { key: "mlflowHostname", change: { mlflowHostname: "tracking.example.com" } },
  { key: "mlflowCertificateArn", change: { mlflowCertificateArn: `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/66666666-7777-4888-9999-000000000000` } },
];

export const isFixed = (v: Variant | FixedKey): v is FixedKey => "fixed" in v;
