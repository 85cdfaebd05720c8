// The deploy record: what one deploy workflow run did to one stack (commit, version from -> to,
// the result of each check). The staging deploy uploads it as an artifact; prod's gate reads it.
//   npm run --silent deploy-record -- --stack staging --sha <commit> --from <X.Y.Z|none>
//     --check up=success --check smoke-server=failure ... [--to X.Y.Z] [--out deploy-record.json]
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PinFileError, readPin } from "./pin-file";
import { preUpgradeFailures, preUpgradeSummary, readPreUpgrade, type PreUpgradeRecord } from "./pre-upgrade-record";
import { annotate, summarize } from "./workflow-commands";

export const RECORD_KIND = "zenml-platform/deploy-record";
/** The artifact name a deploy of <stack> uploads its record under. */
export const recordArtifact = (stack: string) => `deploy-record-${stack}`;
export const RECORD_FILE = "deploy-record.json";

/** A step's outcome as GitHub reports it (steps.<id>.outcome). */
export type Outcome = "success" | "failure" | "cancelled" | "skipped";
const OUTCOMES: readonly Outcome[] = ["success", "failure", "cancelled", "skipped"];

export interface DeployRecord {
  kind: typeof RECORD_KIND;
  stack: string;
  sha: string;
  /** The version the stack ran before this deploy; null on its first deploy. */
  from: string | null;
  to: string;
  /** success only when every check succeeded. */
  result: "success" | "failure";
  checks: { name: string; outcome: Outcome }[];
  runUrl?: string;
  /** A ZenML upgrade's inventory, drain and restore-test (pre-upgrade-record.ts). */
  preUpgrade?: PreUpgradeRecord;
}

export class UsageError extends Error {}

export function buildRecord(input: { stack: string; sha: string; from: string; to: string; checks: string[]; runUrl?: string }): DeployRecord {
  if (!/^[0-9a-f]{40}$/.test(input.sha)) throw new UsageError(`--sha must be a full 40-character commit id, got "${input.sha}"`);
  if (input.checks.length === 0) throw new UsageError("at least one --check name=outcome is needed");
  const checks = input.checks.map((c) => {
    const [name, outcome] = c.split("=");
    if (!name || !OUTCOMES.includes(outcome as Outcome)) throw new UsageError(`--check "${c}": expected name=${OUTCOMES.join("|")}`);
    return { name, outcome: outcome as Outcome };
  });
  return {
    kind: RECORD_KIND,
    stack: input.stack,
    sha: input.sha,
    from: input.from === "none" || input.from === "" ? null : input.from,
    to: input.to,
    result: checks.every((c) => c.outcome === "success") ? "success" : "failure",
    checks,
    ...(input.runUrl ? { runUrl: input.runUrl } : {}),
  };
}

/** Parses a record read back from an artifact; undefined when it is not one. */
export function parseRecord(text: string): DeployRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<DeployRecord>;
    if (r.kind !== RECORD_KIND || typeof r.sha !== "string" || typeof r.to !== "string" || !Array.isArray(r.checks)) return undefined;
    return r as DeployRecord;
  } catch {
    return undefined;
  }
}

/**
 * The failed entries of a check's JSON report, as "name: detail" lines. Reads the shapes the
 * project's reports share: a list under `steps`, `checks` or `entries` whose items have a name and
 * a status (pass/fail...) or an ok flag. Unreadable or missing reports give nothing.
 */
export function failedEntries(reportText: string | undefined): string[] {
  if (!reportText) return [];
  let report: unknown;
  try {
    report = JSON.parse(reportText);
  } catch {
    return [];
  }
  if (report === null || typeof report !== "object") return [];
  const lists = ["steps", "checks", "entries"].map((k) => (report as Record<string, unknown>)[k]).filter(Array.isArray) as unknown[][];
  return lists.flat().flatMap((item) => {
    if (item === null || typeof item !== "object") return [];
    const e = item as { name?: unknown; status?: unknown; ok?: unknown; detail?: unknown };
    const failed = e.ok === false || (typeof e.status === "string" && /^(fail|failed|failure|error|red)$/i.test(e.status));
    return failed ? [`${String(e.name ?? "?")}: ${String(e.detail ?? e.status ?? "failed").split("\n")[0]}`] : [];
  });
}

export function recordSummary(r: DeployRecord, details: Record<string, string[]> = {}): string {
  const failed = r.checks.filter((c) => c.outcome !== "success");
  return [
    `### Deploy record: ${r.stack} ${r.result === "success" ? "green" : "RED"}`,
    "",
    `Commit \`${r.sha}\`, ZenML ${r.from ?? "(first deploy)"} -> ${r.to}.`,
    "",
    "| check | outcome |",
    "| --- | --- |",
    ...r.checks.map((c) => `| ${c.name} | ${c.outcome === "success" ? "success" : `**${c.outcome}**`} |`),
    "",
    failed.length > 0 ? `Failed: ${failed.map((c) => c.name).join(", ")}.` : "Every check passed.",
    "",
    ...failed.flatMap((c) => (details[c.name]?.length ? [`**${c.name}**:`, "", ...details[c.name].map((d) => `- ${d}`), ""] : [])),
  ].join("\n");
}

const HELP = `usage: npm run --silent deploy-record -- --stack <stack> --sha <commit> --from <X.Y.Z|none> --check <name>=<outcome>... [--report <check>=<file.json>]... [--pre-upgrade <folder>] [--to X.Y.Z] [--out ${RECORD_FILE}] [--dir .]
Writes the deploy record (JSON) and the job summary; an error annotation per failed check; exit 1 when any failed, 2 on bad usage.`;

function main(argv: string[]): number {
  // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      sha: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      check: { type: "string", multiple: true },
      report: { type: "string", multiple: true },
      "pre-upgrade": { type: "string" },
      out: { type: "string", default: RECORD_FILE },
      dir: { type: "string", default: process.cwd() },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  if (!values.stack || !values.sha || values.from === undefined) throw new UsageError(HELP.split("\n")[0]);
  const to = values.to ?? readPin(path.join(values.dir!, `Pulumi.${values.stack}.yaml`)).pin.value;
  const runUrl = process.env.GITHUB_SERVER_URL && process.env.GITHUB_REPOSITORY && process.env.GITHUB_RUN_ID ? `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}` : undefined;
  const record = buildRecord({ stack: values.stack, sha: values.sha, from: values.from, to, checks: values.check ?? [], runUrl });
  // The inventory, drain and restore-test of an upgrade run inside `up`: their documents say what `up` alone cannot.
  const preUpgrade = values["pre-upgrade"] ? readPreUpgrade(values["pre-upgrade"]) : undefined;
  if (preUpgrade) record.preUpgrade = preUpgrade;
  fs.writeFileSync(values.out!, JSON.stringify(record, null, 2) + "\n");
  const details: Record<string, string[]> = {};
  for (const spec of values.report ?? []) {
    const [name, file] = spec.split("=");
    if (!name || !file) throw new UsageError(`--report "${spec}": expected <check>=<file.json>`);
    details[name] = failedEntries(fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined);
  }
  if (preUpgrade) details.up = [...preUpgradeFailures(preUpgrade), ...(details.up ?? [])];
  summarize(recordSummary(record, details) + (preUpgrade ? "\n" + preUpgradeSummary(preUpgrade).join("\n") : ""));
  for (const c of record.checks.filter((x) => x.outcome !== "success")) {
    const first = details[c.name]?.[0];
    annotate("error", `${record.stack}: ${c.name} ${c.outcome}`, `${c.name} ${c.outcome} on ${record.stack} at ${record.sha}${first ? ` (${first})` : ""}; prod's gate refuses this commit until a later run of it is green`);
  }
  process.stdout.write(`deploy-record: ${record.stack} ${record.result} at ${record.sha} (${record.from ?? "none"} -> ${record.to})\n`);
  return record.result === "success" ? 0 : 1;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`deploy-record: ${(err as Error).message.split("\n")[0]}\n`);
    process.exitCode = err instanceof UsageError || err instanceof PinFileError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
}
