// The scheduled release watch: is there a final ZenML release newer than staging's pin that
// release-watch.yaml does not hold back? If so (with --apply), bump staging and write the PR body
// with the upgrade dossier. Run by .github/workflows/zenml-release-watch.yml.
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { parseDocument } from "yaml";
import { explainBadPin } from "../../components/version-policy";
import { readPin } from "../gitops/pin-file";
import { stackFilePath } from "../offline/stack-files";

export const HOLD_FILE = "release-watch.yaml";

export class WatchError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

export interface HoldSettings {
  /** Non-empty: open no bump PR at all (the reason is printed). */
  hold: string;
  /** Releases never proposed (known bad); a later release is still proposed. */
  skip: string[];
}

/** Reads release-watch.yaml; a missing file means no hold. Every problem is reported at once. */
export function readHold(projectDir: string): HoldSettings {
  const file = path.join(projectDir, HOLD_FILE);
  if (!fs.existsSync(file)) return { hold: "", skip: [] };
  const doc = parseDocument(fs.readFileSync(file, "utf8"));
  if (doc.errors.length > 0) throw new WatchError(`${HOLD_FILE} cannot be parsed: ${doc.errors[0].message.split("\n")[0]}`, 2);
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(raw)) if (key !== "hold" && key !== "skip") problems.push(`${HOLD_FILE}: unknown key "${key}" (allowed: hold, skip)`);
  const hold = raw.hold ?? "";
  if (typeof hold !== "string") problems.push(`${HOLD_FILE}: hold must be a reason (a string) or empty, got ${JSON.stringify(hold)}`);
  const skip = raw.skip ?? [];
  if (!Array.isArray(skip)) problems.push(`${HOLD_FILE}: skip must be a list of X.Y.Z releases, got ${JSON.stringify(skip)}`);
  else for (const v of skip) if (explainBadPin(v)) problems.push(`${HOLD_FILE}: skip entry ${JSON.stringify(v)} ${explainBadPin(v)}`);
  if (problems.length > 0) throw new WatchError(problems.join("\n"), 2);
  return { hold: (hold as string).trim(), skip: (skip as string[]).map(String) };
}

interface PypiFile { yanked?: boolean; packagetype?: string }
/** PyPI's JSON API answer for a project (only the part read here). */
export interface PypiProject { releases: Record<string, PypiFile[]> }

/** Final releases with at least one wheel that is not yanked, oldest first. */
export function finalReleases(project: PypiProject): string[] {
  return Object.entries(project.releases ?? {})
    .filter(([v, files]) => explainBadPin(v) === undefined && files.some((f) => f.packagetype === "bdist_wheel" && !f.yanked))
    .map(([v]) => v)
    .sort(semver.compare);
}

export type WatchDecision = { action: "bump"; version: string; reason: string } | { action: "none"; reason: string };

export function decide(releases: string[], stagingPin: string, settings: HoldSettings): WatchDecision {
  const newer = releases.filter((v) => semver.gt(v, stagingPin));
  const candidates = newer.filter((v) => !settings.skip.includes(v));
  if (newer.length === 0) return { action: "none", reason: `staging pins ${stagingPin}, the newest final release` };
  if (settings.hold) return { action: "none", reason: `held by ${HOLD_FILE}: ${settings.hold} (newer: ${newer.join(", ")})` };
  if (candidates.length === 0) return { action: "none", reason: `every newer release is in ${HOLD_FILE}'s skip list (${newer.join(", ")})` };
  const version = candidates.at(-1)!;
  return { action: "bump", version, reason: `ZenML ${version} is out; staging pins ${stagingPin}` };
}

/** The pull request's body: why it was opened, how to stop it, then the dossier. */
export function pullRequestBody(version: string, stagingPin: string, prodPin: string, dossierMarkdown: string, bumpMessage: string): string {
  return [
    `ZenML ${version} is out. This PR moves staging from ${stagingPin} to ${version}; prod runs ${prodPin}, so the dossier below covers ${prodPin} -> ${version}, the move prod will make after promotion.`,
    "",
    `Opened by the scheduled release watch (\`.github/workflows/zenml-release-watch.yml\`). To stop it proposing upgrades, set \`hold\` in \`${HOLD_FILE}\`; to pass over one bad release, add it to \`skip\`.`,
    "",
    dossierMarkdown.trimEnd(),
    "",
    "<details><summary>npm run bump</summary>",
    "",
    "```",
    bumpMessage,
    "```",
    "",
    "</details>",
    "",
  ].join("\n");
}

export async function fetchPypiProject(url = process.env.RELEASE_WATCH_PYPI_URL ?? "https://pypi.org/pypi/zenml/json"): Promise<PypiProject> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000), headers: { accept: "application/json" } });
  } catch (err) {
    throw new WatchError(`cannot reach ${url} (offline?): ${(err as Error).message}`, 1);
  }
  if (!response.ok) throw new WatchError(`${url} answered HTTP ${response.status}`, 1);
  return (await response.json()) as PypiProject;
}

export function pins(projectDir: string): { staging: string; prod: string } {
  return { staging: readPin(stackFilePath(projectDir, "staging")).pin.value, prod: readPin(stackFilePath(projectDir, "prod")).pin.value };
}
