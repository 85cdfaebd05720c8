import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "./config";
import { ZenmlEnvironment } from "./environment";
import { UserFacingError } from "./errors";
import { bundleSources, readCatalogue } from "./pipeline-catalogue";
import { HISTORY_OUTPUTS, readOwnHistory, readPromotionSource } from "./history";
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
  const projectDir = path.join(__dirname, "..");
  const catalogue = readCatalogue(projectDir, stack);
  const pipelines = { catalogue, sources: bundleSources(projectDir, catalogue) };

  let rollback: RollbackRequest | undefined;
  if (config.rollbackSnapshot !== "") {
    const snap = parseSnapshotId(config.rollbackSnapshot)!;
    rollback = { snapshotIdentifier: config.rollbackSnapshot, fromVersion: snap.fromVersion, toVersion: snap.toVersion };
  }

  const history = await readOwnHistory();
  const decision = decideUpgrade(stack, config.zenmlVersion, history, rollback);
  const warnings = [...decision.warnings];
  let promotionOverride: string | undefined;
  if (config.promotionSourceStack !== "") {
    const source = await readPromotionSource(config.promotionSourceStack);
    const gate = checkPromotion(stack, config.zenmlVersion, source, config.promotionOverrideReason);
    warnings.push(...gate.warnings);
    if (gate.overridden) promotionOverride = config.promotionOverrideReason.trim();
  }
  for (const warning of warnings) void pulumi.log.warn(warning);

  const snapshotId = decision.kind === "upgrade" ? preUpgradeSnapshotId(stack, decision.from!, decision.to, history.snapshots) : undefined;
  const env = new ZenmlEnvironment("zenml", { config, preUpgradeSnapshotId: snapshotId, rollback, pipelines });

  return {
    serverUrl: env.serverUrl,
    [HISTORY_OUTPUTS.version]: config.zenmlVersion,
    [HISTORY_OUTPUTS.versions]: recordOnce(history.versions, config.zenmlVersion),
    [HISTORY_OUTPUTS.snapshot]: snapshotId ?? history.latestSnapshot ?? "",
    [HISTORY_OUTPUTS.snapshots]: snapshotId ? recordOnce(history.snapshots, snapshotId) : history.snapshots,
    [HISTORY_OUTPUTS.rollback]: rollback?.snapshotIdentifier ?? "",
    upgrade: { kind: decision.kind, from: decision.from ?? null, to: decision.to, warnings },
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
    postUpgradeJob: env.postUpgradeJob,
  };
}

/** Keys set with `pulumi config set --secret`; the SDK exposes the check at runtime only. */
function secretConfigKeys(raw: Record<string, string>): string[] {
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  return isSecret ? Object.keys(raw).filter((key) => isSecret(key)) : [];
}
