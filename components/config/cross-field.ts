// Rules between keys, run over every key that parsed; a rule over a key that failed is skipped,
// never guessed. Each problem names the key to change and what it allows.
import * as semver from "semver";
import { partitionOf } from "../aws-facts";
import { allowListProblems, boundedText, isOpenToAll } from "../cidr";
import { explainBadMlflowImage } from "../mlflow/mlflow-policy";
import { parseSnapshotId } from "../version-policy";
import { backupOverlapsMaintenance, parseDailyWindow, parseWeeklyWindow } from "../windows";
import {
  ENVIRONMENT_KINDS,
  ENVIRONMENT_MINIMUMS,
  PROJECT,
  environmentKindOf,
  type EnvironmentKind,
} from "./environments";
import { describe, type Problem } from "./problems";
import { FIELDS, type ConfigKey, type ConfigValues } from "./schema";
import { SUBNET_MASKS, addressesPerAz, subnetsFit } from "./subnets";

/** What every rule sees: the keys that parsed, the stack's facts, and where to report. */
interface RuleContext {
  c: Partial<ConfigValues>;
  stack: string;
  kind: EnvironmentKind;
  region: string | undefined;
  add: (key: ConfigKey, message: string) => void;
  has: (...keys: ConfigKey[]) => boolean;
}

/** The region inside an ARN ("arn:aws:acm:eu-west-1:..."), or undefined. */
const arnRegion = (arn: string) => arn.split(":")[3];
const arnPartition = (arn: string) => arn.split(":")[1];

/** Runs every rule whose inputs parsed, in a fixed order, so the same config lists the same problems. */
export function crossFieldProblems(
  stack: string,
  c: Partial<ConfigValues>,
  prefix: string,
  region: string | undefined,
): Problem[] {
  const problems: Problem[] = [];
  const derived = environmentKindOf(stack);
  if (!derived) {
    const allowed = ENVIRONMENT_KINDS.map((k) => `${k}, ${k}-*`).join(", ");
    const message = `the environment kind comes from the stack name, and "${boundedText(stack)}" names none (allowed stack names: ${allowed})`;
    return [{ key: `${prefix}environment`, message }];
  }
  const ctx: RuleContext = {
    c,
    stack,
    kind: derived,
    region,
    add: (key, message) =>
      problems.push({ key: prefix + key, message: `${message} (allowed: ${FIELDS[key].allowed})` }),
    has: (...keys) => keys.every((k) => c[k] !== undefined),
  };
  if (c.environment !== undefined && c.environment !== derived) {
    ctx.add(
      "environment",
      `"${c.environment}" disagrees with the stack name "${stack}", which makes this a ${derived} stack: a declared kind may only agree`,
    );
  }
  for (const rule of [floorRules, windowRules, networkRules, arnRules, ingressRules, promotionRules, rollbackRules])
    rule(ctx);
  if (ctx.has("mlflowVersion", "mlflowImage", "mlflowHostname", "mlflowCertificateArn", "serverHostname")) {
    mlflowRules(c as ConfigValues, ctx.add);
  }
  return problems;
}

/** The environment kind's floors, and storage that may only grow. */
function floorRules({ c, kind, add, has }: RuleContext): void {
  const min = ENVIRONMENT_MINIMUMS[kind];
  if (has("dbBackupRetentionDays") && c.dbBackupRetentionDays! < min.backupRetentionDays) {
    add(
      "dbBackupRetentionDays",
      `${kind} keeps automated backups at least ${min.backupRetentionDays} days, got ${c.dbBackupRetentionDays}`,
    );
  }
  if (has("serverReplicas") && c.serverReplicas! < min.serverReplicas) {
    add("serverReplicas", `${kind} runs at least ${min.serverReplicas} server replicas, got ${c.serverReplicas}`);
  }
  if (has("availabilityZones") && c.availabilityZones! < min.availabilityZones) {
    add(
      "availabilityZones",
      `${kind} spans at least ${min.availabilityZones} availability zones, got ${c.availabilityZones}`,
    );
  }
  if (has("dbMultiAz") && min.multiAz && !c.dbMultiAz) add("dbMultiAz", `${kind} runs the database Multi-AZ`);
  if (has("natGateways") && min.natGateways && c.natGateways !== min.natGateways) {
    add("natGateways", `${kind} uses ${min.natGateways} so one AZ outage cannot cut egress`);
  }
  if (has("restoreTestBeforeUpgrade") && min.restoreTestBeforeUpgrade && !c.restoreTestBeforeUpgrade) {
    add("restoreTestBeforeUpgrade", `${kind} proves every pre-upgrade snapshot restorable before the server moves`);
  }
  if (has("dbMaxAllocatedStorageGb", "dbAllocatedStorageGb") && c.dbMaxAllocatedStorageGb! < c.dbAllocatedStorageGb!) {
    add(
      "dbMaxAllocatedStorageGb",
      `${c.dbMaxAllocatedStorageGb} is below dbAllocatedStorageGb ${c.dbAllocatedStorageGb}`,
    );
  }
}

function windowRules({ c, add, has }: RuleContext): void {
  if (!has("dbBackupWindow", "dbMaintenanceWindow")) return;
  const backup = parseDailyWindow(c.dbBackupWindow!);
  const maintenance = parseWeeklyWindow(c.dbMaintenanceWindow!);
  if (typeof backup === "string") add("dbBackupWindow", backup);
  if (typeof maintenance === "string") add("dbMaintenanceWindow", maintenance);
  if (typeof backup !== "string" && typeof maintenance !== "string" && backupOverlapsMaintenance(backup, maintenance)) {
    add("dbBackupWindow", `"${c.dbBackupWindow}" overlaps dbMaintenanceWindow "${c.dbMaintenanceWindow}"`);
  }
}

/** Cluster access entries and the VPC's room for the subnets. */
function networkRules({ c, add, has }: RuleContext): void {
  if (has("clusterViewerRoleArns", "clusterAdminRoleArns")) {
    for (const arn of c.clusterViewerRoleArns!.filter((x) => c.clusterAdminRoleArns!.includes(x))) {
      add(
        "clusterViewerRoleArns",
        `${arn} is also in clusterAdminRoleArns; a role gets one access entry, so list it once`,
      );
    }
  }
  if (has("vpcCidr", "availabilityZones")) {
    const prefixLength = Number(c.vpcCidr!.split("/")[1]);
    if (!subnetsFit(prefixLength, c.availabilityZones!)) {
      add(
        "vpcCidr",
        `${c.vpcCidr} cannot hold a /${SUBNET_MASKS.public} public and a /${SUBNET_MASKS.private} private subnet in each of ${c.availabilityZones} AZs (${addressesPerAz()} addresses per AZ slot)`,
      );
    }
  }
}

/** ARNs the stack uses must be in its region and partition. */
function arnRules({ c, region, add, has }: RuleContext): void {
  if (region && has("certificateArn")) {
    const arn = c.certificateArn!;
    if (arnRegion(arn) !== region) {
      add(
        "certificateArn",
        `the certificate is in ${arnRegion(arn)}, but the load balancer is in ${region}: ACM certificates are regional`,
      );
    }
    if (arnPartition(arn) !== partitionOf(region)) {
      add(
        "certificateArn",
        `the ARN is in partition "${arnPartition(arn)}", but ${region} is in "${partitionOf(region)}"`,
      );
    }
  }
  for (const key of ["alarmTopicArn", "dockerHubCredentialArn"] as const) {
    if (!region || !has(key)) continue;
    const arn = c[key]!;
    if (arnRegion(arn) !== region) add(key, `the ARN is in ${arnRegion(arn)}, but the stack is in ${region}`);
    else if (arnPartition(arn) !== partitionOf(region)) {
      add(key, `the ARN is in partition "${arnPartition(arn)}", but ${region} is in "${partitionOf(region)}"`);
    }
  }
}

/** Who may reach the server's load balancer; the whole internet only when written plainly (and, in prod, explained). */
function ingressRules({ c, kind, add, has }: RuleContext): void {
  if (!has("serverIngressCidrs", "serverIngressScheme")) return;
  // Until this rule passed, the entries may be anything a stack file holds.
  const cidrs: unknown[] = c.serverIngressCidrs!;
  const openToAll = cidrs.length === 1 && cidrs[0] === "0.0.0.0/0";
  if (openToAll) {
    const unexplained = has("serverOpenToAllReason") && c.serverOpenToAllReason === "";
    if (kind === "prod" && c.serverIngressScheme === "internet-facing" && unexplained) {
      add(
        "serverIngressCidrs",
        `prod refuses a server open to the whole internet unless serverOpenToAllReason says why`,
      );
    }
  } else if (cidrs.every((x) => typeof x === "string") && isOpenToAll(cidrs)) {
    add(
      "serverIngressCidrs",
      `${describe(cidrs)} is the whole internet spelt another way; write ["0.0.0.0/0"] alone so reviewers and prod's rule see it`,
    );
  } else {
    for (const why of allowListProblems(cidrs, { publicSources: c.serverIngressScheme === "internet-facing" })) {
      add("serverIngressCidrs", why);
    }
  }
}

/** Prod names the staging stack it is promoted from; staging names none. */
function promotionRules({ c, stack, kind, add, has }: RuleContext): void {
  if (!has("promotionSourceStack")) return;
  const source = c.promotionSourceStack!;
  if (source !== "") {
    const [, project, sourceStack] = source.split("/");
    if (sourceStack === stack && project === PROJECT) {
      add("promotionSourceStack", `"${source}" is this stack itself: the promotion gate would compare prod with prod`);
    } else if (project !== PROJECT)
      add("promotionSourceStack", `"${source}" belongs to project "${project}", not ${PROJECT}`);
    else if (environmentKindOf(sourceStack) === "prod") {
      add("promotionSourceStack", `"${source}" is a prod stack: prod is promoted from a staging stack`);
    }
  }
  if (kind === "prod" && source === "") add("promotionSourceStack", "prod must name the stack it is promoted from");
  if (kind === "staging" && source !== "") {
    add("promotionSourceStack", "staging is the first environment and has no promotion source");
  }
}

/** A rollback restores only this stack's own snapshot, and pins at least the version it was taken from. */
function rollbackRules({ c, stack, add, has }: RuleContext): void {
  if (!has("rollbackSnapshot") || c.rollbackSnapshot === "") return;
  const snap = parseSnapshotId(c.rollbackSnapshot!)!;
  if (snap.environmentName !== stack) {
    add(
      "rollbackSnapshot",
      `"${c.rollbackSnapshot}" belongs to stack "${snap.environmentName}"; restore only this stack's own pre-upgrade snapshots`,
    );
  }
  // Rolling back pins exactly the snapshot's "from" version; later upgrades may only go up from it.
  if (has("zenmlVersion") && semver.lt(c.zenmlVersion!, snap.fromVersion)) {
    add(
      "rollbackSnapshot",
      `"${c.rollbackSnapshot}" was taken before upgrading ${snap.fromVersion} -> ${snap.toVersion}, so zenmlVersion must be "${snap.fromVersion}" or later (it is "${c.zenmlVersion}")`,
    );
  }
}

type MlflowKeys = "mlflowVersion" | "mlflowImage" | "mlflowHostname" | "mlflowCertificateArn" | "serverHostname";

/** MLflow's keys only mean something together: a pin needs its hostname (its image is ours unless set), and no pin needs neither. */
function mlflowRules(c: Pick<ConfigValues, MlflowKeys>, add: RuleContext["add"]): void {
  if (c.mlflowVersion === "") {
    for (const key of ["mlflowImage", "mlflowHostname", "mlflowCertificateArn"] as const) {
      if (c[key] !== "")
        add(key, `is set but mlflowVersion is empty, so no MLflow server runs; set mlflowVersion or clear ${key}`);
    }
    return;
  }
  // "": the image the images workflow builds for this version (components/stack.ts refuses it until locked).
  const why = c.mlflowImage === "" ? undefined : explainBadMlflowImage(c.mlflowImage, c.mlflowVersion);
  if (why) add("mlflowImage", why);
  if (c.mlflowHostname === "") add("mlflowHostname", `is required with mlflowVersion "${c.mlflowVersion}"`);
  else if (c.mlflowHostname === c.serverHostname) {
    add("mlflowHostname", `"${c.mlflowHostname}" is serverHostname; MLflow is served next to ZenML on its own name`);
  }
}
