// The deploy record: what one deploy workflow run did to one stack (commit, every part's version
// from -> to, the result of each check). The staging deploy uploads it as an artifact; prod's gate
// and `npm run promote` read it.
//   npm run --silent deploy-record -- --stack staging --sha <commit> --from <X.Y.Z|none>
//     [--from-parts '<partVersions JSON>'] --check up=success --check smoke-server=failure ...
//     [--to X.Y.Z] [--out deploy-record.json]
//     [--image-scans image-scans.json]   (ECR scan-on-push results: npm run images -- scans)
//     [--pre-upgrade <folder>]           (a ZenML upgrade's inventory, drain and restore-test documents)
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseDocument } from "yaml";
import { TIMING_OVERRIDE_KEY } from "../../components/prod-window";
import { type DowntimeSummary, parseDowntime } from "../prober/probe";
import { PinFileError, pinnedVersions, readPin } from "./pin-file";
import { preUpgradeFailures, preUpgradeSummary, readPreUpgrade, type PreUpgradeRecord } from "./pre-upgrade-record";
import { annotationLine, summarize } from "./workflow-commands";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { SCANS_KIND, scanSummary, type ImageScan } from "../images/scans";
import { PARTS } from "../../components/parts";

export const RECORD_KIND = "zenml-platform/deploy-record";
/** The artifact name a deploy of <stack> uploads its record under. */
export const recordArtifact = (stack: string) => `deploy-record-${stack}`;
export const RECORD_FILE = "deploy-record.json";

/** A step's outcome as GitHub reports it (steps.<id>.outcome). */
export type Outcome = "success" | "failure" | "cancelled" | "skipped";
const OUTCOMES: readonly Outcome[] = ["success", "failure", "cancelled", "skipped"];

/** One part's move in a deploy: what ran before (null: nothing) and what the stack file pinned. */
export interface PartMoveRecord {
  from: string | null;
  to: string;
}

/** What a record keeps of the prober's summary (tools/prober/probe.ts). */
const RECORDED_DOWNTIME = [
  "secondsDown",
  "longestOutageSeconds",
  "probes",
  "failed",
  "firstFailure",
  "lastFailure",
  "versions",
] as const;
type RecordedDowntime = Pick<DowntimeSummary, (typeof RECORDED_DOWNTIME)[number]>;

export interface DeployRecord {
  kind: typeof RECORD_KIND;
  stack: string;
  sha: string;
  /** ZenML's version before this deploy; null on its first deploy (kept for records' older readers). */
  from: string | null;
  to: string;
  /** Every pinned part's move (records written before per-part records have none: see recordParts). */
  parts?: Record<string, PartMoveRecord>;
  /** success only when every check succeeded. */
  result: "success" | "failure";
  checks: { name: string; outcome: Outcome }[];
  runUrl?: string;
  /** ECR's scan of each image we built that the stack runs (informational: findings do not fail the record). */
  imageScans?: ImageScan[];
  /** When the record was written, after up and the checks: when the stack started running `to` (the soak and the KPIs count from it). */
  recordedAt?: string;
  /** What the downtime prober saw while `pulumi up` ran (tools/prober). */
  downtime?: RecordedDowntime;
  /** upgradeTimingOverrideReason when it was set for this deploy's version. */
  timingOverride?: string;
  /** A ZenML upgrade's inventory, drain and restore-test (pre-upgrade-record.ts). */
  preUpgrade?: PreUpgradeRecord;
}

/** Every part's move a record holds; a record from before per-part records holds ZenML's. */
export function recordParts(r: DeployRecord): Record<string, PartMoveRecord> {
  return r.parts ?? { zenml: { from: r.from, to: r.to } };
}

/** A part's moves from what ran (partVersions before the deploy) to what the file pins. */
export function partMoves(
  fromParts: Record<string, string>,
  toParts: Record<string, string>,
): Record<string, PartMoveRecord> {
  return Object.fromEntries(Object.entries(toParts).map(([part, to]) => [part, { from: fromParts[part] ?? null, to }]));
}

/** The probe summary without its URL and clock: what the KPIs and the gate read. */
const recordedDowntime = (summary: DowntimeSummary): RecordedDowntime =>
  Object.fromEntries(RECORDED_DOWNTIME.map((key) => [key, summary[key]])) as RecordedDowntime;

export function buildRecord(input: {
  stack: string;
  sha: string;
  from: string;
  to: string;
  checks: string[];
  runUrl?: string;
  parts?: Record<string, PartMoveRecord>;
  recordedAt?: Date;
  downtime?: DowntimeSummary;
  timingOverride?: string;
}): DeployRecord {
  if (!/^[0-9a-f]{40}$/.test(input.sha))
    throw new UsageError(`--sha must be a full 40-character commit id, got "${input.sha}"`);
  if (input.checks.length === 0) throw new UsageError("at least one --check name=outcome is needed");
  const checks = input.checks.map((c) => {
    const [name, outcome] = c.split("=");
    if (!name || !OUTCOMES.includes(outcome as Outcome))
      throw new UsageError(`--check "${c}": expected name=${OUTCOMES.join("|")}`);
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
    ...(input.parts ? { parts: input.parts } : {}),
    ...(input.runUrl ? { runUrl: input.runUrl } : {}),
    ...(input.recordedAt ? { recordedAt: input.recordedAt.toISOString() } : {}),
    ...(input.downtime ? { downtime: recordedDowntime(input.downtime) } : {}),
    ...(input.timingOverride ? { timingOverride: input.timingOverride } : {}),
  };
}

/** Parses a record read back from an artifact; undefined when it is not one. */
export function parseRecord(text: string): DeployRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<DeployRecord>;
    if (r.kind !== RECORD_KIND || typeof r.sha !== "string" || typeof r.to !== "string" || !Array.isArray(r.checks))
      return undefined;
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
  const lists = ["steps", "checks", "entries"]
    .map((k) => (report as Record<string, unknown>)[k])
    .filter(Array.isArray) as unknown[][];
  return lists.flat().flatMap((item) => {
    if (item === null || typeof item !== "object") return [];
    const e = item as { name?: unknown; status?: unknown; ok?: unknown; detail?: unknown };
    const failed =
      e.ok === false || (typeof e.status === "string" && /^(fail|failed|failure|error|red)$/i.test(e.status));
    return failed ? [`${String(e.name ?? "?")}: ${String(e.detail ?? e.status ?? "failed").split("\n")[0]}`] : [];
  });
}

/** "ZenML 0.97.0 -> 0.98.0; Kubernetes 1.34 (unchanged)": what a record says every part did. */
export function movesText(r: DeployRecord): string {
  return Object.entries(recordParts(r))
    .map(
      ([part, m]) =>
        `${PARTS[part]?.label ?? part} ${m.from === m.to ? `${m.to} (unchanged)` : `${m.from ?? "(first deploy)"} -> ${m.to}`}`,
    )
    .join("; ");
}

export function recordSummary(r: DeployRecord, details: Record<string, string[]> = {}): string {
  const failed = r.checks.filter((c) => c.outcome !== "success");
  return [
    `### Deploy record: ${r.stack} ${r.result === "success" ? "green" : "RED"}`,
    "",
    `Commit \`${r.sha}\`: ${movesText(r)}.`,
    "",
    "| check | outcome |",
    "| --- | --- |",
    ...r.checks.map((c) => `| ${c.name} | ${c.outcome === "success" ? "success" : `**${c.outcome}**`} |`),
    "",
    failed.length > 0 ? `Failed: ${failed.map((c) => c.name).join(", ")}.` : "Every check passed.",
    "",
    ...(r.downtime
      ? [
          `Downtime during up: ${r.downtime.secondsDown} s (${r.downtime.failed} of ${r.downtime.probes} probes failed${r.downtime.firstFailure ? `; first failing probe ${r.downtime.firstFailure.at}, last ${r.downtime.lastFailure!.at}` : ""}).`,
          "",
        ]
      : []),
    ...(r.timingOverride ? [`Soak and window overridden: ${r.timingOverride}.`, ""] : []),
    ...failed.flatMap((c) =>
      details[c.name]?.length ? [`**${c.name}**:`, "", ...details[c.name].map((d) => `- ${d}`), ""] : [],
    ),
  ].join("\n");
}

const HELP = `usage: npm run --silent deploy-record -- --stack <stack> --sha <commit> --from <X.Y.Z|none> [--from-parts '<JSON>'] --check <name>=<outcome>... [--report <check>=<file.json>]... [--downtime downtime.json] [--pre-upgrade <folder>] [--to X.Y.Z] [--out ${RECORD_FILE}] [--dir .]
--from-parts: the stack's partVersions output before the deploy ({} or empty on a first deploy); every part the stack file pins is recorded from -> to.
Writes the deploy record (JSON) and the job summary; an error annotation per failed check; exit 1 when any failed, 2 on bad usage.`;

/** partVersions as `pulumi stack output partVersions --json` printed it ("" or "null" when the stack has none). */
function parseFromParts(text: string | undefined): Record<string, string> {
  if (text === undefined || text.trim() === "" || text.trim() === "null") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--from-parts is not JSON: ${text.slice(0, 80)}`);
  }
  if (
    value === null ||
    typeof value !== "object" ||
    Array.isArray(value) ||
    !Object.values(value).every((v) => typeof v === "string")
  )
    throw new UsageError(`--from-parts must be an object of part -> version, got ${text.slice(0, 80)}`);
  return value as Record<string, string>;
}

const TOOL: ToolSpec = { name: "deploy-record", usage: HELP, badInput: (err) => err instanceof PinFileError };

export async function main(argv: string[], io: CliIo, env: CliEnv): Promise<number> {
  return runTool(TOOL, io, () => writeRecord(argv, io, env));
}

function writeRecord(argv: string[], io: CliIo, env: CliEnv): number {
  // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      sha: { type: "string" },
      from: { type: "string" },
      "from-parts": { type: "string" },
      to: { type: "string" },
      check: { type: "string", multiple: true },
      report: { type: "string", multiple: true },
      out: { type: "string", default: RECORD_FILE },
      "image-scans": { type: "string" },
      downtime: { type: "string" },
      "pre-upgrade": { type: "string" },
      dir: { type: "string", default: process.cwd() },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return printUsage(TOOL, io);
  if (!values.stack || !values.sha || values.from === undefined)
    throw new UsageError("--stack, --sha and --from are required");
  // With --to the stack file is optional: it adds every part's pin and the timing override, when it names this version.
  const file = path.join(values.dir!, `Pulumi.${values.stack}.yaml`);
  const stackFile = values.to === undefined || fs.existsSync(file) ? readPin(file) : undefined;
  const to = values.to ?? stackFile!.pin.value;
  // A prober that never wrote (it could not start) leaves no file: the record then says nothing about downtime.
  const downtime =
    values.downtime && fs.existsSync(values.downtime)
      ? parseDowntime(fs.readFileSync(values.downtime, "utf8"))
      : undefined;
  const override = stackFile
    ? String(parseDocument(stackFile.text).getIn(["config", `zenml-platform:${TIMING_OVERRIDE_KEY}`]) ?? "").trim()
    : "";
  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  // Without --from-parts (an older workflow) the record holds ZenML's move only, as before.
  const pins = stackFile ? pinnedVersions(stackFile.text, path.basename(file)) : {};
  const parts =
    values["from-parts"] === undefined
      ? undefined
      : partMoves(
          {
            ...parseFromParts(values["from-parts"]),
            ...(values.from !== "none" && values.from !== "" ? { zenml: values.from } : {}),
          },
          { ...pins, zenml: to },
        );
  const timingOverride = override.startsWith(`${to}:`) ? override : undefined;
  const record = buildRecord({
    stack: values.stack,
    sha: values.sha,
    from: values.from,
    to,
    checks: values.check ?? [],
    runUrl,
    parts,
    recordedAt: new Date(),
    downtime,
    timingOverride,
  });
  const scans =
    values["image-scans"] && fs.existsSync(values["image-scans"])
      ? (JSON.parse(fs.readFileSync(values["image-scans"], "utf8")) as { kind?: string; scans?: ImageScan[] })
      : undefined;
  if (scans?.kind === SCANS_KIND && Array.isArray(scans.scans)) record.imageScans = scans.scans;
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
  summarize(
    [
      recordSummary(record, details),
      ...(preUpgrade ? preUpgradeSummary(preUpgrade) : []),
      ...scanSummary(record.imageScans ?? []),
    ].join("\n"),
    env,
  );
  for (const c of record.checks.filter((x) => x.outcome !== "success")) {
    const first = details[c.name]?.[0];
    io.stdout(
      annotationLine(
        "error",
        `${record.stack}: ${c.name} ${c.outcome}`,
        `${c.name} ${c.outcome} on ${record.stack} at ${record.sha}${first ? ` (${first})` : ""}; prod's gate refuses this commit until a later run of it is green`,
      ) + "\n",
    );
  }
  io.stdout(`deploy-record: ${record.stack} ${record.result} at ${record.sha} (${movesText(record)})\n`);
  return record.result === "success" ? 0 : 1;
}
