import * as pulumi from "@pulumi/pulumi";
import type { DeploymentHistory, PromotionSource } from "./version-policy";

/** Stack outputs this program writes and reads back on the next update. Renaming one breaks the guard. */
export const HISTORY_OUTPUTS = {
  version: "zenmlVersion",
  versions: "zenmlVersionHistory",
  snapshot: "latestPreUpgradeSnapshot",
  rollback: "rollbackSnapshot",
} as const;

const nonEmpty = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

async function readOutputs(ref: pulumi.StackReference): Promise<{ version?: string; versions: string[]; snapshot?: string; rollback?: string }> {
  const [version, versions, snapshot, rollback] = await Promise.all(
    [HISTORY_OUTPUTS.version, HISTORY_OUTPUTS.versions, HISTORY_OUTPUTS.snapshot, HISTORY_OUTPUTS.rollback].map(async (key) => (await ref.getOutputDetails(key)).value),
  );
  return {
    version: nonEmpty(version),
    versions: Array.isArray(versions) ? versions.filter((v): v is string => typeof v === "string") : [],
    snapshot: nonEmpty(snapshot),
    rollback: nonEmpty(rollback),
  };
}

/** What this stack deployed last, read from its own previous outputs; empty on the first deploy. */
export async function readOwnHistory(parent?: pulumi.Resource): Promise<DeploymentHistory> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const ref = new pulumi.StackReference("deployed-state", { name: self }, { parent });
  const out = await readOutputs(ref);
  return {
    deployedVersion: out.version,
    versions: out.versions.length > 0 ? out.versions : out.version ? [out.version] : [],
    latestSnapshot: out.snapshot,
    activeRollbackSnapshot: out.rollback,
  };
}

/** What the promotion source (staging) runs and has run. */
export async function readPromotionSource(stackName: string, parent?: pulumi.Resource): Promise<PromotionSource> {
  const ref = new pulumi.StackReference("promotion-source", { name: stackName }, { parent });
  const out = await readOutputs(ref);
  return { stackName, currentVersion: out.version, versions: out.versions };
}
