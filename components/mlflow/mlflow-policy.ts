// Pure rules for the optional MLflow tracking server's image. Its version pin follows the registry's
// rules like every part (PARTS.mlflow in parts.ts: never down, one part per update, staging first,
// paused while off, snapshot naming); this adds the admin user and what an image reference must be. No Pulumi.

/** The basic-auth admin the program creates; pure, so the smoke CLI can name it without Pulumi. */
export const MLFLOW_ADMIN_USER = "admin";

/** A digest-pinned image reference whose tag names the MLflow version it carries. */
export const MLFLOW_IMAGE_PATTERN = /^(?<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+):(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})@sha256:[0-9a-f]{64}$/;

/** Why an image reference cannot run this MLflow version, or undefined when it can. */
export function explainBadMlflowImage(image: string, mlflowVersion: string): string | undefined {
  const m = MLFLOW_IMAGE_PATTERN.exec(image);
  if (!m) {
    if (!/@sha256:[0-9a-f]{64}$/.test(image)) return `"${image}" is not pinned by digest (add @sha256:<64 hex digits> of the pushed image)`;
    return `"${image}" is not "<registry>/<repository>:<tag>@sha256:<digest>"`;
  }
  const tag = m.groups!.tag;
  if (tag !== mlflowVersion && tag !== `v${mlflowVersion}`) return `"${image}" is tagged "${tag}", but mlflowVersion is "${mlflowVersion}": the image must carry exactly that release`;
  return undefined;
}
