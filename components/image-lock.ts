// The digest of every upstream image tag a stack runs, committed in images.lock.yaml. Both stacks read
// the same file, so the commit promoted to prod carries the bytes staging ran; a recorded digest
// never changes, so an upstream tag that moves is refused instead of pulled.
import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isScalar, parseDocument } from "yaml";
import { UserFacingError } from "./errors";

/** The upstream image the server, its migration hook and the registration and post-upgrade Jobs run. */
export const ZENML_SERVER_IMAGE = "zenmldocker/zenml-server";
export const IMAGE_LOCK_FILE = "images.lock.yaml";
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** repository -> tag -> digest */
export type ImageLock = Record<string, Record<string, string>>;

const EMPTY_LOCK = `"${ZENML_SERVER_IMAGE}: {}"`;

/** Parses the lock's text; every problem is listed at once, each naming the repository and tag. */
export function parseImageLock(text: string, fileName = IMAGE_LOCK_FILE): ImageLock {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new UserFacingError(`${fileName} is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  const shape = `${fileName} must map each image repository to "<tag>": "sha256:<64 hex digits>" entries (an empty one is ${EMPTY_LOCK})`;
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) throw new UserFacingError(shape);
  const problems: string[] = [];
  const lock: ImageLock = {};
  for (const repo of doc.contents.items) {
    if (!isScalar(repo.key) || typeof repo.key.value !== "string") throw new UserFacingError(shape);
    const repository = repo.key.value;
    lock[repository] = {};
    if (repo.value === null || (isScalar(repo.value) && repo.value.value === null)) continue;
    if (!isMap(repo.value)) throw new UserFacingError(shape);
    for (const entry of repo.value.items) {
      const key = isScalar(entry.key) ? entry.key : undefined;
      // An unquoted 1.10 is the number 1.1 to YAML: a tag must stay the text it was written as.
      if (!key || typeof key.value !== "string") {
        problems.push(`${repository}: tag ${String(key?.source ?? key?.value ?? "?").slice(0, 80)} must be a quoted string`);
        continue;
      }
      const tag = key.value;
      const digest = isScalar(entry.value) ? entry.value.value : undefined;
      if (typeof digest === "string" && DIGEST_PATTERN.test(digest)) lock[repository][tag] = digest;
      else problems.push(`${repository}:${tag} is "${String(digest).slice(0, 80)}", not "sha256:<64 lowercase hex digits>"`);
    }
  }
  if (problems.length > 0) throw new UserFacingError(`Invalid ${fileName}:\n${problems.map((p) => `  - ${p}`).join("\n")}\nRewrite an entry with \`npm run pin-images -- --version <tag>\`.`);
  return lock;
}

export function imageLockPath(projectDir: string): string {
  return path.join(projectDir, IMAGE_LOCK_FILE);
}

export function readImageLock(projectDir: string): ImageLock {
  let text: string;
  try {
    text = fs.readFileSync(imageLockPath(projectDir), "utf8");
  } catch {
    throw new UserFacingError(`${IMAGE_LOCK_FILE} is missing from the project (an empty one is ${EMPTY_LOCK})`);
  }
  return parseImageLock(text);
}

/** The tag the chart and Jobs render after the repository: `<tag>@<digest>` when the lock has one. */
export function lockedTag(lock: ImageLock, repository: string, tag: string): { tag: string; digest?: string } {
  const digest = lock[repository]?.[tag];
  return digest ? { tag: `${tag}@${digest}`, digest } : { tag };
}

export interface DigestRecord {
  /** The stack whose deploys recorded these digests. */
  stackName: string;
  /** version -> digest it ran (the serverImageDigests output). */
  digests: Record<string, string>;
}

/**
 * Refusals for a server image digest that differs from one already deployed for the same tag, by
 * this stack or by its promotion source; a missing digest is a warning until the lock has one.
 */
export function imageDigestCheck(stack: string, repository: string, version: string, digest: string | undefined, records: DigestRecord[]): { refusals: string[]; warnings: string[] } {
  const refusals: string[] = [];
  for (const { stackName, digests } of records) {
    const deployed = digests[version];
    if (deployed === undefined || deployed === digest) continue;
    const who = stackName === stack ? `stack ${stack} already ran` : `stack ${stack} is promoted from ${stackName}, which ran`;
    refusals.push(
      digest === undefined
        ? `${IMAGE_LOCK_FILE} has no digest for ${repository}:${version}, but ${who} ${deployed} for that tag: restore the entry (an image pinned once is never unpinned)`
        : `${IMAGE_LOCK_FILE} pins ${repository}:${version} to ${digest}, but ${who} ${deployed} for that tag: an upstream tag that moved is not the image that was tested; restore ${deployed}`,
    );
  }
  const warnings = digest === undefined && refusals.length === 0 ? [`${repository}:${version} is not pinned by digest in ${IMAGE_LOCK_FILE} (stack ${stack}): pods pull whatever the tag points to; run \`npm run pin-images -- --version ${version}\` where the registry is reachable and commit the file`] : [];
  return { refusals, warnings };
}

/** The digests a stack has run, with this deploy's added (a version's first digest is kept). */
export function recordDigest(digests: Record<string, string>, version: string, digest: string | undefined): Record<string, string> {
  return digest === undefined || digests[version] !== undefined ? digests : { ...digests, [version]: digest };
}
