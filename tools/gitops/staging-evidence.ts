// What staging did, as prod's gate and `npm run promote` ask it: the deploy workflow's runs and the
// deploy record each uploaded (through gh), and the stack files at any commit (through git).
// One source of truth for both, so promote never proposes a move the gate would refuse.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type DeployRecord, parseRecord, RECORD_FILE, recordArtifact, recordParts } from "./deploy-record";
import type { MigrationTimingRecord } from "./migration-gate";
import { timingFromGitHub } from "./migration-gate-github";
import { locatePin } from "./pin-file";

export const STAGING_WORKFLOW = "deploy-staging.yml";
export const PROD_WORKFLOW = "deploy-prod.yml";

/** One workflow run as `gh run list --json` reports it. */
export interface WorkflowRun {
  databaseId: number;
  headSha: string;
  status: string;
  conclusion: string;
  createdAt: string;
  url: string;
}

/** Where the facts come from; the CLIs read them through gh and git, tests inject them. */
export interface GateSources {
  /** Runs of a workflow on a branch, any status. */
  runs(workflow: string, branch: string): WorkflowRun[];
  /** The deploy record a run uploaded, undefined when it has none. */
  record(run: WorkflowRun, stack: string): DeployRecord | undefined;
  /** A part's pin in Pulumi.<stack>.yaml at a commit (ZenML's by default), undefined when unreadable. */
  pinAt(sha: string, stack: string, part?: string): string | undefined;
  /** The newest timing of ZenML's migration to a version on prod's data (migration-gate.ts); absent: not asked. */
  migrationTiming?(to: string): MigrationTimingRecord | undefined;
}

/** A move staging performed green: its deploy of `sha` took the part from -> to and every check passed. */
export interface GreenMove {
  from: string | null;
  to: string;
  sha: string;
}

export const newestFirst = (a: WorkflowRun, b: WorkflowRun) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.databaseId - a.databaseId);
export const short = (sha: string) => sha.slice(0, 12);
const green = (r: WorkflowRun) => r.status === "completed" && r.conclusion === "success";

/** Every move of `part` a green staging run performed, newest first (only runs of commits whose staging file pinned that `to`). */
export function greenStagingMoves(sources: GateSources, part: string): GreenMove[] {
  const moves: GreenMove[] = [];
  for (const run of sources.runs(STAGING_WORKFLOW, "staging").filter(green).sort(newestFirst)) {
    const record = sources.record(run, "staging");
    const move = record?.result === "success" ? recordParts(record)[part] : undefined;
    if (!move || move.from === move.to || sources.pinAt(run.headSha, "staging", part) !== move.to) continue;
    moves.push({ from: move.from, to: move.to, sha: record!.sha });
  }
  return moves;
}

/**
 * What prod runs of a part: the newest prod run whose record says `up` succeeded (its move's `to`,
 * or for a record from before per-part records, the pin of the commit it deployed); undefined
 * when no such record is left.
 */
export function prodDeployed(sources: GateSources, part: string): string | null | undefined {
  const runs = sources.runs(PROD_WORKFLOW, "main").filter((r) => r.status === "completed").sort(newestFirst);
  for (const run of runs) {
    const record = sources.record(run, "prod");
    if (!record?.checks.some((c) => c.name === "up" && c.outcome === "success")) continue;
    return recordParts(record)[part]?.to ?? sources.pinAt(record.sha, "prod", part) ?? null;
  }
  return undefined;
}

/** gh and git, as the workflows have them (GH_TOKEN with actions:read, full history). */
export function ghSources(repo: string | undefined, dir = process.cwd(), env: NodeJS.ProcessEnv = process.env): GateSources {
  const gh = (args: string[]) => execFileSync("gh", [...args, ...(repo ? ["--repo", repo] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
  const records = new Map<number, DeployRecord | undefined>();
  return {
    runs: (workflow, branch) =>
      JSON.parse(gh(["run", "list", "--workflow", workflow, "--branch", branch, "--limit", "100", "--json", "databaseId,headSha,status,conclusion,createdAt,url"])) as WorkflowRun[],
    record: (run, stack) => {
      if (!records.has(run.databaseId)) {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-record-"));
        try {
          gh(["run", "download", String(run.databaseId), "--name", recordArtifact(stack), "--dir", tmp]);
          records.set(run.databaseId, parseRecord(fs.readFileSync(path.join(tmp, RECORD_FILE), "utf8")));
        } catch {
          // No artifact (an older or a cancelled run): that run proves nothing.
          records.set(run.databaseId, undefined);
        } finally {
          fs.rmSync(tmp, { recursive: true, force: true });
        }
      }
      return records.get(run.databaseId);
    },
    pinAt: (sha, stack, part = "zenml") => {
      try {
        const value = locatePin(execFileSync("git", ["-C", dir, "show", `${sha}:Pulumi.${stack}.yaml`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }), `Pulumi.${stack}.yaml`, part).value;
        return value === "" ? undefined : value;
      } catch {
        return undefined;
      }
    },
    migrationTiming: (to) => timingFromGitHub(gh, to),
  };
}

/** Why the tools cannot ask GitHub, or undefined when gh and a token are there. */
export function missingTooling(env: NodeJS.ProcessEnv): string | undefined {
  const onPath = (env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && fs.existsSync(path.join(dir, "gh")));
  if (!onPath) return "the GitHub CLI `gh` is not on PATH (GitHub's runners have it; locally: https://cli.github.com)";
  if (!env.GH_TOKEN && !env.GITHUB_TOKEN) return "no GitHub token: set GH_TOKEN (in the workflow: GH_TOKEN: ${{ github.token }}, with actions: read)";
  return undefined;
}
