// `npm run prober -- (--stack <s> | --url <server>) --out downtime.json [--pid-file prober.pid]
//   [--interval-seconds 1] [--timeout-seconds 2] [--duration-seconds N]`
// probes until SIGTERM/SIGINT (or N seconds), rewriting the summary after every probe.
// `npm run prober -- --stop --pid-file prober.pid [--out downtime.json]` ends a running prober and
// waits for it to exit, then prints its one-line summary. The deploy workflows start the first in
// the background before `pulumi up` and call the second after it.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { StackFileError, readStackConfig } from "../offline/stack-files";
import { downtimeLine, parseDowntime, runProber } from "./probe";

const USAGE =
  "usage: npm run prober -- (--stack <stack> | --url <server>) --out downtime.json [--pid-file F] [--interval-seconds 1] [--timeout-seconds 2] [--duration-seconds N] | --stop --pid-file F [--out downtime.json]";
const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const TOOL: ToolSpec = { name: "prober", usage: USAGE, badInput: (err) => err instanceof StackFileError };

/** The server's URL from the stack file (https://<serverHostname>), as users reach it. */
export function serverUrlOf(stack: string, projectDir = PROJECT_DIR): string {
  const host = readStackConfig(projectDir, stack).values["zenml-platform:serverHostname"];
  if (!host) throw new UsageError(`Pulumi.${stack}.yaml has no zenml-platform:serverHostname`);
  return `https://${host}`;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stop(pidFile: string, out: string | undefined, io: CliIo): Promise<number> {
  if (!fs.existsSync(pidFile))
    throw new UsageError(`${pidFile} does not exist: no prober was started (or it could not write its pid)`);
  const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new UsageError(`${pidFile} holds no process id`);
  if (alive(pid)) process.kill(pid, "SIGTERM");
  for (let waited = 0; alive(pid) && waited < 15_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    io.stderr(`prober: prober ${pid} did not exit within 15 s of SIGTERM\n`);
    return 1;
  }
  const summary = out && fs.existsSync(out) ? parseDowntime(fs.readFileSync(out, "utf8")) : undefined;
  io.stdout(`prober: ${summary ? downtimeLine(summary) : "stopped (no summary written)"}\n`);
  return 0;
}

export async function main(argv: string[], io: CliIo, _env: CliEnv): Promise<number> {
  return runTool(TOOL, io, async () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        url: { type: "string" },
        out: { type: "string" },
        "pid-file": { type: "string" },
        "interval-seconds": { type: "string", default: "1" },
        "timeout-seconds": { type: "string", default: "2" },
        "duration-seconds": { type: "string" },
        stop: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    if (values.stop) {
      if (!values["pid-file"]) throw new UsageError("--stop needs --pid-file");
      return await stop(values["pid-file"], values.out, io);
    }
    const number = (flag: string, v: string | undefined) => {
      const n = Number(v);
      if (!(n > 0 && n <= 3600))
        throw new UsageError(`--${flag} must be a number of seconds in (0, 3600], got ${JSON.stringify(v)}`);
      return n;
    };
    if (!values.out) throw new UsageError("--out is required");
    if (!values.url === !values.stack) throw new UsageError("give exactly one of --url and --stack");
    const url = (values.url ?? serverUrlOf(values.stack!)).replace(/\/+$/, "");
    if (!/^https?:\/\/[^/\s]+$/.test(url))
      throw new UsageError(
        `--url must be the server's base URL (http(s)://host[:port]), got ${JSON.stringify(values.url)}`,
      );
    const stopper = new AbortController();
    const onSignal = () => stopper.abort();
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    if (values["duration-seconds"])
      setTimeout(onSignal, number("duration-seconds", values["duration-seconds"]) * 1000).unref();
    if (values["pid-file"]) fs.writeFileSync(values["pid-file"], `${process.pid}\n`);
    try {
      const summary = await runProber({
        url,
        intervalMs: number("interval-seconds", values["interval-seconds"]) * 1000,
        timeoutMs: number("timeout-seconds", values["timeout-seconds"]) * 1000,
        out: values.out,
        signal: stopper.signal,
      });
      io.stdout(`prober: ${downtimeLine(summary)}\n`);
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
    return 0;
  });
}
