import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { crossStackFacts, crossStackProblems, parseConfig, type PlatformConfig } from "./config";
import { ZenmlEnvironment, type ZenmlEnvironmentArgs } from "./environment";
import { preUpgradeOutput } from "./pre-upgrade/pre-upgrade";
import { UserFacingError } from "./errors";
import { deployedChangeRefusals } from "./deployed-changes";
import { resolveAddonVersions } from "./cluster";
import { bundleSources, readCatalogue } from "./post-upgrade/pipeline-catalogue";
import { ZENML_SERVER_IMAGE, imageDigestCheck, lockedTag, readImageLock, recordDigest, type ImageLock } from "./image-lock";
import { BUILT_IMAGES, resolveBuiltImage, standInWarning, type BuiltImage, type LockedBuiltImage } from "./kit/built-images";
import { STATE_OUTPUTS, readOwnState, readPromotionSource } from "./history";
import { readLiveVersions } from "./live-versions";
import { HISTORY_OUTPUT, VERSION_VIEWS, currentVersions, historyOutput } from "./part-history";
import { EKS_ADDONS, PARTS, addonPart, parseSnapshotId, type PartRule } from "./parts";
import { eksSupportWarning } from "./support-calendar";
import { upgradeReportText } from "./upgrade-report";
import { decideParts, refuseAll, type PartChange, type RollbackRequest } from "./version-policy";

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
  /**
   * Offline plans only, where the images workflow cannot have run: an image we build whose digest the
   * lock lacks is planned with a stand-in digest and a warning instead of refused. Default: true under
   * Pulumi's mocks (tools/offline, tests), false under a real engine.
   */
  standInBuiltImages?: boolean;
}

/** The pin of every part that is on: config keys, and each add-on's version for the pinned cluster. */
function desiredVersions(config: PlatformConfig, addonVersions: Record<string, string>): Record<string, string> {
  const desired: Record<string, string> = {};
  const pinOf = (rule: PartRule) => String(config[rule.configKey as keyof PlatformConfig] ?? "");
  // An optional part pinned "" (MLflow off) is not desired at all.
  for (const rule of Object.values(PARTS)) if (!rule.name.startsWith("addon:") && pinOf(rule) !== "") desired[rule.name] = pinOf(rule);
  for (const [addon, version] of Object.entries(addonVersions)) desired[addonPart(addon)] = version;
  return desired;
}

/** What the environment does for the one part that moves: ZenML's pre-upgrade work and snapshot, MLflow's snapshot, MySQL's major upgrade. */
function changeArgs(change: PartChange | undefined, imageDigests: Record<string, string>): Pick<ZenmlEnvironmentArgs, "preUpgradeSnapshotId" | "mysqlMajorUpgrade" | "mlflowUpgrade" | "zenmlUpgrade"> {
  if (change?.kind !== "upgrade" || !change.snapshot) return {};
  if (change.part === "mysql") return { mysqlMajorUpgrade: { fromVersion: change.from, snapshotId: change.snapshot } };
  // A paused MLflow has no pods to stop, but its kept database is snapshotted.
  if (change.part === "mlflow") return { preUpgradeSnapshotId: change.snapshot, ...(change.wasRunning ? { mlflowUpgrade: { from: change.from, to: change.to } } : {}) };
  // ZenML moves from what it runs now, with the image bytes it ran (its recorded digest).
  const digest = imageDigests[change.from];
  return { preUpgradeSnapshotId: change.snapshot, zenmlUpgrade: { from: change.from, fromImageTag: digest ? `${change.from}@${digest}` : undefined } };
}

async function build(inputs: StackInputs): Promise<Record<string, unknown>> {
  const stack = pulumi.getStack();
  const raw = pulumi.runtime.allConfig();
  const config = parseConfig(stack, raw, secretConfigKeys(raw));
  const projectDir = path.join(__dirname, "..");
  const catalogue = readCatalogue(projectDir, stack);
  const pipelines = { catalogue, sources: bundleSources(projectDir, catalogue) };
  const imageLock = inputs.imageLock ?? readImageLock(projectDir);
  const serverImage = lockedTag(imageLock, ZENML_SERVER_IMAGE, config.zenmlVersion);

  let rollback: RollbackRequest | undefined;
  if (config.rollbackSnapshot !== "") {
    const snap = parseSnapshotId(config.rollbackSnapshot)!;
    rollback = { snapshotIdentifier: config.rollbackSnapshot, fromVersion: snap.fromVersion, toVersion: snap.toVersion };
  }

  const own = await readOwnState();
  // Edits a deployed stack cannot take without losing what it holds (what would be lost, the safe way).
  const refusals = deployedChangeRefusals({
    stack,
    isProd: config.isProd,
    vpcCidr: config.vpcCidr,
    mlflowVersion: config.mlflowVersion,
    deployedFacts: own.facts,
    mlflowDeployed: own.history.parts.mlflow?.deployed,
  });
  const source = config.promotionSourceStack !== "" ? await readPromotionSource(config.promotionSourceStack) : undefined;
  // What only both stacks together show (a shared VPC range or hostname), from what the source deployed.
  if (source?.facts) for (const problem of crossStackProblems(source.facts, crossStackFacts(config))) refusals.push(`${problem} (stack ${stack}; ${source.stackName} deployed its values)`);

  // The image bytes a version ran never change under it, here or on the way from staging.
  const digestRecords = [{ stackName: stack, digests: own.imageDigests }, ...(source ? [{ stackName: source.stackName, digests: source.imageDigests }] : [])];
  const imageCheck = imageDigestCheck(stack, ZENML_SERVER_IMAGE, config.zenmlVersion, serverImage.digest, digestRecords);
  refusals.push(...imageCheck.refusals);
  const builtImages = lockedBuiltImages(config, { projectDir, imageLock, standIn: inputs.standInBuiltImages ?? underMocks() }, refusals);

  // What AWS runs now (reads, not resources); a first deploy has nothing to read.
  const live = own.history.deployedBefore ? await readLiveVersions(stack, own.liveTargets) : { versions: {}, unread: [] };
  const addonVersions = await resolveAddonVersions(config.kubernetesVersion, config.eksAddonVersions, EKS_ADDONS);
  const decision = decideParts({
    stack,
    desired: desiredVersions(config, addonVersions),
    own: own.history,
    live: live.versions,
    source: source && { stackName: source.stackName, history: source.history },
    promotionOverrideReason: config.promotionOverrideReason,
    rollback,
  });
  refusals.push(...decision.refusals);
  // One line per refusal (each names its key and the deployed or live version), then the whole report.
  refuseAll(refusals, upgradeReportText(decision.entries));
  // Recorded with the update; the support warning depends on the day, so it is only logged.
  const recorded = [...imageCheck.warnings, ...live.unread, ...decision.warnings];
  const support = eksSupportWarning(stack, config.kubernetesVersion, new Date());
  for (const warning of [...recorded, ...(support ? [support] : [])]) void pulumi.log.warn(warning);

  const env = new ZenmlEnvironment("zenml", { config, rollback, addonVersions, pipelines, serverImageTag: serverImage.tag, ...builtImages, ...changeArgs(decision.change, own.imageDigests) });
  const promotionOverride = decision.overridden.length > 0 ? config.promotionOverrideReason.trim() : null;

  return {
    serverUrl: env.serverUrl,
    // Views of what runs, for the deploy workflows and the smoke checks.
    [VERSION_VIEWS.zenml]: config.zenmlVersion,
    [VERSION_VIEWS.parts]: currentVersions(decision.history),
    [HISTORY_OUTPUT]: historyOutput(decision.history),
    promotionOverrideReason: promotionOverride,
    [STATE_OUTPUTS.crossStack]: crossStackFacts(config),
    [STATE_OUTPUTS.imageDigests]: recordDigest(own.imageDigests, config.zenmlVersion, serverImage.digest),
    mlflowUrl: env.mlflow?.url ?? null,
    mlflowAdminPassword: env.mlflow?.adminPassword ?? null,
    upgradeReport: { parts: decision.entries, warnings: recorded },
    bucketName: env.bucketName,
    registryUrl: env.registryUrl,
    registryUri: env.registryUri,
    [STATE_OUTPUTS.clusterName]: env.clusterName,
    kubeconfig: env.kubeconfig,
    databaseEndpoint: env.databaseEndpoint,
    databaseInstanceIdentifier: env.databaseInstanceIdentifier,
    [STATE_OUTPUTS.database]: env.activeDatabaseInstanceIdentifier,
    applicationLogGroup: env.applicationLogGroup,
    serverRoleArn: env.serverRoleArn,
    adminPassword: env.adminPassword,
    zenmlStackName: env.zenmlStackName,
    zenmlStackRegistrationJob: env.zenmlStackRegistrationJob,
    postUpgradeJob: env.postUpgradeJob,
    // Only in an update that upgrades ZenML: where its inventory and reports are, which Jobs made them.
    ...(env.preUpgrade ? { preUpgrade: preUpgradeOutput(env.preUpgrade, env.restoreTest, config.upgradeDrainOverrideReason) } : {}),
  };
}

/**
 * The images we build run only by a digest the lock records (the images workflow writes it): the
 * post-upgrade Job's, and MLflow's unless mlflowImage names another (pinned by digest in config).
 */
function lockedBuiltImages(
  config: PlatformConfig,
  lock: { projectDir: string; imageLock: ImageLock; standIn: boolean },
  refusals: string[],
): Pick<ZenmlEnvironmentArgs, "postUpgradeImage" | "mlflowBuiltImage"> {
  const built = (image: BuiltImage, version: string): LockedBuiltImage | undefined => {
    const r = resolveBuiltImage(lock.projectDir, lock.imageLock, image, version, config.stack, lock.standIn);
    if (!r.ok) return void refusals.push(r.problem);
    // Logged, not among the outputs' warnings: it describes this offline plan, not the stack.
    if (r.standIn) void pulumi.log.warn(standInWarning(config.stack, r.standIn));
    return { tag: r.tag, digest: r.digest, id: `${r.lockRepository}:${r.tag}@${r.digest}` };
  };
  const postUpgradeImage = built(BUILT_IMAGES["post-upgrade"], config.zenmlVersion);
  const mlflowBuiltImage = config.mlflowVersion !== "" && config.mlflowImage === "" ? built(BUILT_IMAGES.mlflow, config.mlflowVersion) : undefined;
  // A refusal (recorded above) stops the program before the environment is built.
  return { postUpgradeImage: postUpgradeImage!, mlflowBuiltImage };
}

/** Pulumi's mocks stand in for the engine: an offline plan. A real preview or deploy talks to an engine. */
function underMocks(): boolean {
  return pulumi.runtime.getMonitor()?.constructor.name === "MockMonitor";
}

/** Keys set with `pulumi config set --secret`; the SDK exposes the check at runtime only. */
function secretConfigKeys(raw: Record<string, string>): string[] {
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  return isSecret ? Object.keys(raw).filter((key) => isSecret(key)) : [];
}
