// Entry point: npm run smoke:mlflow -- --url <url> --expect-version <X.Y.Z> [...]; see MLFLOW_USAGE.
import { UsageError } from "./args";
import { MLFLOW_USAGE, mlflowTargetFromOutputs, parseMlflowArgs, runMlflowSmoke } from "./mlflow";
import { readStackOutputs } from "./pulumi-stack";
import { formatJson, formatTable } from "./report";
import type { CliIO } from "./cli";

/** Runs the CLI and returns its exit code (0 ok, 1 a step failed, 2 usage error). */
export async function mlflowMain(io: Omit<CliIO, "readStack"> & { readOutputs?: (stack: string) => Record<string, unknown> }): Promise<number> {
  try {
    let opts = parseMlflowArgs(io.argv, io.env);
    if (opts.help) {
      io.stdout(MLFLOW_USAGE);
      return 0;
    }
    if (opts.stack !== undefined) {
      // The admin password is a secret output: read into memory only, never printed.
      const target = mlflowTargetFromOutputs((io.readOutputs ?? ((s) => readStackOutputs(s, { showSecrets: true })))(opts.stack), opts.stack);
      if (target === "off") {
        io.stdout(opts.json ? JSON.stringify({ ok: true, skipped: `stack ${opts.stack} runs no MLflow (mlflowVersion unset)`, steps: [] }) : `stack ${opts.stack} runs no MLflow (mlflowVersion unset): nothing to check`);
        return 0;
      }
      opts = { ...opts, ...target };
    }
    const report = await runMlflowSmoke(opts, { onStep: opts.json ? undefined : (s) => io.stderr(`[smoke:mlflow] ${s.name}: ${s.status} (${s.attempts} tr${s.attempts === 1 ? "y" : "ies"})`) });
    io.stdout(opts.json ? formatJson(report) : formatTable(report, "MLflow"));
    return report.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`smoke:mlflow: ${e.message}\n(see --help)`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  mlflowMain({ argv: process.argv.slice(2), env: process.env, stdout: (s) => process.stdout.write(`${s}\n`), stderr: (s) => process.stderr.write(`${s}\n`) }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`smoke:mlflow: internal error: ${(e as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
