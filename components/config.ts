// The one place config is read and validated. Components receive the typed result and never
// read config themselves. Every problem is reported at once, naming the key, the stack and what
// is allowed, before any resource is registered.
import * as semver from "semver";
import { z } from "zod";
import { UserFacingError } from "./errors";
import { explainBadMlflowImage } from "./mlflow-policy";
import { EKS_ADDONS, explainBadPin, parseSnapshotId } from "./version-policy";
import { backupOverlapsMaintenance, parseDailyWindow, parseWeeklyWindow } from "./windows";

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
  vpcCidr: { kind: "string", allowed: "an IPv4 CIDR with prefix /16../20, e.g. 10.20.0.0/16", schema: text(CIDR).refine((v) => { const p = Number(v.split("/")[1]); return p >= 16 && p <= 20; }) },
  availabilityZones: { kind: "integer", allowed: "an integer 2..3 (prod: 3)", schema: int(2, 3) },
  natGateways: { kind: "string", allowed: "Single or OnePerAz (prod: OnePerAz)", schema: z.enum(["Single", "OnePerAz"]) },
  kubernetesVersion: { kind: "string", allowed: `an EKS minor version "1.NN", 1.31..1.35`, schema: text(/^1\.(3[1-5])$/) },
  clusterPublicAccessCidrs: { kind: "array", allowed: "a non-empty list of IPv4 CIDRs allowed to reach the Kubernetes API; 0.0.0.0/0 is refused", schema: z.array(text(CIDR).refine((c) => c !== "0.0.0.0/0")).min(1) },
  nodePoolCpuLimit: { kind: "integer", allowed: "an integer 4..1000 (vCPUs the ZenML node pool may grow to)", schema: int(4, 1000) },
  dbInstanceClass: { kind: "string", allowed: `an RDS class like "db.t4g.medium" or "db.m7g.large"`, schema: text(/^db\.[a-z0-9]+\.[a-z0-9]+$/) },
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
  serverCpu: { kind: "string", allowed: `a Kubernetes CPU quantity like "500m" or "1"`, schema: text(K8S_CPU) },
  serverMemory: { kind: "string", allowed: `a Kubernetes memory quantity like "1Gi" or "512Mi"`, schema: text(K8S_MEMORY) },
  logRetentionDays: { kind: "integer", allowed: `one of ${LOG_RETENTION_DAYS.join(", ")}`, schema: z.number().refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n)) },
  zenmlStackName: { kind: "string", allowed: `"" (meaning "aws-<stack>") or a ZenML stack name of letters, digits, "-" and "_"`, schema: z.string().regex(/^$|^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/), default: "" },
  pipelinesNamespace: { kind: "string", allowed: "a Kubernetes namespace name (lower-case DNS label), not zenml or kube-*", schema: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/).refine((n) => n !== "zenml" && !n.startsWith("kube-")), default: "zenml-pipelines" },
  promotionSourceStack: { kind: "string", allowed: `"" (staging) or the fully qualified stack prod is promoted from, e.g. "organization/zenml-platform/staging"`, schema: z.string().regex(/^$|^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/), default: "" },
  promotionOverrideReason: { kind: "string", allowed: `"" or a reason (10+ characters) recorded in the stack outputs`, schema: z.string().refine((v) => v === "" || v.trim().length >= 10), default: "" },
  rollbackSnapshot: { kind: "string", allowed: `"" or a pre-upgrade snapshot identifier "zenml-<stack>-pre-upgrade-A-B-C-to-X-Y-Z"`, schema: z.string().refine((v) => v === "" || parseSnapshotId(v) !== undefined), default: "" },
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
  mlflowImage: { kind: "string", allowed: `"" without mlflowVersion, else "<registry>/<repository>:<mlflowVersion>@sha256:<digest>" built from images/mlflow/Dockerfile`, schema: z.string(), default: "" },
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
  rollbackSnapshot: string;
  eksAddonVersions: string[];
  dbMajorUpgradeApplyImmediately: boolean;
  mlflowVersion: string;
  mlflowImage: string;
  mlflowHostname: string;
  mlflowCertificateArn: string;
}

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
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

/**
 * Validates the raw config of one stack. `raw` maps fully qualified keys ("zenml-platform:x",
 * "aws:region") to the strings Pulumi stores. Throws one UserFacingError listing every problem.
 */
export function parseConfig(stack: string, raw: Record<string, string>, secretKeys: readonly string[] = []): PlatformConfig {
  const problems: Problem[] = [];
  const prefix = `${PROJECT}:`;
  const values: Record<string, unknown> = {};

  for (const fullKey of secretKeys) {
    if (fullKey.startsWith(prefix) && fullKey.slice(prefix.length) in FIELDS) {
      problems.push({ key: fullKey, message: "is stored as a secret (secure:), but no setting here is sensitive: every secret is generated by the program. Store it in plain text" });
    }
  }

  for (const fullKey of Object.keys(raw)) {
    if (fullKey.startsWith(prefix) && !(fullKey.slice(prefix.length) in FIELDS)) {
      problems.push({ key: fullKey, message: `is not a known key (known: ${Object.keys(FIELDS).join(", ")})` });
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
      const custom = result.error.issues.find((i) => i.code === "custom" && i.message !== "Invalid input");
      const why = custom ? custom.message : `${describe(decoded.value)} is not allowed`;
      problems.push({ key: fullKey, message: `${why} (allowed: ${field.allowed})` });
      continue;
    }
    values[key] = result.data;
  }

  const region = raw["aws:region"];
  if (!region) problems.push({ key: "aws:region", message: "is missing (allowed: an AWS region such as eu-west-1)" });
  else if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) problems.push({ key: "aws:region", message: `"${region}" is not an AWS region (allowed: e.g. eu-west-1)` });

  if (problems.length === 0) problems.push(...crossFieldProblems(stack, values as Omit<PlatformConfig, "stack" | "region" | "isProd">, prefix));

  if (problems.length > 0) {
    const lines = problems.map((p) => `  - ${p.key}: ${p.message}`);
    throw new UserFacingError(`Invalid configuration for stack "${stack}" (Pulumi.${stack}.yaml):\n${lines.join("\n")}`);
  }
  const typed = values as Omit<PlatformConfig, "stack" | "region" | "isProd">;
  return { ...typed, stack, region: region!, isProd: typed.environment === "prod" };
}

function crossFieldProblems(stack: string, c: Omit<PlatformConfig, "stack" | "region" | "isProd">, prefix: string): Problem[] {
  const problems: Problem[] = [];
  const add = (key: ConfigKey, message: string) => problems.push({ key: prefix + key, message: `${message} (allowed: ${FIELDS[key].allowed})` });
  const min = ENVIRONMENT_MINIMUMS[c.environment];

  if (c.dbBackupRetentionDays < min.backupRetentionDays) add("dbBackupRetentionDays", `${c.environment} keeps automated backups at least ${min.backupRetentionDays} days, got ${c.dbBackupRetentionDays}`);
  if (c.serverReplicas < min.serverReplicas) add("serverReplicas", `${c.environment} runs at least ${min.serverReplicas} server replicas, got ${c.serverReplicas}`);
  if (c.availabilityZones < min.availabilityZones) add("availabilityZones", `${c.environment} spans at least ${min.availabilityZones} availability zones, got ${c.availabilityZones}`);
  if (min.multiAz && !c.dbMultiAz) add("dbMultiAz", `${c.environment} runs the database Multi-AZ`);
  if (min.natGateways && c.natGateways !== min.natGateways) add("natGateways", `${c.environment} uses ${min.natGateways} so one AZ outage cannot cut egress`);
  if (c.dbMaxAllocatedStorageGb < c.dbAllocatedStorageGb) add("dbMaxAllocatedStorageGb", `${c.dbMaxAllocatedStorageGb} is below dbAllocatedStorageGb ${c.dbAllocatedStorageGb}`);

  const backup = parseDailyWindow(c.dbBackupWindow);
  const maintenance = parseWeeklyWindow(c.dbMaintenanceWindow);
  if (typeof backup === "string") add("dbBackupWindow", backup);
  if (typeof maintenance === "string") add("dbMaintenanceWindow", maintenance);
  if (typeof backup !== "string" && typeof maintenance !== "string" && backupOverlapsMaintenance(backup, maintenance)) {
    add("dbBackupWindow", `"${c.dbBackupWindow}" overlaps dbMaintenanceWindow "${c.dbMaintenanceWindow}"`);
  }

  if (c.environment === "prod" && c.promotionSourceStack === "") add("promotionSourceStack", "prod must name the stack it is promoted from");
  if (c.environment === "staging" && c.promotionSourceStack !== "") add("promotionSourceStack", "staging is the first environment and has no promotion source");
  if (c.rollbackSnapshot !== "") {
    const snap = parseSnapshotId(c.rollbackSnapshot)!;
    if (snap.environmentName !== stack) add("rollbackSnapshot", `"${c.rollbackSnapshot}" belongs to stack "${snap.environmentName}"; restore only this stack's own pre-upgrade snapshots`);
    // Rolling back pins exactly the snapshot's "from" version; later upgrades may only go up from it.
    if (semver.lt(c.zenmlVersion, snap.fromVersion)) add("rollbackSnapshot", `"${c.rollbackSnapshot}" was taken before upgrading ${snap.fromVersion} -> ${snap.toVersion}, so zenmlVersion must be "${snap.fromVersion}" or later (it is "${c.zenmlVersion}")`);
  }
  mlflowProblems(c, add);
  return problems;
}

/** MLflow's keys only mean something together: a pin needs its image and hostname, and no pin needs neither. */
function mlflowProblems(c: Omit<PlatformConfig, "stack" | "region" | "isProd">, add: (key: ConfigKey, message: string) => void): void {
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
