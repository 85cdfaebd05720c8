// Entry point: npm run smoke -- --url <url> --expect-version <X.Y.Z> [...]; see USAGE.
import { USAGE, UsageError, parseSmokeArgs } from "./args";
import { runSmoke, type SmokeReport } from "./checks";
import { readStackTarget } from "./pulumi-stack";
import { formatJson, formatTable } from "./report";

export interface CliIO {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readStack?: typeof readStackTarget;
}

/** Runs the CLI and returns its exit code (0 ok, 1 a step failed, 2 usage error). */
export async function main(io: CliIO): Promise<number> {
  let report: SmokeReport;
  try {
    const opts = parseSmokeArgs(io.argv);
    if (opts.help) {
      io.stdout(USAGE);
      return 0;
    }
    let url = opts.url;
    let version = opts.expectVersion;
    let expectStack = opts.expectStack;
    if (opts.stack !== undefined) {
      const target = (io.readStack ?? readStackTarget)(opts.stack);
      url = target.url;
      version = opts.expectVersion ?? target.version;
      // The environment registers its ZenML stack; after an upgrade it must still be there.
      expectStack = opts.expectStack ?? target.zenmlStack;
    }
    const apiKey = io.env.ZENML_API_KEY ?? "";
    if (!apiKey) throw new UsageError("ZENML_API_KEY is not set (a service-account API key is needed to log in)");
    report = await runSmoke({
      url: url!,
      apiKey,
      expectVersion: version!,
      expectDeployment: opts.expectDeployment,
      expectDatabase: opts.expectDatabase,
      expectStack,
      timeoutMs: opts.timeoutSec * 1000,
      retries: opts.retries,
      backoffMs: opts.backoffMs,
      maxBackoffMs: opts.maxBackoffMs,
    }, {
      onStep: opts.json ? undefined : (s) => io.stderr(`[smoke] ${s.name}: ${s.status} (${s.attempts} tr${s.attempts === 1 ? "y" : "ies"})`),
    });
    io.stdout(opts.json ? formatJson(report) : formatTable(report));
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`smoke: ${e.message}\n(see --help)`);
      return 2;
    }
    throw e;
  }
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main({
    argv: process.argv.slice(2),
    env: process.env,
    stdout: (s) => process.stdout.write(`${s}\n`),
    stderr: (s) => process.stderr.write(`${s}\n`),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`smoke: internal error: ${(e as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
