// `npm run smoke -- --url <url> --expect-version <X.Y.Z> [...]` (or `--stack <env>`); see USAGE.
// Exit 0: every step passed; 1: a step failed; 2: bad usage.
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { USAGE, parseSmokeArgs } from "./args";
import { runSmoke } from "./checks";
import { readStackTarget } from "./pulumi-stack";
import { formatJson, formatTable } from "./report";

const TOOL: ToolSpec = { name: "smoke", usage: USAGE };

/** Tests read a stand-in stack instead of `pulumi stack output`. */
export interface SmokeDeps {
  readStack?: typeof readStackTarget;
}

export async function main(argv: string[], io: CliIo, env: CliEnv, deps: SmokeDeps = {}): Promise<number> {
  return runTool(TOOL, io, async () => {
    const opts = parseSmokeArgs(argv);
    if (opts.help) return printUsage(TOOL, io);
    let url = opts.url;
    let version = opts.expectVersion;
    let expectStack = opts.expectStack;
    if (opts.stack !== undefined) {
      const target = (deps.readStack ?? readStackTarget)(opts.stack);
      url = target.url;
      version = opts.expectVersion ?? target.version;
      // The environment registers its ZenML stack; after an upgrade it must still be there.
      expectStack = opts.expectStack ?? target.zenmlStack;
    }
    const apiKey = env.ZENML_API_KEY ?? "";
    if (!apiKey) throw new UsageError("ZENML_API_KEY is not set (a service-account API key is needed to log in)");
    const onStep = opts.json
      ? undefined
      : (s: { name: string; status: string; attempts: number }) =>
          io.stderr(`[smoke] ${s.name}: ${s.status} (${s.attempts} tr${s.attempts === 1 ? "y" : "ies"})\n`);
    const report = await runSmoke(
      {
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
      },
      { onStep },
    );
    io.stdout(`${opts.json ? formatJson(report) : formatTable(report)}\n`);
    return report.ok ? 0 : 1;
  });
}
