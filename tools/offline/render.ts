import type { Plan, PlannedResource } from "./plan-result";
import { upgradeReportText } from "../../components/upgrade-report";
import type { PartReportEntry } from "../../components/version-policy";

/** Inputs worth a glance per type; the JSON form has all of them. */
const KEY_SETTINGS: Record<string, string[]> = {
  "awsx:ec2:Vpc": ["cidrBlock", "numberOfAvailabilityZones", "natGateways"],
  "eks:index:Cluster": ["name", "version", "authenticationMode", "autoMode", "upgradePolicy", "publicAccessCidrs", "enabledClusterLogTypes"],
  "aws:rds/instance:Instance": ["identifier", "engineVersion", "allowMajorVersionUpgrade", "applyImmediately", "instanceClass", "multiAz", "backupRetentionPeriod", "backupWindow", "maintenanceWindow", "deletionProtection", "skipFinalSnapshot", "storageEncrypted", "snapshotIdentifier", "password"],
  "aws:rds/snapshot:Snapshot": ["dbSnapshotIdentifier"],
  "aws:rds/parameterGroup:ParameterGroup": ["family"],
  "aws:s3/bucket:Bucket": ["forceDestroy"],
  "aws:s3/bucketVersioning:BucketVersioning": ["versioningConfiguration"],
  "aws:ecr/repository:Repository": ["name", "imageTagMutability", "imageScanningConfiguration"],
  "aws:cloudwatch/logGroup:LogGroup": ["name", "retentionInDays"],
  "aws:eks/addon:Addon": ["addonName", "addonVersion"],
  "kubernetes:policy/v1:PodDisruptionBudget": ["spec.minAvailable"],
  "kubernetes:karpenter.sh/v1:NodePool": ["spec.disruption.budgets"],
  "kubernetes:apps/v1:DeploymentPatch": ["spec.strategy.rollingUpdate", "spec.template.spec.topologySpreadConstraints"],
  "kubernetes:helm.sh/v3:Release": ["chart", "version", "namespace"],
};

/** Nested inputs worth a glance (dotted paths): which image and which name a Job runs with. */
const KEY_PATHS: Record<string, string[]> = {
  "kubernetes:batch/v1:Job": ["metadata.name", "spec.template.spec.containers.0.image"],
};

const atPath = (value: unknown, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), value);

function short(value: unknown, key = ""): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  // An image reference is what a reviewer checks (tag and digest): never cut it.
  if (key.endsWith("image") && text.length <= 300) return text;
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
}

function nameOf(urn: string, byUrn: Map<string, PlannedResource>): string {
  return byUrn.get(urn)?.name ?? urn.split("::").pop() ?? urn;
}

export function renderTree(plan: Plan): string {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const children = new Map<string | null, PlannedResource[]>();
  for (const r of plan.resources) {
    const parent = r.parent && byUrn.has(r.parent) ? r.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const lines = [`# ${plan.project} / ${plan.stack} — ${plan.note}`, ""];
  const walk = (parent: string | null, indent: string) => {
    for (const r of children.get(parent) ?? []) {
      const flags = [r.options.protect && "protect", r.options.retainOnDelete && "retainOnDelete"].filter(Boolean);
      lines.push(`${indent}${r.name}  (${r.type})${flags.length ? `  [${flags.join(", ")}]` : ""}`);
      for (const key of KEY_SETTINGS[r.type] ?? []) {
        const value = key.split(".").reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), r.inputs);
        if (value !== undefined) lines.push(`${indent}    ${key}: ${short(value, key)}`);
      }
      for (const key of KEY_PATHS[r.type] ?? []) {
        const value = atPath(r.inputs, key);
        if (value !== undefined) lines.push(`${indent}    ${key}: ${short(value, key)}`);
      }
      if (r.options.dependsOn.length > 0) lines.push(`${indent}    dependsOn: ${r.options.dependsOn.map((u) => nameOf(u, byUrn)).join(", ")}`);
      walk(r.urn, indent + "  ");
    }
  };
  walk(null, "");
  const report = plan.upgradeReport as { parts?: PartReportEntry[] } | undefined;
  if (report?.parts?.length) lines.push("", upgradeReportText(report.parts));
  lines.push("", "Outputs:");
  for (const [k, v] of Object.entries(plan.outputs)) lines.push(`  ${k}: ${short(v)}`);
  lines.push("", `${plan.resources.length} resources.`);
  return lines.join("\n") + "\n";
}
