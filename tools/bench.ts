// `npm run bench [-- --runs N --skip-tests | --tests-only --loaders]`: each figure where users wait, side by side
// with its floor, as a ratio taken pair by pair (A B A B ...), so machine load cancels out:
//   preview load  the SDK's own runner (cmd/run) loading and running the program with Pulumi.yaml's
//                 runtime options, against the tsx path (same runner, `nodeargs: --import tsx`)
//   plan CLI      `npm run plan`'s command, against the import floor (a bare node importing the six
//                 Pulumi packages)
// and the figures without a floor (typecheck, test suite, in-process plan) against their targets.
// Figures only: nothing here fails on speed.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { previewLoadCommand, projectRuntimeOptions, type RuntimeOptions } from "./bench/preview-load";
import { runPlan } from "./offline/plan";

const projectDir = path.resolve(__dirname, "..");
const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "5" }, "skip-tests": { type: "boolean", default: false }, "tests-only": { type: "boolean", default: false }, loaders: { type: "boolean", default: false } },
});
const runs = Math.max(1, Number(args.runs));
const PACKAGES = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/awsx", "@pulumi/eks", "@pulumi/kubernetes", "@pulumi/random"];

interface Command {
  argv: string[];
  env?: Record<string, string>;
  /** The command must print something: a tool that silently does nothing would time as fast. */
  prints?: boolean;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
};

function seconds(command: Command): number {
  const start = process.hrtime.bigint();
  const [exe, ...argv] = command.argv;
  const result = spawnSync(exe, argv, { cwd: projectDir, stdio: ["ignore", command.prints ? "pipe" : "ignore", "pipe"], env: { ...process.env, CI: "true", ...command.env }, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command.argv.join(" ")} failed (exit ${result.status}):\n${result.stderr}`);
  if (command.prints && result.stdout.length === 0) throw new Error(`${command.argv.join(" ")} printed nothing`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const lines: string[] = [];
const fmt = (x: number, digits = 2) => x.toFixed(digits).padStart(6);
const header = `${"figure".padEnd(44)} ${"A median".padStart(9)} ${"floor".padStart(7)}   ${"ratio median [min-max]".padEnd(26)} target`;

/** A and B in turn, `runs` pairs after one warm-up pair; the ratio of each pair. */
function paired(label: string, a: Command, b: Command, target: number): void {
  seconds(a);
  seconds(b);
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    as.push(seconds(a));
    bs.push(seconds(b));
    ratios.push(as[i] / bs[i]);
  }
  const r = stats(ratios);
  const verdict = r.median <= target ? "within" : "OVER";
  lines.push(`${label.padEnd(44)} ${fmt(stats(as).median)} s ${fmt(stats(bs).median)} s   ${fmt(r.median)}x [${r.min.toFixed(2)}-${r.max.toFixed(2)}]`.padEnd(90) + ` <= ${target}x ${verdict}`);
}

/** A figure without a floor; with a target when the issue set one. */
function absolute(label: string, samples: number[], target: number | undefined, unit: string): void {
  const s = stats(samples);
  const row = `${label.padEnd(44)} ${fmt(s.median)} ${unit} [${s.min.toFixed(2)}-${s.max.toFixed(2)}], ${samples.length} runs`;
  lines.push(target === undefined ? row : row.padEnd(90) + ` <= ${target} ${unit} ${s.median <= target ? "within" : "OVER"}`);
}

function preview(stack: string, options: RuntimeOptions, env: Record<string, string> = {}): Command {
  const c = previewLoadCommand(projectDir, stack, options, env);
  return { argv: [process.execPath, ...c.argv], env: c.env };
}

async function main(): Promise<void> {
  lines.push(`zenml-platform bench — ${new Date().toISOString()} — node ${process.version}, ${runs} pairs per ratio`, header);
  if (!args["tests-only"]) await programFigures();
  if (!args["skip-tests"]) testFigures();
  lines.push(`${"peak RSS of this process".padEnd(44)} ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  process.stdout.write(lines.join("\n") + "\n");
}

/** Where a user waits on the program: preview's load, the plan CLI, a plan, the type-check. */
async function programFigures(): Promise<void> {
  const tsxPath: RuntimeOptions = { typescript: false, nodeargs: "--import tsx" };
  for (const stack of ["staging", "prod"]) paired(`preview load ${stack} (Pulumi.yaml) / tsx path`, preview(stack, projectRuntimeOptions(projectDir)), preview(stack, tsxPath), 1.5);
  if (args.loaders) {
    // ts-node's cache off: as on a fresh CI runner, or after editing a component.
    const cold = { TS_NODE_CACHE: "false" };
    paired("preview load staging, SDK ts-node / tsx path", preview("staging", { typescript: true }, cold), preview("staging", tsxPath), 1.5);
    paired("preview load staging, ts-node transpile / tsx", preview("staging", { typescript: true }, { ...cold, PULUMI_NODEJS_TRANSPILE_ONLY: "true" }), preview("staging", tsxPath), 1.5);
  }
  const floor: Command = { argv: [process.execPath, "-e", PACKAGES.map((p) => `require(${JSON.stringify(p)});`).join("")] };
  for (const stack of ["staging", "prod"]) {
    paired(`plan CLI --stack ${stack} --json / import floor`, { argv: [process.execPath, "tools/cli.cjs", "plan", "--stack", stack, "--json"], prints: true }, floor, 1.8);
  }
  for (const stack of ["staging", "prod"]) {
    await runPlan({ stack, projectDir }); // warm-up: module loading is in the CLI rows
    const samples: number[] = [];
    for (let i = 0; i < runs * 2; i++) {
      const start = process.hrtime.bigint();
      await runPlan({ stack, projectDir });
      samples.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    absolute(`plan in-process ${stack}`, samples, undefined, "s");
  }
  const tsgo = path.join(projectDir, "node_modules", ".bin", "tsgo");
  absolute("typecheck (npm run typecheck: tsgo)", Array.from({ length: Math.min(runs, 3) }, () => seconds({ argv: [tsgo, "--noEmit", "-p", "tsconfig.json"] })), 8, "s");
  const tsc = path.join(projectDir, "node_modules", "typescript", "bin", "tsc");
  absolute("typecheck:tsc (JavaScript tsc), incremental", Array.from({ length: Math.min(runs, 3) }, () => seconds({ argv: [process.execPath, tsc, "--noEmit", "-p", "tsconfig.json"] })), undefined, "s");
}

/** Where a developer waits on the tests: each tier, the plan cache cold and warm. */
function testFigures(): void {
  const vitest = path.join(projectDir, "node_modules", "vitest", "vitest.mjs");
  const n = Math.min(runs, 3);
  // Cold: an edit to any plan source empties the plan cache, which is the state while editing.
  const coldFast = () => {
    fs.rmSync(path.join(projectDir, "node_modules", ".cache", "zenml-platform", "plans"), { recursive: true, force: true });
    return seconds({ argv: [process.execPath, vitest, "run", "--project", "fast", "--reporter=dot"] });
  };
  absolute("fast tier (npm run test:fast), plan cache cold", Array.from({ length: n }, coldFast), 15, "s");
  absolute("fast tier, plan cache warm", Array.from({ length: n }, () => seconds({ argv: [process.execPath, vitest, "run", "--project", "fast", "--reporter=dot"] })), 15, "s");
  // One run first: the cold rows above emptied the cache of the plans only the processes tier makes.
  const suite = () => seconds({ argv: [process.execPath, vitest, "run", "--reporter=dot"] });
  suite();
  absolute("test suite (npm test: both tiers), plan cache warm", Array.from({ length: n }, suite), 30, "s");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
