import * as pulumi from "@pulumi/pulumi";
import type { CrossStackFacts } from "./config";
import type { DeploymentHistory, PartHistory, PromotionSource } from "./version-policy";

/** Stack outputs this program writes and reads back on the next update. Renaming one breaks the guard. */
export const HISTORY_OUTPUTS = {
  version: "zenmlVersion",
  versions: "zenmlVersionHistory",
  snapshot: "latestPreUpgradeSnapshot",
  snapshots: "preUpgradeSnapshots",
  rollback: "rollbackSnapshot",
  /** Every versioned part's deployed version, by part name (components/version-policy.ts PARTS). */
  parts: "partVersions",
  /** Every version each part has run, oldest first. */
  partHistory: "partVersionHistory",
  /** The MLflow part's latest pre-upgrade snapshot (ZenML's stays in `snapshot`, which a rollback reads). */
  mlflowSnapshot: "latestMlflowPreUpgradeSnapshot",
  /** What this stack must not share with its mirror (components/config.ts CrossStackFacts). */
  crossStack: "crossStackFacts",
  /** The server image digest each ZenML version ran with, by version (components/image-lock.ts). */
  imageDigests: "serverImageDigests",
} as const;

const nonEmpty = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** A version -> digest map, keeping only well-formed entries. */
const digests = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(record(v)).filter((e): e is [string, string] => typeof e[1] === "string"));

const record = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Per-part records; ZenML's come from its long-standing outputs, so older stacks report it too. */
function partHistories(version: string | undefined, versions: string[], parts: unknown, history: unknown): Record<string, PartHistory> {
  const out: Record<string, PartHistory> = {};
  const current = record(parts);
  const past = record(history);
  for (const name of new Set([...Object.keys(current), ...Object.keys(past)])) out[name] = { deployed: nonEmpty(current[name]), versions: strings(past[name]) };
  out.zenml = { deployed: version, versions };
  return out;
}

async function readOutputs(ref: pulumi.StackReference): Promise<{ version?: string; versions: string[]; snapshot?: string; snapshots: string[]; rollback?: string; parts: Record<string, PartHistory>; mlflowSnapshot?: string; imageDigests: Record<string, string> }> {
  const keys = [HISTORY_OUTPUTS.version, HISTORY_OUTPUTS.versions, HISTORY_OUTPUTS.snapshot, HISTORY_OUTPUTS.snapshots, HISTORY_OUTPUTS.rollback, HISTORY_OUTPUTS.parts, HISTORY_OUTPUTS.partHistory, HISTORY_OUTPUTS.mlflowSnapshot, HISTORY_OUTPUTS.imageDigests];
  const [version, versions, snapshot, snapshots, rollback, parts, partHistory, mlflowSnapshot, imageDigests] = await Promise.all(keys.map(async (key) => (await ref.getOutputDetails(key)).value));
  const v = nonEmpty(version);
  return {
    version: v,
    versions: strings(versions),
    snapshot: nonEmpty(snapshot),
    snapshots: strings(snapshots),
    rollback: nonEmpty(rollback),
    parts: partHistories(v, strings(versions), parts, partHistory),
    mlflowSnapshot: nonEmpty(mlflowSnapshot),
    imageDigests: digests(imageDigests),
  };
}

/** What this stack deployed last, read from its own previous outputs; empty on the first deploy. */
export async function readOwnHistory(
  parent?: pulumi.Resource,
): Promise<DeploymentHistory & { parts: Record<string, PartHistory>; latestMlflowSnapshot?: string; imageDigests: Record<string, string>; facts?: CrossStackFacts }> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const ref = new pulumi.StackReference("deployed-state", { name: self }, { parent });
  const [out, crossStack] = await Promise.all([readOutputs(ref), ref.getOutputDetails(HISTORY_OUTPUTS.crossStack)]);
  return {
    deployedVersion: out.version,
    versions: out.versions.length > 0 ? out.versions : out.version ? [out.version] : [],
    latestSnapshot: out.snapshot,
    snapshots: out.snapshots.length > 0 ? out.snapshots : out.snapshot ? [out.snapshot] : [],
    activeRollbackSnapshot: out.rollback,
    parts: out.parts,
    latestMlflowSnapshot: out.mlflowSnapshot,
    imageDigests: out.imageDigests,
    /** What the last update deployed of what must not change under a running stack (its VPC range). */
    facts: facts(crossStack.value),
  };
}

/** Facts a stack exported, if it deployed with a version of this program that exports them. */
function facts(v: unknown): CrossStackFacts | undefined {
  const r = record(v);
  const keys = ["stack", "vpcCidr", "serverHostname", "mlflowHostname", "promotionSourceStack"] as const;
  return keys.every((k) => typeof r[k] === "string") ? (Object.fromEntries(keys.map((k) => [k, r[k]])) as unknown as CrossStackFacts) : undefined;
}

/** What the promotion source (staging) runs and has run, and what it must not share with us. */
export async function readPromotionSource(stackName: string, parent?: pulumi.Resource): Promise<PromotionSource & { parts: Record<string, PartHistory>; facts?: CrossStackFacts; imageDigests: Record<string, string> }> {
  const ref = new pulumi.StackReference("promotion-source", { name: stackName }, { parent });
  const [out, crossStack] = await Promise.all([readOutputs(ref), ref.getOutputDetails(HISTORY_OUTPUTS.crossStack)]);
  return { stackName, currentVersion: out.version, versions: out.versions, parts: out.parts, facts: facts(crossStack.value), imageDigests: out.imageDigests };
}
