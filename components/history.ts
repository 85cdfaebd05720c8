import * as pulumi from "@pulumi/pulumi";
import type { MlflowHistory } from "./mlflow-policy";
import type { DeploymentHistory, PromotionSource } from "./version-policy";

/** Stack outputs this program writes and reads back on the next update. Renaming one breaks the guard. */
export const HISTORY_OUTPUTS = {
  version: "zenmlVersion",
  versions: "zenmlVersionHistory",
  snapshot: "latestPreUpgradeSnapshot",
  snapshots: "preUpgradeSnapshots",
  rollback: "rollbackSnapshot",
  mlflowVersion: "mlflowVersion",
  mlflowVersions: "mlflowVersionHistory",
  mlflowSnapshot: "latestMlflowPreUpgradeSnapshot",
} as const;

const nonEmpty = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

async function readOutputs(ref: pulumi.StackReference): Promise<{ version?: string; versions: string[]; snapshot?: string; snapshots: string[]; rollback?: string; mlflow: MlflowHistory; mlflowSnapshot?: string }> {
  const keys = [HISTORY_OUTPUTS.version, HISTORY_OUTPUTS.versions, HISTORY_OUTPUTS.snapshot, HISTORY_OUTPUTS.snapshots, HISTORY_OUTPUTS.rollback, HISTORY_OUTPUTS.mlflowVersion, HISTORY_OUTPUTS.mlflowVersions, HISTORY_OUTPUTS.mlflowSnapshot];
  const [version, versions, snapshot, snapshots, rollback, mlflowVersion, mlflowVersions, mlflowSnapshot] = await Promise.all(keys.map(async (key) => (await ref.getOutputDetails(key)).value));
  const mlflow = { deployedVersion: nonEmpty(mlflowVersion), versions: strings(mlflowVersions) };
  return { version: nonEmpty(version), versions: strings(versions), snapshot: nonEmpty(snapshot), snapshots: strings(snapshots), rollback: nonEmpty(rollback), mlflow, mlflowSnapshot: nonEmpty(mlflowSnapshot) };
}

/** What this stack deployed last, read from its own previous outputs; empty on the first deploy. */
export async function readOwnHistory(parent?: pulumi.Resource): Promise<DeploymentHistory & { mlflow: MlflowHistory; latestMlflowSnapshot?: string }> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const ref = new pulumi.StackReference("deployed-state", { name: self }, { parent });
  const out = await readOutputs(ref);
  return {
    deployedVersion: out.version,
    versions: out.versions.length > 0 ? out.versions : out.version ? [out.version] : [],
    latestSnapshot: out.snapshot,
    snapshots: out.snapshots.length > 0 ? out.snapshots : out.snapshot ? [out.snapshot] : [],
    activeRollbackSnapshot: out.rollback,
    mlflow: out.mlflow,
    latestMlflowSnapshot: out.mlflowSnapshot,
  };
}

/** What the promotion source (staging) runs and has run. */
export async function readPromotionSource(stackName: string, parent?: pulumi.Resource): Promise<PromotionSource & { mlflow: MlflowHistory }> {
  const ref = new pulumi.StackReference("promotion-source", { name: stackName }, { parent });
  const out = await readOutputs(ref);
  return { stackName, currentVersion: out.version, versions: out.versions, mlflow: out.mlflow };
}
