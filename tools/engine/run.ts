// `npm run test:engine`: the program under Pulumi's own engine. Obtains the CLI at the SDK's
// version (tools/engine/cli.ts), builds one temporary world (tools/engine/world.ts), runs the
// story's scenarios and the replacement guard on it, and prints one line per scenario, then
// `N passed, N failed` with the CLI's version. --report <file> writes every update's step list
// and the guard's table as JSON; --verbose prints the guard's previews as they run; --each
// previews every guard edit on its own (batches otherwise); --keep leaves the world on disk.
import * as fs from "node:fs";
import * as path from "node:path";
import { aliasesKeepUrns } from "./aliases";
import { obtainCli, sdkVersion } from "./cli";
import { guardCatchesReplacement, guardScenario, runGuard, type KeyResult } from "./guard";
import { AFTER_GUARD, BEFORE_GUARD, type Scenario } from "./scenarios";
import { Story, type ScenarioResult } from "./story";
import { World } from "./world";

const PROJECT_DIR = path.join(__dirname, "..", "..");

interface Options {
  report?: string;
  verbose: boolean;
  keep: boolean;
  each: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { verbose: false, keep: false, each: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--report") options.report = argv[++i];
    else if (argv[i] === "--verbose") options.verbose = true;
    else if (argv[i] === "--keep") options.keep = true;
    else if (argv[i] === "--each") options.each = true;
    else throw new Error(`unknown argument ${argv[i]} (use --report <file>, --verbose, --keep, --each)`);
  }
  return options;
}

function line(result: ScenarioResult, seconds: number): string {
  const head = `${result.passed ? "PASS" : "FAIL"} ${result.name} (${seconds.toFixed(1)} s): ${result.summary}`;
  return [head, ...result.problems.map((p) => `     - ${p}`)].join("\n");
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const cli = await obtainCli(sdkVersion(PROJECT_DIR), (l) => console.log(`engine: ${l}`));
  const world = await World.create(PROJECT_DIR, cli.path);
  const story = new Story(world);
  const results: ScenarioResult[] = [];
  let guard: KeyResult[] = [];
  const run = async (name: string, scenario: () => Promise<ScenarioResult>) => {
    const start = Date.now();
    let result: ScenarioResult;
    try {
      result = await scenario();
    } catch (err) {
      result = { name, passed: false, summary: "crashed", problems: [err instanceof Error ? (err.stack ?? err.message) : String(err)], updates: [] };
    }
    results.push(result);
    console.log(line(result, (Date.now() - start) / 1000));
  };
  try {
    for (const scenario of BEFORE_GUARD) await run(scenario.name, () => (scenario as Scenario)(story));
    await run("replacement guard", async () => {
      guard = await runGuard(story, { each: options.each }, options.verbose ? (l) => console.log(l) : undefined);
      return guardScenario(guard);
    });
    await run("guard self-test", () => guardCatchesReplacement(story));
    await run("aliases", () => aliasesKeepUrns(story, "prod"));
    for (const scenario of AFTER_GUARD) await run(scenario.name, () => scenario(story));
  } finally {
    if (options.keep) console.log(`engine: world kept in ${world.dir}`);
    else world.dispose();
  }
  const passed = results.filter((r) => r.passed).length;
  const seconds = (Date.now() - t0) / 1000;
  if (options.report) {
    fs.writeFileSync(options.report, JSON.stringify({ cli: { version: cli.version, source: cli.source, path: cli.path }, seconds, results, guard }, null, 1) + "\n");
  }
  console.log(`${passed} passed, ${results.length - passed} failed (Pulumi CLI ${cli.version} from ${cli.source}, ${seconds.toFixed(0)} s)`);
  return passed === results.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
