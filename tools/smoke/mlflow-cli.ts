// `npm run smoke:mlflow -- --url <url> --expect-version <X.Y.Z> [...]` (or `--stack <env>`); see MLFLOW_USAGE.
// Exit 0: every step passed, or the stack runs no MLflow; 1: a step failed; 2: bad usage.
import { printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { MLFLOW_USAGE, mlflowTargetFromOutputs, parseMlflowArgs, runMlflowSmoke } from "./mlflow";
import { readStackOutputs } from "./pulumi-stack";
import { formatJson, formatTable } from "./report";

const TOOL: ToolSpec = { name: "smoke:mlflow", usage: MLFLOW_USAGE };

/** Tests read stand-in stack outputs instead of `pulumi stack output`. */
export interface MlflowSmokeDeps {
  readOutputs?: (stack: string) => Record<string, unknown>;
}

export async function main(argv: string[], io: CliIo, env: CliEnv, deps: MlflowSmokeDeps = {}): Promise<number> {
  return runTool(TOOL, io, async () => {
    let opts = parseMlflowArgs(argv, env);
    if (opts.help) return printUsage(TOOL, io);
    if (opts.stack !== undefined) {
      // The admin password is a secret output: read into memory only, never printed.
      const read = deps.readOutputs ?? ((s: string) => readStackOutputs(s, { showSecrets: true }));
      const target = mlflowTargetFromOutputs(read(opts.stack), opts.stack);
      if (target === "off") {
        const skipped = `stack ${opts.stack} runs no MLflow (mlflowVersion unset)`;
        io.stdout(`${opts.json ? JSON.stringify({ ok: true, skipped, steps: [] }) : `${skipped}: nothing to check`}\n`);
        return 0;
      }
      opts = { ...opts, ...target };
    }
    const onStep = opts.json
      ? undefined
      : (s: { name: string; status: string; attempts: number }) =>
          io.stderr(`[${TOOL.name}] ${s.name}: ${s.status} (${s.attempts} tr${s.attempts === 1 ? "y" : "ies"})\n`);
    const report = await runMlflowSmoke(opts, { onStep });
    io.stdout(`${opts.json ? formatJson(report) : formatTable(report, "MLflow")}\n`);
    return report.ok ? 0 : 1;
  });
}
