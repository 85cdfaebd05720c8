// `npm run --silent alarm-watch -- --stack <env> --minutes <N> [--interval-seconds S]`
// Exit 0: no alarm fired for N minutes; 1: an alarm fired (named) or none exist; 2: bad usage.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { CloudWatchClient, paginateDescribeAlarms } from "@aws-sdk/client-cloudwatch";
import { UsageError, runTool, type CliEnv, type CliIo, type ToolSpec } from "./cli-io";
import { StackFileError, readStackConfig } from "./offline/stack-files";
import { watchAlarms, type AlarmSource, type AlarmState, type Clock } from "./alarms/watch";

const USAGE = `usage: npm run --silent alarm-watch -- --stack <env> --minutes <N> [--interval-seconds S]
  Watches the environment's CloudWatch alarms (zenml-<env>-*) for N minutes after a deploy.
  Region: the stack file's aws:region. Credentials: the usual AWS environment (CI's OIDC role).
Exit codes: 0 no alarm fired, 1 an alarm fired or none exist, 2 bad usage.`;

const TOOL: ToolSpec = { name: "alarm-watch", usage: USAGE, badInput: (err) => err instanceof StackFileError };

/** CloudWatch through the AWS SDK (credentials and endpoint from the environment). */
export function cloudWatchSource(region: string): AlarmSource {
  const client = new CloudWatchClient({ region });
  return {
    async alarms(prefix) {
      const out: AlarmState[] = [];
      const query = { AlarmNamePrefix: prefix, AlarmTypes: ["MetricAlarm" as const, "CompositeAlarm" as const] };
      for await (const page of paginateDescribeAlarms({ client }, query)) {
        for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          const state = (a.StateValue ?? "INSUFFICIENT_DATA") as AlarmState["state"];
          out.push({ name: a.AlarmName ?? "?", state, reason: a.StateReason ?? "" });
        }
      }
      return out;
    },
  };
}

/** The watch's options from the command line; the region from the stack file. */
export function parseWatchArgs(
  argv: string[],
  projectDir: string,
): { stack: string; minutes: number; intervalSeconds: number; region: string } {
  const { values } = parseArgs({
    args: argv,
    options: { stack: { type: "string" }, minutes: { type: "string" }, "interval-seconds": { type: "string" } },
    strict: true,
  });
  if (!values.stack) throw new UsageError("--stack is required");
  const minutes = Number(values.minutes);
  if (!values.minutes || !Number.isInteger(minutes) || minutes < 1 || minutes > 180) {
    throw new UsageError(`--minutes must be an integer 1..180, got ${JSON.stringify(values.minutes ?? null)}`);
  }
  const interval = Number(values["interval-seconds"] ?? 30);
  if (!Number.isInteger(interval) || interval < 5 || interval > 600) {
    throw new UsageError("--interval-seconds must be an integer 5..600");
  }
  const region = readStackConfig(projectDir, values.stack).values["aws:region"];
  if (!region) throw new StackFileError(`Pulumi.${values.stack}.yaml sets no aws:region`);
  return { stack: values.stack, minutes, intervalSeconds: interval, region };
}

/** Tests watch a fake CloudWatch on a fake clock. */
export interface AlarmWatchDeps {
  source?: (region: string) => AlarmSource;
  clock?: Clock;
}

export async function main(argv: string[], io: CliIo, _env: CliEnv, deps: AlarmWatchDeps = {}): Promise<number> {
  return runTool(TOOL, io, async () => {
    const args = parseWatchArgs(argv, path.resolve(__dirname, ".."));
    const clock = deps.clock ?? { now: () => Date.now(), sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)) };
    const result = await watchAlarms((deps.source ?? cloudWatchSource)(args.region), clock, args);
    if (result.ok) {
      io.stdout(
        `${TOOL.name}: ${result.alarms} alarm(s) of ${args.stack} stayed quiet for ${args.minutes} minute(s)\n`,
      );
      return 0;
    }
    io.stderr(
      result.message
        .split("\n")
        .map((l) => `${TOOL.name}: ${l}\n`)
        .join(""),
    );
    return 1;
  });
}
