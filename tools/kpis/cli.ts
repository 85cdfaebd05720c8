// `npm run upgrade-kpis -- --stack <env> [--json | --markdown] [--chart out.svg]` prints the seeds'
// upgrade KPIs beside their targets: downtime per upgrade, rollback rate, time to resolve
// post-upgrade issues, release-to-prod lead time, adoption within a week.
// Records come from GitHub (gh, GH_TOKEN with actions: read) unless --records <dir>; --record adds
// this run's own file. Adoption asks the server (--server-url, default https://<serverHostname>)
// with ZENML_API_KEY; without a key it says so instead of guessing. Release dates come from the
// package index unless --no-release-dates. Exit 0 with a report (a missed target is a finding, not
// a failure), 1 when a source could not be read, 2 on bad usage.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { type DeployRecord, parseRecord } from "../gitops/deploy-record";
import { serverUrlOf } from "../prober/cli";
import { ADOPTION_DAYS, type ClientRun, computeKpis } from "./kpis";
import { renderMarkdown, renderSvg, renderText } from "./render";
import { recordsFromDir, recordsFromGitHub, releaseDates, uniqueRecords, zenmlRuns } from "./sources";

const USAGE =
  "usage: npm run --silent upgrade-kpis -- --stack <stack> [--json | --markdown] [--chart out.svg] [--records <dir>] [--record deploy-record.json] [--server-url URL] [--repo owner/name] [--no-release-dates]";

const TOOL: ToolSpec = { name: "upgrade-kpis", usage: USAGE };

export async function main(argv: string[], io: CliIo, env: CliEnv, now = () => new Date()): Promise<number> {
  return runTool(TOOL, io, () => report(argv, io, env, now));
}

async function report(argv: string[], io: CliIo, env: CliEnv, now: () => Date): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      json: { type: "boolean" },
      markdown: { type: "boolean" },
      chart: { type: "string" },
      records: { type: "string" },
      record: { type: "string", multiple: true },
      "server-url": { type: "string" },
      repo: { type: "string" },
      "no-release-dates": { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return printUsage(TOOL, io);
  if (!values.stack || !/^[A-Za-z0-9_.-]+$/.test(values.stack))
    throw new UsageError("--stack is required (a stack name)");
  if (values.json && values.markdown) throw new UsageError("--json and --markdown exclude each other");
  const stack = values.stack;
  try {
    const records: DeployRecord[] = values.records
      ? recordsFromDir(values.records)
      : recordsFromGitHub(stack, values.repo, env);
    for (const file of values.record ?? []) {
      const own = fs.existsSync(file) ? parseRecord(fs.readFileSync(file, "utf8")) : undefined;
      if (own) records.push(own);
    }
    const at = now();
    let runs: ClientRun[] | undefined;
    let serverVersion: string | null = null;
    let adoptionNote: string | undefined;
    if (env.ZENML_API_KEY) {
      const server = (values["server-url"] ?? serverUrlOf(stack, path.resolve(__dirname, "..", ".."))).replace(
        /\/+$/,
        "",
      );
      ({ runs, serverVersion } = await zenmlRuns(
        server,
        env.ZENML_API_KEY,
        new Date(at.getTime() - ADOPTION_DAYS * 86_400_000),
      ));
    } else adoptionNote = "no ZENML_API_KEY to ask the server for its runs";
    const dates = values["no-release-dates"]
      ? undefined
      : await releaseDates(env.RELEASE_WATCH_PYPI_URL).catch(() => undefined);
    const report = computeKpis({
      stack,
      records: uniqueRecords(records),
      runs,
      serverVersion,
      adoptionNote,
      releaseDates: dates,
      now: at,
    });
    if (values.chart) fs.writeFileSync(values.chart, renderSvg(report));
    io.stdout(
      values.json
        ? JSON.stringify(report, null, 2) + "\n"
        : values.markdown
          ? renderMarkdown(report)
          : renderText(report),
    );
    return 0;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    // gh's own error is its last stderr line; the API key never appears in these messages.
    io.stderr(`upgrade-kpis: ${e.stderr ? String(e.stderr).trim().split("\n").pop() : e.message.split("\n")[0]}\n`);
    return 1;
  }
}
