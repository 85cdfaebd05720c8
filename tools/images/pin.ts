// `npm run pin-images`: records in images.lock.yaml the digest each pinned ZenML version's server
// image has upstream, so both stacks pull exactly those bytes from our ECR cache.
import * as fs from "node:fs";
import { isMap, parseDocument, Scalar, YAMLMap } from "yaml";
import { IMAGE_LOCK_FILE, ZENML_SERVER_IMAGE, imageLockPath, parseImageLock } from "../../components/image-lock";
import { UserFacingError } from "../../components/errors";
import { listStacks, readStackConfig } from "../offline/stack-files";
import { PIN_KEY, writeAtomically } from "../gitops/pin-file";

export type Resolver = (repository: string, tag: string) => Promise<string>;

export interface PinOutcome {
  tag: string;
  digest: string;
  /** added: new entry; kept: already pinned (not re-resolved); verified: re-resolved and equal; moved: upstream now differs. */
  status: "added" | "kept" | "verified" | "moved";
  upstream?: string;
  /** Default: the ZenML server image. */
  repository?: string;
}

/** Every ZenML version a stack file pins: what the stacks will run next. */
export function pinnedVersions(projectDir: string): string[] {
  const versions = new Set<string>();
  for (const stack of listStacks(projectDir)) {
    const v = readStackConfig(projectDir, stack).values[PIN_KEY];
    if (v) versions.add(v);
  }
  return [...versions].sort();
}

const quoted = (value: string) => Object.assign(new Scalar(value), { type: Scalar.QUOTE_DOUBLE });

/** The lock's text with `repository: tag: digest` added; comments and other entries kept. */
export function withLockedDigest(text: string, repository: string, tag: string, digest: string): string {
  const doc = parseDocument(text);
  const root: unknown = doc.contents;
  if (!isMap(root)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  const map = doc.contents as unknown as YAMLMap;
  let tags: unknown = map.get(repository, true);
  if (!isMap(tags)) {
    tags = new YAMLMap();
    map.set(repository, tags);
  }
  const tagMap = tags as YAMLMap;
  tagMap.flow = false;
  tagMap.set(quoted(tag), quoted(digest));
  return doc.toString();
}

/**
 * Adds the digest of each version missing from the lock; a recorded digest is never rewritten.
 * With `check`, recorded ones are re-resolved too, and an upstream tag that moved is reported.
 */
export async function pinImages(projectDir: string, versions: string[], resolve: Resolver, check: boolean, repository: string = ZENML_SERVER_IMAGE): Promise<PinOutcome[]> {
  const file = imageLockPath(projectDir);
  let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const recorded = parseImageLock(text)[repository] ?? {};
  const outcomes: PinOutcome[] = [];
  for (const tag of versions) {
    const locked = recorded[tag];
    if (locked && !check) {
      outcomes.push({ tag, digest: locked, status: "kept", repository });
      continue;
    }
    const upstream = await resolve(repository, tag);
    if (locked) {
      outcomes.push(locked === upstream ? { tag, digest: locked, status: "verified", repository } : { tag, digest: locked, status: "moved", upstream, repository });
      continue;
    }
    text = withLockedDigest(text, repository, tag, upstream);
    outcomes.push({ tag, digest: upstream, status: "added", repository });
  }
  if (outcomes.some((o) => o.status === "added")) {
    parseImageLock(text); // what we write, the program must read
    writeAtomically(file, text);
  }
  return outcomes;
}

/** `<repository>:<tag>@sha256:<digest>` as the images workflow reports what it pushed. */
export function parseRecord(text: string): { repository: string; tag: string; digest: string } | undefined {
  const m = /^([a-z0-9]+(?:[._/-][a-z0-9]+)*):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})@(sha256:[0-9a-f]{64})$/.exec(text);
  return m ? { repository: m[1], tag: m[2], digest: m[3] } : undefined;
}

/**
 * Records digests reported by a build (`--record`): a new entry is added; one already recorded with
 * the same digest is kept; a different digest for a recorded tag is refused (the lock never changes).
 */
export function recordDigests(projectDir: string, records: { repository: string; tag: string; digest: string }[]): PinOutcome[] {
  const file = imageLockPath(projectDir);
  let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const lock = parseImageLock(text);
  const outcomes: PinOutcome[] = [];
  for (const r of records) {
    const locked = lock[r.repository]?.[r.tag];
    if (locked !== undefined && locked !== r.digest) throw new UserFacingError(`${IMAGE_LOCK_FILE} already pins ${r.repository}:${r.tag} to ${locked}, not ${r.digest}: a recorded digest is never rewritten (a changed image is a new tag)`);
    if (locked !== undefined) {
      outcomes.push({ tag: r.tag, digest: locked, status: "kept", repository: r.repository });
      continue;
    }
    text = withLockedDigest(text, r.repository, r.tag, r.digest);
    outcomes.push({ tag: r.tag, digest: r.digest, status: "added", repository: r.repository });
  }
  if (outcomes.some((o) => o.status === "added")) {
    parseImageLock(text);
    writeAtomically(file, text);
  }
  return outcomes;
}
