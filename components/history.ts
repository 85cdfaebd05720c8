import * as pulumi from "@pulumi/pulumi";
import type { CrossStackFacts } from "./config";
import type { LiveTargets } from "./live-versions";
import { HISTORY_INPUT_KEYS, readHistory, type StackHistory } from "./part-history";

/** Stack outputs besides the version history that this program writes and reads back. Renaming one breaks the guard. */
export const STATE_OUTPUTS = {
  /** What this stack must not share with its mirror (components/config.ts CrossStackFacts). */
  crossStack: "crossStackFacts",
  /** The server image digest each ZenML version ran with, by version (components/image-lock.ts). */
  imageDigests: "serverImageDigests",
  /** The resources whose versions AWS may move, read at the next update (components/live-versions.ts). */
  clusterName: "clusterName",
  database: "activeDatabaseInstanceIdentifier",
} as const;

const nonEmpty = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
const record = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
/** A version -> digest map, keeping only well-formed entries. */
const digests = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(record(v)).filter((e): e is [string, string] => typeof e[1] === "string"));

export interface DeployedState {
  history: StackHistory;
  imageDigests: Record<string, string>;
  liveTargets: LiveTargets;
}

async function readState(ref: pulumi.StackReference, extra: string[] = []): Promise<DeployedState & { extra: Record<string, unknown> }> {
  const keys = [...HISTORY_INPUT_KEYS, STATE_OUTPUTS.imageDigests, STATE_OUTPUTS.clusterName, STATE_OUTPUTS.database, ...extra];
  const values = await Promise.all(keys.map(async (key) => (await ref.getOutputDetails(key)).value));
  const outputs: Record<string, unknown> = Object.fromEntries(keys.map((k, i) => [k, values[i]]).filter(([, v]) => v !== undefined && v !== null));
  return {
    history: readHistory(outputs),
    imageDigests: digests(outputs[STATE_OUTPUTS.imageDigests]),
    liveTargets: { clusterName: nonEmpty(outputs[STATE_OUTPUTS.clusterName]), databaseInstanceIdentifier: nonEmpty(outputs[STATE_OUTPUTS.database]) },
    extra: Object.fromEntries(extra.map((k) => [k, outputs[k]])),
  };
}

/** What this stack deployed last, read from its own previous outputs; empty on the first deploy. */
export async function readOwnState(parent?: pulumi.Resource): Promise<DeployedState> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  return readState(new pulumi.StackReference("deployed-state", { name: self }, { parent }));
}

/** Facts a stack exported, if it deployed with a version of this program that exports them. */
function facts(v: unknown): CrossStackFacts | undefined {
  const r = record(v);
  const keys = ["stack", "vpcCidr", "serverHostname", "mlflowHostname", "promotionSourceStack"] as const;
  return keys.every((k) => typeof r[k] === "string") ? (Object.fromEntries(keys.map((k) => [k, r[k]])) as unknown as CrossStackFacts) : undefined;
}

/** What the promotion source (staging) runs and has run, and what it must not share with us. */
export async function readPromotionSource(stackName: string, parent?: pulumi.Resource): Promise<DeployedState & { stackName: string; facts?: CrossStackFacts }> {
  const state = await readState(new pulumi.StackReference("promotion-source", { name: stackName }, { parent }), [STATE_OUTPUTS.crossStack]);
  return { stackName, history: state.history, imageDigests: state.imageDigests, liveTargets: state.liveTargets, facts: facts(state.extra[STATE_OUTPUTS.crossStack]) };
}
