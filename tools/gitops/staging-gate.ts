// Prod's deploy gate. It runs in its own job, with no environment and no secret, before anyone
// approves the prod deployment, and the prod job `needs:` it. Four checks, each with a one-line
// reason when it refuses:
//   commit       staging's deploy workflow ran this exact commit (main only fast-forwards to
//                commits of `staging`, so the commit prod deploys is one staging deployed);
//   latest run   the newest staging run of that commit is completed and green (a red re-run after
//                a green one blocks, a run still in progress blocks);
//   upgrade path prod's move from -> to (from = what prod's last deploy record says it runs) is a
//                move a green staging run performed, or the PR set promotionOverrideReason, which
//                the gate reports as a warning annotation and the program records in prod's outputs.
//   migration time TO's migration, timed on a copy of prod's data by the migration-timing workflow,
//                passed within maxMigrationMinutes, or migrationTimeOverrideReason (migration-gate.ts).
// The program's own promotion check (staging's version history) stays the second line.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseDocument } from "yaml";
import { type DeployRecord, parseRecord, RECORD_FILE, recordArtifact } from "./deploy-record";
import { migrationCheck, migrationLimits, type MigrationTimingRecord } from "./migration-gate";
import { timingFromGitHub } from "./migration-gate-github";
import { locatePin, readPin } from "./pin-file";
import { runFromCommandLine, type CliIo } from "../cli-io";
import { annotationLine, summarize } from "./workflow-commands";

export const OVERRIDE_KEY = "zenml-platform:promotionOverrideReason";
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

/** Where the gate's facts come from; the CLI reads them through gh and git, tests inject them. */
export interface GateSources {
  /** Runs of a workflow on a branch, any status. */
  runs(workflow: string, branch: string): WorkflowRun[];
  /** The deploy record a run uploaded, undefined when it has none. */
  record(run: WorkflowRun, stack: string): DeployRecord | undefined;
  /** The version pin of Pulumi.<stack>.yaml at a commit, undefined when unreadable. */
  pinAt(sha: string, stack: string): string | undefined;
  /** The newest migration timing of prod's data for a version (tools/gitops/migration-gate.ts). */
  migrationTiming?(to: string): MigrationTimingRecord | undefined;
}

export interface GateInput {
  sha: string;
  /** Pulumi.prod.yaml's pin at that commit. */
  prodPin: string;
  overrideReason: string;
  /** What prod runs now; undefined = read it from prod's last deploy record. */
  prodFrom?: string | null;
  /** main's previous head (the push's `before`): its prod pin stands in when no prod record is left. */
  before?: string;
  /** Pulumi.prod.yaml's maxMigrationMinutes and migrationTimeOverrideReason: with them, the migration time is checked. */
  migration?: { maxMinutes: number; overrideReason: string };
}

export interface GateCheck {
  name: "commit" | "latest staging run" | "upgrade path" | "migration time";
  ok: boolean;
  detail: string;
}

export interface GateVerdict {
  ok: boolean;
  overridden: boolean;
  checks: GateCheck[];
  /** The first refused check's detail, or a one-line pass. */
  message: string;
}

/** The override reason in a stack file's text ("" when absent). */
export function overrideReason(text: string): string {
  const value = parseDocument(text).getIn(["config", OVERRIDE_KEY]);
  return typeof value === "string" ? value.trim() : "";
}

const newestFirst = (a: WorkflowRun, b: WorkflowRun) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.databaseId - a.databaseId);
const short = (sha: string) => sha.slice(0, 12);

/** What prod runs now: the `to` of the newest prod run whose record says `up` succeeded. */
export function prodDeployedVersion(sources: GateSources): string | null {
  const runs = sources.runs(PROD_WORKFLOW, "main").filter((r) => r.status === "completed").sort(newestFirst);
  for (const run of runs) {
    const record = sources.record(run, "prod");
    if (record?.checks.some((c) => c.name === "up" && c.outcome === "success")) return record.to;
  }
  return null;
}

export function evaluateGate(input: GateInput, sources: GateSources): GateVerdict {
  const checks: GateCheck[] = [];
  const staging = sources.runs(STAGING_WORKFLOW, "staging").sort(newestFirst);
  const ofCommit = staging.filter((r) => r.headSha === input.sha);

  checks.push(
    ofCommit.length > 0
      ? { name: "commit", ok: true, detail: `staging's deploy workflow ran ${short(input.sha)} (${ofCommit.length} run(s))` }
      : { name: "commit", ok: false, detail: `staging never deployed commit ${short(input.sha)}: push it to staging and let deploy-staging pass first (main only takes commits staging deployed)` },
  );

  const latest = ofCommit[0];
  if (latest) {
    const record = latest.status === "completed" && latest.conclusion === "success" ? sources.record(latest, "staging") : undefined;
    if (latest.status !== "completed") {
      checks.push({ name: "latest staging run", ok: false, detail: `the latest staging run of ${short(input.sha)} is still ${latest.status} (${latest.url}); wait for it to finish green` });
    } else if (latest.conclusion !== "success") {
      checks.push({ name: "latest staging run", ok: false, detail: `the latest staging run of ${short(input.sha)} ended ${latest.conclusion} (${latest.url}); re-run it green before promoting` });
    } else if (!record || record.sha !== input.sha || record.result !== "success") {
      checks.push({ name: "latest staging run", ok: false, detail: `the latest staging run of ${short(input.sha)} (${latest.url}) has no green deploy record for this commit` });
    } else {
      checks.push({ name: "latest staging run", ok: true, detail: `green: ${record.checks.map((c) => c.name).join(", ")} (${latest.url})` });
    }
  }

  const recorded = input.prodFrom === undefined ? prodDeployedVersion(sources) : input.prodFrom;
  // Records expire (90 days): then prod runs what main pinned before this push, if it was deployed.
  const from = recorded ?? (input.prodFrom === undefined && input.before && !/^0+$/.test(input.before) ? (sources.pinAt(input.before, "prod") ?? null) : null);
  const to = input.prodPin;
  if (from === to) {
    checks.push({ name: "upgrade path", ok: true, detail: `prod stays at ${to}: no upgrade` });
  } else {
    // Only runs of commits whose staging file pinned `to` can have performed the move.
    const candidates = staging.filter((r) => r.status === "completed" && r.conclusion === "success" && sources.pinAt(r.headSha, "staging") === to);
    const records = candidates.map((r) => sources.record(r, "staging")).filter((r): r is DeployRecord => r?.result === "success" && r.to === to);
    const match = records.find((r) => r.from === from);
    const move = `${from ?? "(first deploy)"} -> ${to}`;
    if (match || (from === null && records.length > 0)) {
      checks.push({ name: "upgrade path", ok: true, detail: `staging performed ${move} green at ${short((match ?? records[0]).sha)}` });
    } else {
      const seen = [...new Set(records.filter((r) => r.from !== r.to).map((r) => `${r.from ?? "(first deploy)"} -> ${r.to}`))].join(", ") || `no green staging deploy reached ${to}`;
      const why = `prod would move ${move}, which staging never performed green (staging did: ${seen})`;
      if (input.overrideReason !== "") checks.push({ name: "upgrade path", ok: true, detail: `OVERRIDDEN: ${why}. ${OVERRIDE_KEY}: ${input.overrideReason}` });
      else checks.push({ name: "upgrade path", ok: false, detail: `${why}; promote the step staging performed, or set ${OVERRIDE_KEY} in Pulumi.prod.yaml` });
    }
  }

  if (input.migration && sources.migrationTiming) checks.push(migrationCheck({ from, to, record: from !== null && from !== to ? sources.migrationTiming(to) : undefined, ...input.migration }));

  const refused = checks.find((c) => !c.ok);
  const overridden = checks.some((c) => c.detail.startsWith("OVERRIDDEN"));
  return {
    ok: !refused,
    overridden,
    checks,
    message: refused ? refused.detail : `prod may deploy ${short(input.sha)} (ZenML ${from ?? "(first deploy)"} -> ${to}): staging deployed and smoke-tested it green`,
  };
}

export function verdictSummary(input: GateInput, v: GateVerdict): string {
  return [
    `### Staging gate: ${v.ok ? (v.overridden ? "passed (overridden)" : "passed") : "REFUSED"}`,
    "",
    `Commit \`${input.sha}\`, prod pin ${input.prodPin}.`,
    "",
    "| check | result | detail |",
    "| --- | --- | --- |",
    ...v.checks.map((c) => `| ${c.name} | ${c.ok ? "pass" : "**FAIL**"} | ${c.detail.replace(/\|/g, "\\|")} |`),
    "",
  ].join("\n");
}

export class GateUsageError extends Error {}

/** gh and git, as the prod workflow's gate job has them (GH_TOKEN with actions:read, full history). */
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
    pinAt: (sha, stack) => {
      try {
        return locatePin(execFileSync("git", ["-C", dir, "show", `${sha}:Pulumi.${stack}.yaml`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }), `Pulumi.${stack}.yaml`).value;
      } catch {
        return undefined;
      }
    },
    migrationTiming: (to) => timingFromGitHub(gh, to),
  };
}

/** Why the gate cannot ask GitHub, or undefined when gh and a token are there. */
export function missingTooling(env: NodeJS.ProcessEnv): string | undefined {
  const onPath = (env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && fs.existsSync(path.join(dir, "gh")));
  if (!onPath) return "the GitHub CLI `gh` is not on PATH (GitHub's runners have it; locally: https://cli.github.com)";
  if (!env.GH_TOKEN && !env.GITHUB_TOKEN) return "no GitHub token: set GH_TOKEN (in the workflow: GH_TOKEN: ${{ github.token }}, with actions: read)";
  return undefined;
}

export const HELP = `usage: npm run --silent staging-gate -- --sha <commit> [--dir <checkout>] [--prod-file <dir>/Pulumi.prod.yaml] [--repo owner/name] [--prod-from X.Y.Z|none] [--before <main's previous head>]
Refuses prod's deploy unless staging's deploy workflow ran <commit>, its latest run of it is green,
and prod's from -> to is a move staging performed green (or ${OVERRIDE_KEY} is set), and its migration,
timed on prod's data by the migration-timing workflow, took at most maxMigrationMinutes (or migrationTimeOverrideReason is set).
Needs gh and GH_TOKEN (actions: read) and the git history. Exit 0 pass, 1 refused, 2 bad usage, missing tooling or GitHub unreachable.`;

/**
 * The whole CLI, in-process (the tests) as from the command line: exit 0 pass, 1 refused, 2 when
 * it could not look (bad usage, no gh or token, GitHub's own error as its last line).
 */
export async function main(argv: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  try {
    return gate(argv, io, env, cwd);
  } catch (err) {
    const e = err as Error & { code?: string; stderr?: string };
    // gh's own error (bad token, unknown repo) is its last stderr line.
    const detail = e.stderr ? String(e.stderr).trim().split("\n").pop() : e.message.split("\n")[0];
    io.stderr(`staging-gate: ${detail}\n`);
    // Never 1: a gate that could not look is not a refusal of the commit.
    return 2;
  }
}

function gate(argv: string[], io: CliIo, env: NodeJS.ProcessEnv, cwd: string): number {
  const { values } = parseArgs({
    args: argv,
    options: { sha: { type: "string" }, dir: { type: "string", default: cwd }, "prod-file": { type: "string" }, repo: { type: "string" }, "prod-from": { type: "string" }, before: { type: "string" }, help: { type: "boolean" } },
    strict: true,
  });
  if (values.help) {
    io.stdout(HELP + "\n");
    return 0;
  }
  if (!values.sha || !/^[0-9a-f]{40}$/.test(values.sha)) throw new GateUsageError(`--sha must be the full 40-character commit being deployed (${HELP.split("\n")[0]})`);
  const missing = missingTooling(env);
  if (missing) throw new GateUsageError(missing);
  const prod = readPin(path.resolve(cwd, values["prod-file"] ?? path.join(values.dir!, "Pulumi.prod.yaml")));
  const prodFrom = values["prod-from"] === undefined ? undefined : values["prod-from"] === "none" ? null : values["prod-from"];
  const input: GateInput = { sha: values.sha, prodPin: prod.pin.value, overrideReason: overrideReason(prod.text), prodFrom, before: values.before, migration: migrationLimits(prod.text) };
  const verdict = evaluateGate(input, ghSources(values.repo, path.resolve(cwd, values.dir!), env));
  summarize(verdictSummary(input, verdict), env);
  if (!verdict.ok) {
    io.stdout(annotationLine("error", `staging gate: ${verdict.checks.find((c) => !c.ok)!.name}`, verdict.message) + "\n");
    io.stderr(`staging-gate: ${verdict.message}\n`);
    return 1;
  }
  if (verdict.overridden) io.stdout(annotationLine("warning", "staging gate overridden", verdict.checks.find((c) => c.detail.startsWith("OVERRIDDEN"))!.detail) + "\n");
  io.stdout(`staging-gate: ${verdict.message}\n`);
  return 0;
}

if (require.main === module) runFromCommandLine(main);
