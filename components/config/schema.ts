// The config schema, the one source of truth for every key: its type, what it means, what is
// allowed and its default. The PlatformConfig type is derived from it, and so are Pulumi.yaml's
// config block and docs/CONFIG.md (`npm run config:sync` writes both; a test checks them).
import * as semver from "semver";
import { z } from "zod";
import { explainRdsClass } from "../aws-facts";
import { allowListProblems } from "../cidr";
import { EKS_ADDONS, explainBadPin, parseSnapshotId } from "../version-policy";
import { KNOWN_KUBERNETES_VERSIONS } from "../support-calendar";
import { ENVIRONMENT_KINDS, type EnvironmentKind } from "./environments";
import { PRE_UPGRADE_FIELDS } from "./pre-upgrade-fields";
import { TIMING_FIELDS } from "./timing-fields";
import {
  ACM_CERTIFICATE_ARN,
  CIDR,
  DNS_NAME,
  IAM_ROLE_ARN,
  K8S_CPU,
  K8S_MEMORY,
  LOG_RETENTION_DAYS,
  RESERVED_NAMESPACES,
  RESERVED_NAMESPACE_PREFIXES,
  check,
  cidrList,
  explainNamespace,
  explainVpcCidr,
  int,
  mebibytes,
  millicores,
  text,
} from "./formats";

export type FieldKind = "string" | "integer" | "boolean" | "array";

export interface Field {
  /** The type Pulumi.yaml declares (arrays hold strings). */
  kind: FieldKind;
  /** What the key is for: Pulumi.yaml's description and the config reference's first line. */
  description: string;
  /** Human text of what is allowed, repeated in every error for this key. */
  allowed: string;
  schema: z.ZodType;
  /** Present for optional keys; Pulumi.yaml declares the same default (generated). */
  default?: unknown;
}

export const FIELDS = {
  environment: {
    kind: "string",
    description:
      'Environment kind, "staging" or "prod"; it must agree with the stack name (prod, prod-*, staging, staging-*), which decides it. Prod enforces stricter floors (backups, replicas, AZs, Multi-AZ).',
    allowed: `one of ${ENVIRONMENT_KINDS.join(", ")}`,
    schema: z.enum(ENVIRONMENT_KINDS),
  },
  zenmlVersion: {
    kind: "string",
    description: 'Exact ZenML release "X.Y.Z"; chart version, server image tag and server version all follow it.',
    allowed: `an exact ZenML release "X.Y.Z" (e.g. "0.98.0")`,
    schema: z.string().superRefine((v, ctx) => {
      const why = explainBadPin(v);
      if (why) ctx.addIssue({ code: "custom", message: why });
    }),
  },
  vpcCidr: {
    kind: "string",
    description: "IPv4 CIDR of the VPC, /16 to /20.",
    allowed:
      "a private IPv4 CIDR, host bits clear, large enough for the subnets of every AZ (/16; /17 with 2 AZs), e.g. 10.20.0.0/16",
    schema: text(CIDR).superRefine(check(explainVpcCidr)),
  },
  availabilityZones: {
    kind: "integer",
    description: "Availability zones the VPC spans, 2 or 3 (prod 3).",
    allowed: "an integer 2..3 (prod: 3)",
    schema: int(2, 3),
  },
  natGateways: {
    kind: "string",
    description: 'NAT gateway layout, "Single" (one shared) or "OnePerAz" (prod).',
    allowed: "Single or OnePerAz (prod: OnePerAz)",
    schema: z.enum(["Single", "OnePerAz"]),
  },
  kubernetesVersion: {
    kind: "string",
    description: 'EKS minor version, e.g. "1.35"; pinned with the standard-support upgrade policy.',
    // A version is accepted once the EKS calendar (eks-calendar.json) knows when it leaves standard support.
    allowed: `an EKS minor version "1.NN" the EKS calendar knows: ${KNOWN_KUBERNETES_VERSIONS.join(", ")}`,
    schema: z.enum(KNOWN_KUBERNETES_VERSIONS as [string, ...string[]]),
  },
  clusterPublicAccessCidrs: {
    kind: "array",
    description: "CIDRs allowed to reach the public Kubernetes API endpoint (CI runners, VPN); never 0.0.0.0/0.",
    allowed:
      "a non-empty list of public IPv4 CIDRs (each /8 or narrower, host bits clear) allowed to reach the Kubernetes API; 0.0.0.0/0 is refused",
    schema: cidrList((l) => allowListProblems(l, { publicSources: true })),
  },
  clusterAdminRoleArns: {
    kind: "array",
    description:
      "IAM roles given cluster admin through EKS access entries, e.g. the deploy role when another principal created the cluster. Not the creator itself, which EKS already made admin.",
    allowed: `a list of IAM role ARNs arn:aws:iam::<account>:role/<name> given cluster admin through EKS access entries; not the role that created the cluster (EKS made it admin already)`,
    schema: z.array(text(IAM_ROLE_ARN)).refine((a) => new Set(a).size === a.length),
    default: [],
  },
  clusterViewerRoleArns: {
    kind: "array",
    description:
      "IAM roles (the *-preview roles) given read-only cluster access through EKS access entries, so a preview diffs the Kubernetes resources too.",
    allowed: `a list of IAM role ARNs arn:aws:iam::<account>:role/<name> (the preview roles) given read-only cluster access through EKS access entries`,
    schema: z.array(text(IAM_ROLE_ARN)).refine((a) => new Set(a).size === a.length),
    default: [],
  },
  nodePoolCpuLimit: {
    kind: "integer",
    description: "vCPUs the EKS Auto Mode node pool for ZenML and pipelines may grow to.",
    allowed: "an integer 4..1000 (vCPUs the ZenML node pool may grow to)",
    schema: int(4, 1000),
  },
  dbInstanceClass: {
    kind: "string",
    description: "RDS instance class, e.g. db.t4g.medium.",
    allowed: `an RDS class like "db.t4g.medium" or "db.m7g.large"`,
    schema: text(/^db\.[a-z0-9]+\.[a-z0-9]+$/).superRefine(check(explainRdsClass)),
  },
  dbEngineVersion: {
    kind: "string",
    description: 'MySQL major version, "8.0" or "8.4"; minor versions auto-upgrade.',
    allowed: `a MySQL major version: "8.0" or "8.4" (minor versions auto-upgrade)`,
    schema: z.enum(["8.0", "8.4"]),
  },
  dbAllocatedStorageGb: {
    kind: "integer",
    description: "Initial RDS storage in GiB (20..16384).",
    allowed: "an integer 20..16384",
    schema: int(20, 16384),
  },
  dbMaxAllocatedStorageGb: {
    kind: "integer",
    description: "Ceiling for RDS storage autoscaling in GiB, at least dbAllocatedStorageGb.",
    allowed: "an integer 20..16384, at least dbAllocatedStorageGb",
    schema: int(20, 16384),
  },
  dbMultiAz: {
    kind: "boolean",
    description: "Run RDS Multi-AZ (required in prod).",
    allowed: "true or false (prod: true)",
    schema: z.boolean(),
  },
  dbBackupRetentionDays: {
    kind: "integer",
    description: "Days of automated RDS backups (staging 7..35, prod 14..35).",
    allowed: "an integer 7..35 (prod: 14..35)",
    schema: int(1, 35),
  },
  dbBackupWindow: {
    kind: "string",
    description: 'Daily UTC backup window "hh:mm-hh:mm", at least 30 minutes, not overlapping the maintenance window.',
    allowed: "hh:mm-hh:mm in UTC, at least 30 minutes, not overlapping dbMaintenanceWindow",
    schema: z.string(),
  },
  dbMaintenanceWindow: {
    kind: "string",
    description: 'Weekly UTC maintenance window "ddd:hh:mm-ddd:hh:mm", at least 30 minutes.',
    allowed: "ddd:hh:mm-ddd:hh:mm in UTC, at least 30 minutes, not overlapping dbBackupWindow",
    schema: z.string(),
  },
  artifactNoncurrentVersionDays: {
    kind: "integer",
    description: "Days a replaced or deleted artifact object version is kept in S3.",
    allowed: "an integer 1..3650",
    schema: int(1, 3650),
  },
  ecrUntaggedImageDays: {
    kind: "integer",
    description: "Days an untagged pipeline image is kept in ECR.",
    allowed: "an integer 1..365",
    schema: int(1, 365),
  },
  serverHostname: {
    kind: "string",
    description: "DNS name the ZenML server is served at over HTTPS.",
    allowed: "a lower-case DNS name such as zenml.staging.example.com",
    schema: text(DNS_NAME),
  },
  certificateArn: {
    kind: "string",
    description: "ACM certificate ARN covering serverHostname, used by the load balancer.",
    allowed: "an ACM certificate ARN arn:aws:acm:<region>:<account>:certificate/<id>",
    schema: text(ACM_CERTIFICATE_ARN),
  },
  serverReplicas: {
    kind: "integer",
    description: "ZenML server replicas (prod at least 2).",
    allowed: "an integer 1..10 (prod: 2..10)",
    schema: int(1, 10),
  },
  serverCpu: {
    kind: "string",
    description: 'CPU request of each server pod, a Kubernetes quantity such as "500m".',
    allowed: `a Kubernetes CPU quantity 250m..16, like "500m" or "1"`,
    schema: text(K8S_CPU).refine((q) => millicores(q) >= 250 && millicores(q) <= 16000),
  },
  serverMemory: {
    kind: "string",
    description: 'Memory request and limit of each server pod, such as "1Gi".',
    allowed: `a Kubernetes memory quantity 512Mi..64Gi, like "1Gi" or "512Mi"`,
    schema: text(K8S_MEMORY).refine((q) => mebibytes(q) >= 512 && mebibytes(q) <= 65536),
  },
  logRetentionDays: {
    kind: "integer",
    description: "Days container logs (including the database migration job's) are kept in CloudWatch.",
    allowed: `one of ${LOG_RETENTION_DAYS.join(", ")}`,
    schema: z.number().refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n)),
  },
  zenmlStackName: {
    kind: "string",
    description: 'Name of the ZenML stack registered for this environment; empty means "aws-<stack>".',
    allowed: `"" (meaning "aws-<stack>") or a ZenML stack name of letters, digits, "-" and "_"`,
    schema: z.string().regex(/^$|^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/),
    default: "",
  },
  pipelinesNamespace: {
    kind: "string",
    description: "Kubernetes namespace where the ZenML orchestrator runs pipeline pods.",
    allowed: `a Kubernetes namespace name (lower-case DNS label) the program owns: not ${RESERVED_NAMESPACES.join(", ")} or ${RESERVED_NAMESPACE_PREFIXES.map((p) => `${p}*`).join(", ")}`,
    schema: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/)
      .superRefine(check(explainNamespace)),
    default: "zenml-pipelines",
  },
  promotionSourceStack: {
    kind: "string",
    description:
      'Fully qualified stack this one is promoted from (prod, e.g. "organization/zenml-platform/staging"); empty for staging.',
    allowed: `"" (staging) or the fully qualified stack prod is promoted from, e.g. "organization/zenml-platform/staging"`,
    schema: z.string().regex(/^$|^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/),
    default: "",
  },
  promotionOverrideReason: {
    kind: "string",
    description: "Emergency override of the promotion gate; the reason is recorded in the stack outputs. Leave empty.",
    allowed: `"" or a reason (10+ characters) recorded in the stack outputs`,
    schema: z.string().refine((v) => v === "" || v.trim().length >= 10),
    default: "",
  },
  ...TIMING_FIELDS,
  rollbackSnapshot: {
    kind: "string",
    description: "Pre-upgrade snapshot to restore into a new database during a rollback; empty in normal operation.",
    allowed: `"" or a pre-upgrade snapshot identifier "zenml-<stack>-pre-upgrade-A-B-C-to-X-Y-Z"`,
    schema: z.string().refine((v) => v === "" || parseSnapshotId(v) !== undefined),
    default: "",
  },
  serverIngressCidrs: {
    kind: "array",
    description:
      'Source CIDRs allowed to reach the server\'s load balancer; ["0.0.0.0/0"] alone opens it to everyone (prod refuses that without serverOpenToAllReason).',
    allowed: `IPv4 CIDRs allowed to reach the server's load balancer (each /8 or narrower, host bits clear), or ["0.0.0.0/0"] alone for everyone (prod: only with serverOpenToAllReason)`,
    schema: cidrList(),
  },
  serverIngressScheme: {
    kind: "string",
    description: 'Load balancer scheme, "internet-facing" or "internal" (reachable from the VPC and its peers only).',
    allowed: `"internet-facing" or "internal" (reachable from the VPC and its peers only)`,
    schema: z.enum(["internet-facing", "internal"]),
    default: "internet-facing",
  },
  serverOpenToAllReason: {
    kind: "string",
    description:
      'Why prod\'s server must be reachable from the whole internet; required for serverIngressCidrs ["0.0.0.0/0"] in prod. Leave empty.',
    allowed: `"" or why prod's server must be open to the whole internet (10+ characters)`,
    schema: z.string().refine((v) => v === "" || v.trim().length >= 10),
    default: "",
  },
  serverJwtExpiryMinutes: {
    kind: "integer",
    description: "Minutes a ZenML login token stays valid (ZenML's own default is never to expire).",
    allowed: "an integer 5..1440: minutes a login token stays valid",
    schema: int(5, 1440),
    default: 60,
  },
  dockerHubCredentialArn: {
    kind: "string",
    description:
      'Secrets Manager secret (name "ecr-pullthroughcache/...") with Docker Hub credentials; ECR\'s pull-through cache serves the server image from our own registry.',
    allowed: `a Secrets Manager secret ARN arn:<partition>:secretsmanager:<stack region>:<account>:secret:ecr-pullthroughcache/<name> holding Docker Hub credentials (ECR's pull-through cache needs them)`,
    schema: text(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache\/[A-Za-z0-9/_+=.@-]+$/),
  },
  alarmTopicArn: {
    kind: "string",
    description: "SNS topic (same region) that CloudWatch alarms on the load balancer and database notify.",
    allowed: "an SNS topic ARN arn:<partition>:sns:<stack region>:<account>:<name> that on-call receives alarms from",
    schema: text(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/),
  },
  eksAddonVersions: {
    kind: "array",
    description:
      'EKS add-on pins "<add-on>=vX.Y.Z-eksbuild.N"; an add-on not listed runs AWS\'s default version for kubernetesVersion.',
    allowed: `[] (each add-on at AWS's default version for kubernetesVersion) or pins "<add-on>=vX.Y.Z-eksbuild.N" for ${EKS_ADDONS.join(", ")}`,
    schema: z
      .array(z.string().regex(new RegExp(`^(${EKS_ADDONS.join("|")})=v\\d+\\.\\d+\\.\\d+-eksbuild\\.\\d+$`)))
      .refine((pins) => new Set(pins.map((p) => p.split("=")[0])).size === pins.length),
    default: [],
  },
  dbMajorUpgradeApplyImmediately: {
    kind: "boolean",
    description:
      "Apply a MySQL major upgrade as soon as it is deployed instead of in dbMaintenanceWindow (it causes downtime).",
    allowed: "true or false (false: a MySQL major upgrade waits for dbMaintenanceWindow)",
    schema: z.boolean(),
    default: false,
  },
  ...PRE_UPGRADE_FIELDS,
  mlflowVersion: {
    kind: "string",
    description:
      'Exact MLflow release "X.Y.Z" of the optional tracking server (2.5.0 or later); empty means no MLflow. Never lowered; staging first.',
    allowed: `"" (no MLflow server) or an exact MLflow release "X.Y.Z", 2.5.0 or later (e.g. "3.17.2")`,
    schema: z.string().superRefine((v, ctx) => {
      if (v === "") return;
      const why =
        explainBadPin(v) ??
        (semver.lt(v, "2.5.0")
          ? `"${v}" predates MLflow's basic-auth app (2.5.0); the server is never run without authentication`
          : undefined);
      if (why) ctx.addIssue({ code: "custom", message: why });
    }),
    default: "",
  },
  mlflowImage: {
    kind: "string",
    description:
      'Empty (the default) runs our MLflow image for mlflowVersion, built from components/mlflow/image by the images workflow and pinned by digest in images.lock.yaml; or another image carrying mlflowVersion, PyMySQL and boto3, as "<registry>/<repository>:<mlflowVersion>@sha256:<digest>".',
    allowed: `"" (with mlflowVersion: our image from components/mlflow/image, pinned in images.lock.yaml), or another "<registry>/<repository>:<mlflowVersion>@sha256:<digest>"`,
    schema: z.string(),
    default: "",
  },
  mlflowHostname: {
    kind: "string",
    description:
      "DNS name the MLflow server is served at over HTTPS, other than serverHostname; required with mlflowVersion.",
    allowed: `"" without mlflowVersion, else a lower-case DNS name other than serverHostname, such as mlflow.staging.example.com`,
    schema: z.string().regex(/^$/).or(text(DNS_NAME)),
    default: "",
  },
  mlflowCertificateArn: {
    kind: "string",
    description:
      "ACM certificate ARN for mlflowHostname; empty means certificateArn (which must then cover mlflowHostname).",
    allowed: `"" (use certificateArn, which must then cover mlflowHostname) or an ACM certificate ARN`,
    schema: z.string().regex(/^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/),
    default: "",
  },
} satisfies Record<string, Field>;

export type ConfigKey = keyof typeof FIELDS;

/** Each key's value as its schema hands it out. */
export type ConfigValues = { [K in ConfigKey]: z.output<(typeof FIELDS)[K]["schema"]> };

/** The validated config of one stack: every key of the schema, and what the stack itself decides. */
export interface PlatformConfig extends ConfigValues {
  stack: string;
  region: string;
  /** From the stack name; the declared `environment` may only agree. */
  environment: EnvironmentKind;
  isProd: boolean;
  /** ARN partition of the region ("aws", "aws-cn", "aws-us-gov"): ARNs the program writes use it. */
  partition: string;
}
