// Prod's deploy gate. It runs in its own job, with no environment and no secret, before anyone
// approves the prod deployment, and the prod job `needs:` it. Four checks (a ZenML upgrade also waits
// for the soak and the window: components/prod-window.ts), each with a one-line reason when it refuses:
//   commit       staging's deploy workflow ran this exact commit (main only fast-forwards to
//                commits of `staging`, so the commit prod deploys is one staging deployed);
//   latest run   the newest staging run of that commit is completed and green (a red re-run after
//                a green one blocks, a run still in progress blocks);
//   upgrade path for every part prod's file pins (ZenML, Kubernetes, MySQL, MLflow, pinned add-ons):
//                prod's move from -> to (from = what prod's last deploy record says it runs) is a
//                move a green staging run performed, or the PR set promotionOverrideReason, which
//                the gate reports as a warning annotation and the program records in prod's outputs.
//   migration time ZenML's TO migration, timed on a copy of prod's data by the migration-timing workflow,
//                passed within maxMigrationMinutes, or migrationTimeOverrideReason (migration-gate.ts).
// The program's own promotion check (staging's version history) stays the second line.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseDocument } from "yaml";
import { PARTS } from "../../components/parts";
import type { DeployRecord } from "./deploy-record";
import { migrationCheck, migrationLimits } from "./migration-gate";
import { pinnedVersions, readPin } from "./pin-file";
import { soakOf, timingChecks, type TimingSettings } from "../../components/prod-window";
import { timingFromStackFile } from "./prod-timing";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { annotationLine, summarize } from "./workflow-commands";
import {
  type GateSources,
  STAGING_WORKFLOW,
  ghSources,
  greenStagingMoves,
  missingTooling,
  newestFirst,
  prodDeployed,
  short,
} from "./staging-evidence";

export {
  PROD_WORKFLOW,
  STAGING_WORKFLOW,
  ghSources,
  missingTooling,
  type GateSources,
  type WorkflowRun,
} from "./staging-evidence";
export const OVERRIDE_KEY = "zenml-platform:promotionOverrideReason";

export interface GateInput {
  sha: string;
  /** Pulumi.prod.yaml's ZenML pin at that commit. */
  prodPin: string;
  /** Every part's pin in Pulumi.prod.yaml at that commit; default ZenML's alone. */
  prodPins?: Record<string, string>;
  overrideReason: string;
  /** What prod runs of ZenML now; undefined = read it from prod's last deploy record. */
  prodFrom?: string | null;
  /** main's previous head (the push's `before`): its prod pins stand in when no prod record is left. */
  before?: string;
  /** Prod's soak, window and override (components/prod-window.ts) and when to judge them; absent: not checked. */
  timing?: TimingSettings & { now: Date };
  /** Pulumi.prod.yaml's maxMigrationMinutes and migrationTimeOverrideReason; absent: the migration time is not checked. */
  migration?: { maxMinutes: number; overrideReason: string };
}

export interface GateCheck {
  name: "commit" | "latest staging run" | "upgrade path" | "migration time" | "soak" | "upgrade window";
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

const label = (part: string) => PARTS[part]?.label ?? part;
const moveText = (from: string | null, to: string) => `${from ?? "(first deploy)"} -> ${to}`;

/** What prod runs of a part now: its records, else main's previous head (records expire after 90 days). */
function prodFrom(input: GateInput, sources: GateSources, part: string): string | null {
  if (part === "zenml" && input.prodFrom !== undefined) return input.prodFrom;
  const recorded = prodDeployed(sources, part);
  if (recorded !== undefined) return recorded;
  return input.before && !/^0+$/.test(input.before) ? (sources.pinAt(input.before, "prod", part) ?? null) : null;
}

/** One part's upgrade path: prod's from -> to is a move a green staging run performed. */
function upgradePath(input: GateInput, sources: GateSources, part: string, from: string | null, to: string): GateCheck {
  const green = greenStagingMoves(sources, part).filter((m) => m.to === to);
  const match = green.find((m) => m.from === from) ?? (from === null ? green[0] : undefined);
  const move = `${label(part)} ${moveText(from, to)}`;
  if (match)
    return { name: "upgrade path", ok: true, detail: `staging performed ${move} green at ${short(match.sha)}` };
  const seen =
    [...new Set(green.map((m) => moveText(m.from, m.to)))].join(", ") || `no green staging deploy reached ${to}`;
  const why = `prod would move ${move}, which staging never performed green (staging did: ${seen})`;
  if (input.overrideReason !== "")
    return { name: "upgrade path", ok: true, detail: `OVERRIDDEN: ${why}. ${OVERRIDE_KEY}: ${input.overrideReason}` };
  return {
    name: "upgrade path",
    ok: false,
    detail: `${why}; promote the step staging performed (npm run promote -- --part ${part}), or set ${OVERRIDE_KEY} in Pulumi.prod.yaml`,
  };
}

export function evaluateGate(input: GateInput, sources: GateSources): GateVerdict {
  const checks: GateCheck[] = [];
  const staging = sources.runs(STAGING_WORKFLOW, "staging").sort(newestFirst);
  const ofCommit = staging.filter((r) => r.headSha === input.sha);

  checks.push(
    ofCommit.length > 0
      ? {
          name: "commit",
          ok: true,
          detail: `staging's deploy workflow ran ${short(input.sha)} (${ofCommit.length} run(s))`,
        }
      : {
          name: "commit",
          ok: false,
          detail: `staging never deployed commit ${short(input.sha)}: push it to staging and let deploy-staging pass first (main only takes commits staging deployed)`,
        },
  );

  const latest = ofCommit[0];
  if (latest) {
    const record: DeployRecord | undefined =
      latest.status === "completed" && latest.conclusion === "success" ? sources.record(latest, "staging") : undefined;
    if (latest.status !== "completed") {
      checks.push({
        name: "latest staging run",
        ok: false,
        detail: `the latest staging run of ${short(input.sha)} is still ${latest.status} (${latest.url}); wait for it to finish green`,
      });
    } else if (latest.conclusion !== "success") {
      checks.push({
        name: "latest staging run",
        ok: false,
        detail: `the latest staging run of ${short(input.sha)} ended ${latest.conclusion} (${latest.url}); re-run it green before promoting`,
      });
    } else if (!record || record.sha !== input.sha || record.result !== "success") {
      checks.push({
        name: "latest staging run",
        ok: false,
        detail: `the latest staging run of ${short(input.sha)} (${latest.url}) has no green deploy record for this commit`,
      });
    } else {
      checks.push({
        name: "latest staging run",
        ok: true,
        detail: `green: ${record.checks.map((c) => c.name).join(", ")} (${latest.url})`,
      });
    }
  }

  // Every part prod's file pins: each move must be one staging performed green.
  const pins = input.prodPins ?? { zenml: input.prodPin };
  const moving: string[] = [];
  for (const [part, to] of Object.entries(pins)) {
    const from = prodFrom(input, sources, part);
    if (from === to) continue;
    moving.push(`${label(part)} ${moveText(from, to)}`);
    checks.push(upgradePath(input, sources, part, from, to));
  }
  if (moving.length === 0)
    checks.push({
      name: "upgrade path",
      ok: true,
      detail: `prod stays at ${Object.entries(pins)
        .map(([p, v]) => `${label(p)} ${v}`)
        .join(", ")}: no upgrade`,
    });

  const zenmlFrom = pins.zenml ? prodFrom(input, sources, "zenml") : undefined;
  // ZenML's migration, timed on prod's data, must fit prod's limit.
  if (input.migration && sources.migrationTiming && zenmlFrom !== undefined) {
    const to = pins.zenml;
    checks.push(
      migrationCheck({
        from: zenmlFrom,
        to,
        record: zenmlFrom !== null && zenmlFrom !== to ? sources.migrationTiming(to) : undefined,
        ...input.migration,
      }),
    );
  }
  // The users test ZenML on staging: its move waits for the soak and the window.
  const t = input.timing;
  if (t && zenmlFrom !== undefined) {
    const to = pins.zenml;
    checks.push(
      ...timingChecks(zenmlFrom, to, t.now, t, () =>
        soakOf(
          to,
          staging,
          (sha) => sources.pinAt(sha, "staging"),
          (run) => sources.record(run, "staging"),
          t.now,
        ),
      ),
    );
  }
  const refused = checks.find((c) => !c.ok);
  const overridden = checks.some((c) => c.detail.startsWith("OVERRIDDEN"));
  return {
    ok: !refused,
    overridden,
    checks,
    message: refused
      ? refused.detail
      : `prod may deploy ${short(input.sha)} (${moving.join("; ") || "no version moves"}): staging deployed and smoke-tested it green`,
  };
}

export function verdictSummary(input: GateInput, v: GateVerdict): string {
  return [
    `### Staging gate: ${v.ok ? (v.overridden ? "passed (overridden)" : "passed") : "REFUSED"}`,
    "",
    `Commit \`${input.sha}\`, prod pins ${Object.entries(input.prodPins ?? { zenml: input.prodPin })
      .map(([p, v]) => `${p} ${v}`)
      .join(", ")}.`,
    "",
    "| check | result | detail |",
    "| --- | --- | --- |",
    ...v.checks.map((c) => `| ${c.name} | ${c.ok ? "pass" : "**FAIL**"} | ${c.detail.replace(/\|/g, "\\|")} |`),
    "",
  ].join("\n");
}

export const HELP = `usage: npm run --silent staging-gate -- --sha <commit> [--dir <checkout>] [--prod-file <dir>/Pulumi.prod.yaml] [--repo owner/name] [--prod-from X.Y.Z|none] [--before <main's previous head>]
Refuses prod's deploy unless staging's deploy workflow ran <commit>, its latest run of it is green,
and prod's from -> to is a move staging performed green (or ${OVERRIDE_KEY} is set). A ZenML upgrade also waits until
staging has run it promotionSoakHours and starts inside prod's upgradeWindow (or upgradeTimingOverrideReason names that version),
and its migration, timed on prod's data by the migration-timing workflow, took at most maxMigrationMinutes (or migrationTimeOverrideReason is set).
Needs gh and GH_TOKEN (actions: read) and the git history. Exit 0 pass, 1 refused, 2 bad usage, missing tooling or GitHub unreachable.`;

const TOOL: ToolSpec = { name: "staging-gate", usage: HELP };

/**
 * Exit 0 pass, 1 refused, 2 when it could not look (bad usage, no gh or token, a stack file it
 * cannot read, GitHub's own error as its last line). `cwd` stands in for the working directory in tests.
 */
export async function main(argv: string[], io: CliIo, env: CliEnv, cwd = process.cwd()): Promise<number> {
  return runTool(TOOL, io, () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        sha: { type: "string" },
        dir: { type: "string", default: cwd },
        "prod-file": { type: "string" },
        repo: { type: "string" },
        "prod-from": { type: "string" },
        before: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    if (!values.sha || !/^[0-9a-f]{40}$/.test(values.sha))
      throw new UsageError("--sha must be the full 40-character commit being deployed");
    try {
      return gate({ ...values, sha: values.sha }, io, env, cwd);
    } catch (err) {
      const e = err as Error & { stderr?: string };
      // gh's own error (bad token, unknown repo) is its last stderr line.
      const detail = e.stderr ? String(e.stderr).trim().split("\n").pop() : e.message.split("\n")[0];
      io.stderr(`staging-gate: ${detail}\n`);
      // Never 1: a gate that could not look is not a refusal of the commit.
      return 2;
    }
  });
}

interface GateArgs {
  sha: string;
  dir: string;
  "prod-file"?: string;
  repo?: string;
  "prod-from"?: string;
  before?: string;
}

function gate(values: GateArgs, io: CliIo, env: CliEnv, cwd: string): number {
  const missing = missingTooling(env);
  if (missing) throw new Error(missing);
  const prodFile = path.resolve(cwd, values["prod-file"] ?? path.join(values.dir!, "Pulumi.prod.yaml"));
  const prod = readPin(prodFile);
  const prodFromFlag =
    values["prod-from"] === undefined ? undefined : values["prod-from"] === "none" ? null : values["prod-from"];
  const input: GateInput = {
    sha: values.sha,
    prodPin: prod.pin.value,
    prodPins: pinnedVersions(prod.text, path.basename(prodFile)),
    overrideReason: overrideReason(prod.text),
    prodFrom: prodFromFlag,
    before: values.before,
    timing: { ...timingFromStackFile(prod.text), now: new Date() },
    migration: migrationLimits(prod.text),
  };
  const verdict = evaluateGate(input, ghSources(values.repo, path.resolve(cwd, values.dir!), env));
  summarize(verdictSummary(input, verdict), env);
  if (!verdict.ok) {
    io.stdout(
      annotationLine("error", `staging gate: ${verdict.checks.find((c) => !c.ok)!.name}`, verdict.message) + "\n",
    );
    io.stderr(`staging-gate: ${verdict.message}\n`);
    return 1;
  }
  for (const c of verdict.checks.filter((x) => x.detail.startsWith("OVERRIDDEN")))
    io.stdout(annotationLine("warning", "staging gate overridden", c.detail) + "\n");
  io.stdout(`staging-gate: ${verdict.message}\n`);
  return 0;
}
