import * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "./config";
import { ZenmlEnvironment } from "./environment";
import { UserFacingError } from "./errors";
import { HISTORY_OUTPUTS, readOwnHistory, readPromotionSource } from "./history";
import { checkMlflowPromotion, decideMlflowUpgrade, mlflowPreUpgradeSnapshotId } from "./mlflow-policy";
import { checkPromotion, decideUpgrade, parseSnapshotId, preUpgradeSnapshotId, recordOnce, type RollbackRequest } from "./version-policy";

/**
 * The whole program: validate config, check the upgrade against what is deployed, build the
 * environment, return the stack outputs. Nothing is registered before every check has passed.
 */
export async function defineStack(): Promise<Record<string, unknown>> {
  try {
    return await build();
  } catch (err) {
    // A clean message for the user instead of a stack trace from deep inside the runtime.
    if (err instanceof UserFacingError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

async function build(): Promise<Record<string, unknown>> {
  const stack = pulumi.getStack();
  const raw = pulumi.runtime.allConfig();
  const config = parseConfig(stack, raw, secretConfigKeys(raw));

  let rollback: RollbackRequest | undefined;
  if (config.rollbackSnapshot !== "") {
    const snap = parseSnapshotId(config.rollbackSnapshot)!;
    rollback = { snapshotIdentifier: config.rollbackSnapshot, fromVersion: snap.fromVersion, toVersion: snap.toVersion };
  }

  const history = await readOwnHistory();
  const decision = decideUpgrade(stack, config.zenmlVersion, history, rollback);
  const mlflowDecision = decideMlflowUpgrade(stack, config.mlflowVersion, history.mlflow, decision.kind);
  const warnings = [...decision.warnings, ...mlflowDecision.warnings];
  let promotionOverride: string | undefined;
  if (config.promotionSourceStack !== "") {
    const source = await readPromotionSource(config.promotionSourceStack);
    const gate = checkPromotion(stack, config.zenmlVersion, source, config.promotionOverrideReason);
    warnings.push(...gate.warnings);
    if (gate.overridden) promotionOverride = config.promotionOverrideReason.trim();
    const mlflowSource = { stackName: source.stackName, currentVersion: source.mlflow.deployedVersion, versions: source.mlflow.versions };
    const mlflowGate = checkMlflowPromotion(stack, config.mlflowVersion, mlflowSource, config.promotionOverrideReason);
    warnings.push(...mlflowGate.warnings);
    if (mlflowGate.overridden) promotionOverride = config.promotionOverrideReason.trim();
  }
  for (const warning of warnings) void pulumi.log.warn(warning);

  const snapshotId = decision.kind === "upgrade" ? preUpgradeSnapshotId(stack, decision.from!, decision.to, history.snapshots) : undefined;
  // One snapshot mechanism and history for both parts; decideMlflowUpgrade refuses both at once.
  const mlflowSnapshotId = mlflowDecision.kind === "upgrade" ? mlflowPreUpgradeSnapshotId(stack, mlflowDecision.from!, mlflowDecision.to!, history.snapshots) : undefined;
  // A paused server (mlflowVersion was empty) has no pods to stop; its database is still snapshotted.
  const mlflowUpgrade = mlflowSnapshotId && history.mlflow.deployedVersion ? { from: mlflowDecision.from!, to: mlflowDecision.to! } : undefined;
  const env = new ZenmlEnvironment("zenml", { config, preUpgradeSnapshotId: snapshotId ?? mlflowSnapshotId, rollback, mlflowUpgrade });
  const takenSnapshots = [snapshotId, mlflowSnapshotId].reduce<string[]>((all, id) => (id ? recordOnce(all, id) : all), history.snapshots);

  return {
    serverUrl: env.serverUrl,
    [HISTORY_OUTPUTS.version]: config.zenmlVersion,
    [HISTORY_OUTPUTS.versions]: recordOnce(history.versions, config.zenmlVersion),
    [HISTORY_OUTPUTS.snapshot]: snapshotId ?? history.latestSnapshot ?? "",
    [HISTORY_OUTPUTS.snapshots]: takenSnapshots,
    [HISTORY_OUTPUTS.rollback]: rollback?.snapshotIdentifier ?? "",
    [HISTORY_OUTPUTS.mlflowVersion]: config.mlflowVersion,
    [HISTORY_OUTPUTS.mlflowVersions]: config.mlflowVersion === "" ? history.mlflow.versions : recordOnce(history.mlflow.versions, config.mlflowVersion),
    [HISTORY_OUTPUTS.mlflowSnapshot]: mlflowSnapshotId ?? history.latestMlflowSnapshot ?? "",
    upgrade: { kind: decision.kind, from: decision.from ?? null, to: decision.to, warnings },
    mlflowUpgrade: { kind: mlflowDecision.kind, from: mlflowDecision.from ?? null, to: mlflowDecision.to ?? null },
    mlflowUrl: env.mlflow?.url ?? null,
    mlflowAdminPassword: env.mlflow?.adminPassword ?? null,
    promotionOverrideReason: promotionOverride ?? null,
    bucketName: env.bucketName,
    registryUrl: env.registryUrl,
    registryUri: env.registryUri,
    clusterName: env.clusterName,
    kubeconfig: env.kubeconfig,
    databaseEndpoint: env.databaseEndpoint,
    databaseInstanceIdentifier: env.databaseInstanceIdentifier,
    activeDatabaseInstanceIdentifier: env.activeDatabaseInstanceIdentifier,
    applicationLogGroup: env.applicationLogGroup,
    serverRoleArn: env.serverRoleArn,
    adminPassword: env.adminPassword,
    zenmlStackName: env.zenmlStackName,
    zenmlStackRegistrationJob: env.zenmlStackRegistrationJob,
  };
}

/** Keys set with `pulumi config set --secret`; the SDK exposes the check at runtime only. */
function secretConfigKeys(raw: Record<string, string>): string[] {
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  return isSecret ? Object.keys(raw).filter((key) => isSecret(key)) : [];
}
