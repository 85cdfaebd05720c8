import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { crossStackFacts, crossStackProblems, parseConfig, type PlatformConfig } from "./config";
import { ZenmlEnvironment } from "./environment";
import { UserFacingError } from "./errors";
import { resolveAddonVersions } from "./cluster";
import { bundleSources, readCatalogue } from "./post-upgrade/pipeline-catalogue";
import { ZENML_SERVER_IMAGE, imageDigestCheck, lockedTag, readImageLock, recordDigest, type ImageLock } from "./image-lock";
import { HISTORY_OUTPUTS, readOwnHistory, readPromotionSource } from "./history";
import { mlflowPreUpgradeSnapshotId, mlflowRecordForPolicy, mlflowTurnedOffWarning } from "./mlflow/mlflow-policy";
import { upgradeReportText } from "./upgrade-report";
import {
  EKS_ADDONS,
  PARTS,
  addonPart,
  checkPromotion,
  decideParts,
  decideUpgrade,
  eksSupportWarning,
  mysqlPreUpgradeSnapshotId,
  parseSnapshotId,
  preUpgradeSnapshotId,
  recordOnce,
  type UpgradeDecision,
  type RollbackRequest,
} from "./version-policy";

/**
 * The whole program: validate config, check the upgrade against what is deployed, build the
 * environment, return the stack outputs. Nothing is registered before every check has passed.
 */
export async function defineStack(inputs: StackInputs = {}): Promise<Record<string, unknown>> {
  try {
    return await build(inputs);
  } catch (err) {
    // A clean message for the user instead of a stack trace from deep inside the runtime.
    if (err instanceof UserFacingError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

/** What the program reads from the checkout besides config; tests may pass their own. */
export interface StackInputs {
  /** images.lock.yaml's entries. Default: the project's file. */
  imageLock?: ImageLock;
}

async function build(inputs: StackInputs): Promise<Record<string, unknown>> {
  const stack = pulumi.getStack();
  const raw = pulumi.runtime.allConfig();
  const config = parseConfig(stack, raw, secretConfigKeys(raw));
  const projectDir = path.join(__dirname, "..");
  const catalogue = readCatalogue(projectDir, stack);
  const pipelines = { catalogue, sources: bundleSources(projectDir, catalogue) };
  const serverImage = lockedTag(inputs.imageLock ?? readImageLock(projectDir), ZENML_SERVER_IMAGE, config.zenmlVersion);

  let rollback: RollbackRequest | undefined;
  if (config.rollbackSnapshot !== "") {
    const snap = parseSnapshotId(config.rollbackSnapshot)!;
    rollback = { snapshotIdentifier: config.rollbackSnapshot, fromVersion: snap.fromVersion, toVersion: snap.toVersion };
  }

  const history = await readOwnHistory();
  const refusals: string[] = [];
  const refusalOf = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof UserFacingError)) throw err;
      refusals.push(err.message);
      return err.message;
    }
    return undefined;
  };
  let decision: UpgradeDecision = { kind: "unchanged", to: config.zenmlVersion, warnings: [] };
  const zenmlRefused = refusalOf(() => (decision = decideUpgrade(stack, config.zenmlVersion, history, rollback)));
  const warnings = [...decision.warnings];
  let promotionOverride: string | undefined;
  let source: Awaited<ReturnType<typeof readPromotionSource>> | undefined;
  if (config.promotionSourceStack !== "") {
    source = await readPromotionSource(config.promotionSourceStack);
    const from = source;
    refusalOf(() => {
      const gate = checkPromotion(stack, config.zenmlVersion, from, config.promotionOverrideReason);
      warnings.push(...gate.warnings);
      if (gate.overridden) promotionOverride = config.promotionOverrideReason.trim();
    });
    // What only both stacks together show (a shared VPC range or hostname), from what the source deployed.
    if (from.facts) for (const problem of crossStackProblems(from.facts, crossStackFacts(config))) refusals.push(`${problem} (stack ${stack}; ${from.stackName} deployed its values)`);
  }

  // The image bytes a version ran never change under it, here or on the way from staging.
  const digestRecords = [{ stackName: stack, digests: history.imageDigests }, ...(source ? [{ stackName: source.stackName, digests: source.imageDigests }] : [])];
  const imageCheck = imageDigestCheck(stack, ZENML_SERVER_IMAGE, config.zenmlVersion, serverImage.digest, digestRecords);
  refusals.push(...imageCheck.refusals);
  warnings.push(...imageCheck.warnings);

  // Every other versioned part: recorded like ZenML's, never down, one step, one part per update, staging first.
  const addonVersions = await resolveAddonVersions(config.kubernetesVersion, config.eksAddonVersions, EKS_ADDONS);
  // Every registered part pinned by a config key; a new part (e.g. MLflow) is one PARTS entry.
  const desired: Record<string, string> = {};
  // An optional part pinned "" (MLflow off) is not desired at all.
  for (const rule of Object.values(PARTS)) if (rule.configKey && config[rule.configKey as keyof PlatformConfig] !== "") desired[rule.name] = String(config[rule.configKey as keyof PlatformConfig]);
  for (const [addon, version] of Object.entries(addonVersions)) desired[addonPart(addon)] = version;
  const parts = decideParts({
    stack,
    desired,
    own: history.parts.mlflow ? { ...history.parts, mlflow: mlflowRecordForPolicy(history.parts.mlflow)! } : history.parts,
    deployedBefore: history.deployedVersion !== undefined,
    source: source && { stackName: source.stackName, parts: source.parts },
    promotionOverrideReason: config.promotionOverrideReason,
    zenml: { kind: decision.kind, refused: zenmlRefused },
  });
  refusals.push(...parts.refusals.filter((r) => !refusals.includes(r)));
  warnings.push(...parts.warnings);
  const turnedOff = mlflowTurnedOffWarning(stack, config.mlflowVersion, history.parts.mlflow);
  if (turnedOff) warnings.push(turnedOff);
  if (parts.overridden.length > 0) promotionOverride = config.promotionOverrideReason.trim();
  const support = eksSupportWarning(stack, config.kubernetesVersion, new Date());
  if (support) warnings.push(support);
  if (refusals.length > 0) {
    // One line per refusal (each names its key and the deployed version), then the whole report.
    throw new UserFacingError(`${refusals.join("\n")}\n${upgradeReportText(parts.entries)}`);
  }
  for (const warning of warnings) void pulumi.log.warn(warning);

  const snapshotId = decision.kind === "upgrade" ? preUpgradeSnapshotId(stack, decision.from!, decision.to, history.snapshots) : undefined;
  const mysql = parts.entries.find((e) => e.part === "mysql");
  const mysqlMajorUpgrade =
    mysql?.move === "upgrade" && mysql.deployed ? { fromVersion: mysql.deployed, snapshotId: mysqlPreUpgradeSnapshotId(stack, mysql.deployed, mysql.desired, history.snapshots) } : undefined;
  // MLflow's upgrade uses ZenML's snapshot mechanism (one part moves per update, so one snapshot);
  // a server paused while MLflow was off has no pods to stop, but its kept database is snapshotted.
  const mlflow = parts.entries.find((e) => e.part === "mlflow");
  const mlflowSnapshotId = mlflow?.move === "upgrade" && mlflow.deployed ? mlflowPreUpgradeSnapshotId(stack, mlflow.deployed, mlflow.desired, history.snapshots) : undefined;
  const mlflowUpgrade = mlflowSnapshotId && history.parts.mlflow?.deployed ? { from: mlflow!.deployed!, to: mlflow!.desired } : undefined;
  // The server moves from what it runs now, with the image bytes it ran (its recorded digest).
  const zenmlUpgrade = decision.kind === "upgrade" ? { from: decision.from!, fromImageTag: history.imageDigests[decision.from!] ? `${decision.from!}@${history.imageDigests[decision.from!]}` : undefined } : undefined;
  const env = new ZenmlEnvironment("zenml", { config, preUpgradeSnapshotId: snapshotId ?? mlflowSnapshotId, rollback, addonVersions, mysqlMajorUpgrade, pipelines, mlflowUpgrade, serverImageTag: serverImage.tag, zenmlUpgrade });
  const taken = [snapshotId, mysqlMajorUpgrade?.snapshotId, mlflowSnapshotId].filter((x): x is string => x !== undefined);
  // Parts not desired now (MLflow off) keep their history, so turning them on again is checked.
  const partHistory = { ...Object.fromEntries(Object.entries(history.parts).filter(([part]) => part !== "zenml").map(([part, h]) => [part, h.versions])), ...Object.fromEntries(Object.entries(desired).map(([part, v]) => [part, recordOnce(history.parts[part]?.versions ?? [], v)])) };

  return {
    serverUrl: env.serverUrl,
    [HISTORY_OUTPUTS.version]: config.zenmlVersion,
    [HISTORY_OUTPUTS.versions]: recordOnce(history.versions, config.zenmlVersion),
    [HISTORY_OUTPUTS.snapshot]: snapshotId ?? history.latestSnapshot ?? "",
    [HISTORY_OUTPUTS.snapshots]: taken.reduce(recordOnce, history.snapshots),
    [HISTORY_OUTPUTS.rollback]: rollback?.snapshotIdentifier ?? "",
    upgrade: { kind: decision.kind, from: decision.from ?? null, to: decision.to, warnings },
    promotionOverrideReason: promotionOverride ?? null,
    [HISTORY_OUTPUTS.parts]: desired,
    [HISTORY_OUTPUTS.partHistory]: partHistory,
    [HISTORY_OUTPUTS.mlflowSnapshot]: mlflowSnapshotId ?? history.latestMlflowSnapshot ?? "",
    [HISTORY_OUTPUTS.crossStack]: crossStackFacts(config),
    [HISTORY_OUTPUTS.imageDigests]: recordDigest(history.imageDigests, config.zenmlVersion, serverImage.digest),
    mlflowUrl: env.mlflow?.url ?? null,
    mlflowAdminPassword: env.mlflow?.adminPassword ?? null,
    upgradeReport: { parts: parts.entries, warnings },
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
    // Only in an update that upgrades ZenML: where its inventory and reports are, which Jobs made them.
    ...(env.preUpgrade ? { preUpgrade: preUpgradeOutput(env, config) } : {}),
  };
}

/** The pre-upgrade work of this update, for the deploy record and whoever looks for what went missing. */
function preUpgradeOutput(env: ZenmlEnvironment, config: PlatformConfig) {
  const pre = env.preUpgrade!;
  return {
    from: pre.move.from,
    to: pre.move.to,
    inventory: pre.documents.inventory,
    drain: pre.documents.drain,
    restoreTest: env.restoreTest ? pre.documents.restoreTest : null,
    jobs: { inventory: pre.inventoryJob.metadata.name, drain: pre.drainJob.metadata.name, restoreTest: env.restoreTest?.job.metadata.name ?? null },
    drainOverrideReason: config.upgradeDrainOverrideReason.trim() === "" ? null : config.upgradeDrainOverrideReason.trim(),
  };
}

/** Keys set with `pulumi config set --secret`; the SDK exposes the check at runtime only. */
function secretConfigKeys(raw: Record<string, string>): string[] {
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  return isSecret ? Object.keys(raw).filter((key) => isSecret(key)) : [];
}
