// `npm run bench [-- --runs N --skip-tests]`: median wall time of the offline plan per stack (as a
// user runs it, and in-process), and of the test suite. Figures only; nothing here fails on speed.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runPlan } from "./offline/plan";

const projectDir = path.resolve(__dirname, "..");
const { values: args } = parseArgs({ options: { runs: { type: "string", default: "5" }, "skip-tests": { type: "boolean", default: false } } });
const runs = Math.max(1, Number(args.runs));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function timeCommand(command: string, argv: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, argv, { cwd: projectDir, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CI: "true" } });
  if (result.status !== 0) throw new Error(`${command} ${argv.join(" ")} failed:\n${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function row(label: string, samples: number[]): string {
  return `${label.padEnd(38)} median ${median(samples).toFixed(0).padStart(6)} ms   min ${Math.min(...samples).toFixed(0).padStart(6)} ms   runs ${samples.length}`;
}

async function main(): Promise<void> {
  const tsx = path.join(projectDir, "node_modules", ".bin", "tsx");
  const vitest = path.join(projectDir, "node_modules", ".bin", "vitest");
  const lines: string[] = [`zenml-platform bench — ${new Date().toISOString()} — node ${process.version}, ${runs} runs`];

  for (const stack of ["staging", "prod"]) {
    const samples = Array.from({ length: runs }, () => timeCommand(tsx, ["tools/plan.ts", "--stack", stack, "--json"]));
    lines.push(row(`plan CLI --stack ${stack} --json`, samples));
  }
  for (const stack of ["staging", "prod"]) {
    await runPlan({ stack, projectDir }); // warm-up: module loading is measured by the CLI rows
    const samples: number[] = [];
    for (let i = 0; i < runs * 2; i++) {
      const start = process.hrtime.bigint();
      await runPlan({ stack, projectDir });
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    lines.push(row(`plan in-process ${stack}`, samples));
  }
  lines.push(`${"peak RSS of this process".padEnd(38)} ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  if (!args["skip-tests"]) {
    const samples = Array.from({ length: Math.min(runs, 3) }, () => timeCommand(vitest, ["run", "--reporter=dot"]));
    lines.push(row("test suite (vitest run)", samples));
  }
  process.stdout.write(lines.join("\n") + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
