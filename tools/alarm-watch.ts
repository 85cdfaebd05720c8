// `npm run --silent alarm-watch -- --stack <env> --minutes <N> [--interval-seconds S]`
// Exit 0: no alarm fired for N minutes; 1: an alarm fired (named) or none exist; 2: bad usage.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { CloudWatchClient, paginateDescribeAlarms } from "@aws-sdk/client-cloudwatch";
import { StackFileError, readStackConfig } from "./offline/stack-files";
import { watchAlarms, type AlarmSource, type AlarmState } from "./alarms/watch";

const USAGE = `usage: npm run --silent alarm-watch -- --stack <env> --minutes <N> [--interval-seconds S]
  Watches the environment's CloudWatch alarms (zenml-<env>-*) for N minutes after a deploy.
  Region: the stack file's aws:region. Credentials: the usual AWS environment (CI's OIDC role).
Exit codes: 0 no alarm fired, 1 an alarm fired or none exist, 2 bad usage.`;

class UsageError extends Error {}

/** CloudWatch through the AWS SDK (credentials and endpoint from the environment). */
export function cloudWatchSource(region: string): AlarmSource {
  const client = new CloudWatchClient({ region });
  return {
    async alarms(prefix) {
      const out: AlarmState[] = [];
      for await (const page of paginateDescribeAlarms({ client }, { AlarmNamePrefix: prefix, AlarmTypes: ["MetricAlarm", "CompositeAlarm"] })) {
        for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          out.push({ name: a.AlarmName ?? "?", state: (a.StateValue ?? "INSUFFICIENT_DATA") as AlarmState["state"], reason: a.StateReason ?? "" });
        }
      }
      return out;
    },
  };
}

export function parseWatchArgs(argv: string[], projectDir: string): { stack: string; minutes: number; intervalSeconds: number; region: string } {
  let values: { stack?: string; minutes?: string; "interval-seconds"?: string };
  try {
    ({ values } = parseArgs({ args: argv, options: { stack: { type: "string" }, minutes: { type: "string" }, "interval-seconds": { type: "string" } }, strict: true }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (!values.stack) throw new UsageError(`--stack is required\n${USAGE}`);
  const minutes = Number(values.minutes);
  if (!values.minutes || !Number.isInteger(minutes) || minutes < 1 || minutes > 180) throw new UsageError(`--minutes must be an integer 1..180, got ${JSON.stringify(values.minutes ?? null)}\n${USAGE}`);
  const interval = Number(values["interval-seconds"] ?? 30);
  if (!Number.isInteger(interval) || interval < 5 || interval > 600) throw new UsageError(`--interval-seconds must be an integer 5..600\n${USAGE}`);
  let region: string | undefined;
  try {
    region = readStackConfig(projectDir, values.stack).values["aws:region"];
  } catch (err) {
    if (err instanceof StackFileError) throw new UsageError(err.message);
    throw err;
  }
  if (!region) throw new UsageError(`Pulumi.${values.stack}.yaml sets no aws:region`);
  return { stack: values.stack, minutes, intervalSeconds: interval, region };
}

export async function main(argv: string[], source?: (region: string) => AlarmSource): Promise<number> {
  const args = parseWatchArgs(argv, path.resolve(__dirname, ".."));
  const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
  const result = await watchAlarms((source ?? cloudWatchSource)(args.region), clock, args);
  if (result.ok) {
    process.stdout.write(`alarm-watch: ${result.alarms} alarm(s) of ${args.stack} stayed quiet for ${args.minutes} minute(s)\n`);
    return 0;
  }
  process.stderr.write(result.message.split("\n").map((l) => `alarm-watch: ${l}\n`).join(""));
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const usage = err instanceof UsageError;
      const message = err instanceof Error ? (usage ? err.message : err.message.split("\n")[0]) : String(err);
      process.stderr.write(`alarm-watch: ${message}\n`);
      process.exit(usage ? 2 : 1);
    },
  );
}
