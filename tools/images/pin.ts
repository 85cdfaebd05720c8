// `npm run pin-images`: records in images.lock.yaml the digest each pinned ZenML version's server
// image has upstream, so both stacks pull exactly those bytes from our ECR cache.
import * as fs from "node:fs";
import { isMap, parseDocument, Scalar, YAMLMap } from "yaml";
import { ZENML_SERVER_IMAGE, imageLockPath, parseImageLock } from "../../components/image-lock";
import { listStacks, readStackConfig } from "../offline/stack-files";
import { PIN_KEY, writeAtomically } from "../gitops/pin-file";

export type Resolver = (repository: string, tag: string) => Promise<string>;

export interface PinOutcome {
  tag: string;
  digest: string;
  /** added: new entry; kept: already pinned (not re-resolved); verified: re-resolved and equal; moved: upstream now differs. */
  status: "added" | "kept" | "verified" | "moved";
  upstream?: string;
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
export async function pinImages(projectDir: string, versions: string[], resolve: Resolver, check: boolean): Promise<PinOutcome[]> {
  const file = imageLockPath(projectDir);
  let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const recorded = parseImageLock(text)[ZENML_SERVER_IMAGE] ?? {};
  const outcomes: PinOutcome[] = [];
  for (const tag of versions) {
    const locked = recorded[tag];
    if (locked && !check) {
      outcomes.push({ tag, digest: locked, status: "kept" });
      continue;
    }
    const upstream = await resolve(ZENML_SERVER_IMAGE, tag);
    if (locked) {
      outcomes.push(locked === upstream ? { tag, digest: locked, status: "verified" } : { tag, digest: locked, status: "moved", upstream });
      continue;
    }
    text = withLockedDigest(text, ZENML_SERVER_IMAGE, tag, upstream);
    outcomes.push({ tag, digest: upstream, status: "added" });
  }
  if (outcomes.some((o) => o.status === "added")) {
    parseImageLock(text); // what we write, the program must read
    writeAtomically(file, text);
  }
  return outcomes;
}
