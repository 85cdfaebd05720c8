// The dossier of the parts AWS runs for us, read against the plan's own objects: for Kubernetes,
// the API versions the planned objects use that the target minor removes or deprecates; for
// MySQL, what a major upgrade changes for us (parameter group family, removed variables we set).
import type { Plan } from "../offline/plan-result";
import { compareDotted } from "../../components/parts";
import { EKS_CALENDAR } from "../../components/support-calendar";

interface ApiChange {
  /** apiVersion as written in a manifest ("policy/v1beta1", "v1"). */
  apiVersion: string;
  /** Kinds affected; "*" for every kind of that group/version. */
  kinds: string[];
  replacement: string;
}

// Kubernetes' "Deprecated API Migration Guide" (kubernetes.io/docs/reference/using-api/deprecation-guide/,
// read 2026-12-07): the API versions each minor stops serving. It lists no removal after 1.32.
export const K8S_API_SOURCE = "Kubernetes Deprecated API Migration Guide (kubernetes.io/docs/reference/using-api/deprecation-guide/), read 2026-12-07";
export const K8S_REMOVED: Record<string, ApiChange[]> = {
  "1.22": [
    ...["admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io", "scheduling.k8s.io"].map((g) => ({ apiVersion: `${g}/v1beta1`, kinds: ["*"], replacement: `${g}/v1` })),
    { apiVersion: "extensions/v1beta1", kinds: ["Ingress"], replacement: "networking.k8s.io/v1" },
    { apiVersion: "networking.k8s.io/v1beta1", kinds: ["Ingress", "IngressClass"], replacement: "networking.k8s.io/v1" },
    { apiVersion: "storage.k8s.io/v1beta1", kinds: ["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"], replacement: "storage.k8s.io/v1" },
  ],
  "1.25": [
    { apiVersion: "batch/v1beta1", kinds: ["CronJob"], replacement: "batch/v1" },
    { apiVersion: "discovery.k8s.io/v1beta1", kinds: ["EndpointSlice"], replacement: "discovery.k8s.io/v1" },
    { apiVersion: "events.k8s.io/v1beta1", kinds: ["Event"], replacement: "events.k8s.io/v1" },
    { apiVersion: "autoscaling/v2beta1", kinds: ["HorizontalPodAutoscaler"], replacement: "autoscaling/v2" },
    { apiVersion: "policy/v1beta1", kinds: ["PodDisruptionBudget"], replacement: "policy/v1" },
    { apiVersion: "policy/v1beta1", kinds: ["PodSecurityPolicy"], replacement: "Pod Security Admission (no object)" },
    { apiVersion: "node.k8s.io/v1beta1", kinds: ["RuntimeClass"], replacement: "node.k8s.io/v1" },
  ],
  "1.26": [
    { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta1", kinds: ["FlowSchema", "PriorityLevelConfiguration"], replacement: "flowcontrol.apiserver.k8s.io/v1" },
    { apiVersion: "autoscaling/v2beta2", kinds: ["HorizontalPodAutoscaler"], replacement: "autoscaling/v2" },
  ],
  "1.27": [{ apiVersion: "storage.k8s.io/v1beta1", kinds: ["CSIStorageCapacity"], replacement: "storage.k8s.io/v1" }],
  "1.29": [{ apiVersion: "flowcontrol.apiserver.k8s.io/v1beta2", kinds: ["FlowSchema", "PriorityLevelConfiguration"], replacement: "flowcontrol.apiserver.k8s.io/v1" }],
  "1.32": [{ apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", kinds: ["FlowSchema", "PriorityLevelConfiguration"], replacement: "flowcontrol.apiserver.k8s.io/v1" }],
};
/** Served but deprecated (the API server warns on every use), from the minor given on. */
export const K8S_DEPRECATED: Record<string, ApiChange[]> = {
  "1.33": [{ apiVersion: "v1", kinds: ["Endpoints"], replacement: "discovery.k8s.io/v1 EndpointSlice" }],
};

interface ObjectRef {
  name: string;
  apiVersion: string;
  kind: string;
}

/** The Kubernetes objects a plan registers, as manifests would name them (Helm releases are not objects). */
export function plannedObjects(plan: Plan): ObjectRef[] {
  const out: ObjectRef[] = [];
  for (const r of plan.resources) {
    const m = /^kubernetes:([^/]+)\/([^:]+):(\w+)$/.exec(r.type);
    if (!m || m[1] === "helm.sh" || m[1] === "yaml") continue;
    out.push({ name: r.name, apiVersion: m[1] === "core" ? m[2] : `${m[1]}/${m[2]}`, kind: m[3].replace(/(Patch|List)$/, "") });
  }
  return out;
}

const affects = (change: ApiChange, o: ObjectRef) => change.apiVersion === o.apiVersion && (change.kinds.includes("*") || change.kinds.includes(o.kind));

/** What a Kubernetes upgrade from -> to means for the planned objects, as Markdown. */
export function kubernetesDossier(plan: Plan, from: string, to: string, now = new Date()): string {
  const objects = plannedObjects(plan);
  const crossed = (table: Record<string, ApiChange[]>, inclusiveFrom: boolean) =>
    Object.entries(table).filter(([minor]) => (inclusiveFrom ? compareDotted(minor, to) <= 0 : compareDotted(minor, from) > 0 && compareDotted(minor, to) <= 0));
  const removed = crossed(K8S_REMOVED, false).flatMap(([minor, changes]) => changes.flatMap((c) => objects.filter((o) => affects(c, o)).map((o) => `| \`${o.name}\` | ${o.kind} | \`${o.apiVersion}\` | **removed in ${minor}**: use ${c.replacement} |`)));
  const deprecated = crossed(K8S_DEPRECATED, true).flatMap(([minor, changes]) => changes.flatMap((c) => objects.filter((o) => affects(c, o)).map((o) => `| \`${o.name}\` | ${o.kind} | \`${o.apiVersion}\` | deprecated since ${minor}: move to ${c.replacement} |`)));
  const apiVersions = [...new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`))].sort();
  const end = EKS_CALENDAR.standardSupportEnds[to];
  const lines = [`## Upgrade dossier: Kubernetes ${from} -> ${to} (${plan.stack})`, ""];
  const past = end !== undefined && Date.parse(`${end}T00:00:00Z`) <= now.getTime();
  const when = end === undefined ? "" : past ? `ended on ${end}: take the next minor right after this step` : `ends on ${end}`;
  lines.push(end ? `EKS standard support for ${to} ${when} (${EKS_CALENDAR.source}, read ${EKS_CALENDAR.read}).` : `${to} is not in the EKS calendar (components/eks-calendar.json): add its end of standard support.`, "");
  if (removed.length + deprecated.length === 0) {
    lines.push(`**None of the ${objects.length} Kubernetes objects the plan registers uses an API version that ${to} removes or deprecates.**`);
  } else {
    lines.push(`**${removed.length} object(s) use an API version ${to} no longer serves, ${deprecated.length} a deprecated one.**`, "", "| Object | Kind | apiVersion | What changes |", "|---|---|---|---|", ...removed, ...deprecated);
  }
  lines.push("", `API versions the plan uses: ${apiVersions.map((a) => `\`${a}\``).join(", ")}.`);
  lines.push("", `The ZenML Helm chart's own objects are rendered by Helm at apply time and are not checked here (the chart is not reachable offline): run \`helm template\` for the pinned chart and look for the same API versions.`);
  lines.push("", `Source of the API changes: ${K8S_API_SOURCE}.`);
  return lines.join("\n") + "\n";
}

// "Option and Variable Changes for MySQL 8.4" (dev.mysql.com/doc/mysqld-version-reference/en/optvar-changes-8-4.html,
// read 2026-12-07): server variables MySQL 8.4.0 removed. A parameter group setting one fails to apply.
export const MYSQL_SOURCE = "MySQL Server Version Reference, Option and Variable Changes for MySQL 8.4 (dev.mysql.com), read 2026-12-07";
export const MYSQL_REMOVED_VARIABLES: Record<string, string[]> = {
  "8.4": [
    "admin-ssl",
    "authentication_fido_rp_id",
    "avoid_temporal_upgrade",
    "binlog_transaction_dependency_tracking",
    "default_authentication_plugin",
    "group_replication_recovery_complete_at",
    "have_openssl",
    "have_ssl",
    "keyring_encrypted_file_data",
    "keyring_encrypted_file_password",
  ],
};
export const MYSQL_NOTES: Record<string, string[]> = {
  "8.4": [
    "mysql_native_password is no longer enabled by default: new users get caching_sha2_password, which every client must support (PyMySQL does over TLS, which the server requires).",
    "Several InnoDB defaults change (innodb_buffer_pool_instances, innodb_io_capacity, innodb_log_buffer_size...): compare performance on staging after the switch.",
  ],
};

/** What a MySQL major upgrade from -> to means for this stack's parameter groups, as Markdown. */
export function mysqlDossier(plan: Plan, from: string, to: string): string {
  const groups = plan.resources.filter((r) => r.type === "aws:rds/parameterGroup:ParameterGroup");
  const ours = groups.flatMap((g) => ((g.inputs.parameters as { name: string; value: string }[] | undefined) ?? []).map((p) => p.name));
  const removed = (MYSQL_REMOVED_VARIABLES[to] ?? []).filter((v) => ours.includes(v) || ours.includes(v.replace(/-/g, "_")));
  const lines = [`## Upgrade dossier: MySQL ${from} -> ${to} (${plan.stack})`, ""];
  lines.push(`- Parameter group family: \`mysql${from}\` -> \`mysql${to}\`; the program creates the \`mysql${to}\` group before the switch and keeps the \`mysql${from}\` one until then.`);
  lines.push(`- Variables this stack sets: ${[...new Set(ours)].map((v) => `\`${v}\``).join(", ") || "none"}.`);
  lines.push(removed.length > 0 ? `- **Removed in ${to} and set here: ${removed.map((v) => `\`${v}\``).join(", ")}**: drop them first, or the new group cannot apply.` : `- None of them is removed in ${to}.`);
  for (const note of MYSQL_NOTES[to] ?? []) lines.push(`- ${note}`);
  lines.push("- RDS takes the instance down while it upgrades in place (in the maintenance window unless dbMajorUpgradeApplyImmediately); the retained pre-upgrade snapshot is the way back.");
  lines.push("", `Source: ${MYSQL_SOURCE}.`);
  return lines.join("\n") + "\n";
}
