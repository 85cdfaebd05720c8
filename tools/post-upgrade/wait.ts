// `npm run post-upgrade:wait -- --stack <env> --timeout-minutes <N> --report <path>`
// Waits for the environment's post-upgrade Job (stack output postUpgradeJob), writes its JSON
// report to <path>, prints one line per failed entry. Exit 0 green, 1 red or timeout, 2 bad usage.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  POST_UPGRADE_CONTAINER,
  POST_UPGRADE_NAMESPACE as NAMESPACE,
  POST_UPGRADE_REPORT_PREFIX,
} from "../../components/post-upgrade/pipeline-catalogue";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { readStackOutputs } from "../smoke/pulumi-stack";
import { KubeError, kubeGet, targetFromKubeconfig, type KubeTarget } from "./kube";
import { failureLines, missingSinceInventory, reportFromLog, type PostUpgradeReport } from "./report";

export const USAGE = `usage: npm run --silent post-upgrade:wait -- --stack <env> --timeout-minutes <N> --report <path>
  [--job <name>]           the Job to wait for (default: the stack output postUpgradeJob)
  [--inventory <file>]     the upgrade's pre-upgrade inventory: what it lists must still be there (skipped when absent)
  [--kubeconfig <file>]    default: $KUBECONFIG, else the stack output kubeconfig
  [--poll-seconds <N>]     default 10`;

const TOOL: ToolSpec = {
  name: "post-upgrade:wait",
  usage: USAGE,
  // A kubeconfig that cannot be read or used is bad input, like a stack without the output.
  badInput: (err) => err instanceof KubeError || (err as NodeJS.ErrnoException).code === "ENOENT",
};

/** Tests read stand-in outputs, reach a fake API server and wait on a fake clock. */
export interface WaitDeps {
  readOutputs?: (stack: string) => Record<string, unknown>;
  kube?: (kubeconfig: string) => KubeTarget;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface WaitResult {
  stack: string;
  job: string;
  namespace: string;
  /** complete | failed | timeout | missing */
  job_status: string;
  waited_seconds: number;
  ok: boolean;
  report: PostUpgradeReport | null;
  problem?: string;
  /** Items of the pre-upgrade inventory the upgraded server no longer holds. */
  missing_since_inventory?: string[];
}

interface JobStatus {
  status?: { conditions?: { type: string; status: string; message?: string }[]; active?: number };
}
interface PodList {
  items: { metadata: { name: string; creationTimestamp?: string } }[];
}

interface WaitOptions {
  stack: string;
  report: string;
  timeoutMs: number;
  pollMs: number;
  job?: string;
  kubeconfig?: string;
  inventory?: string;
}

function parse(argv: string[]): WaitOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      "timeout-minutes": { type: "string" },
      report: { type: "string" },
      job: { type: "string" },
      inventory: { type: "string" },
      kubeconfig: { type: "string" },
      "poll-seconds": { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const problems: string[] = [];
  if (!values.stack) problems.push("--stack is required");
  if (!values.report) problems.push("--report is required");
  const timeout = Number(values["timeout-minutes"]);
  if (!values["timeout-minutes"] || !Number.isFinite(timeout) || timeout <= 0) {
    problems.push("--timeout-minutes must be a positive number");
  }
  const poll = values["poll-seconds"] === undefined ? 10 : Number(values["poll-seconds"]);
  if (!Number.isFinite(poll) || poll <= 0) problems.push("--poll-seconds must be a positive number");
  if (problems.length) throw new UsageError(problems.join("; "));
  return {
    stack: values.stack!,
    report: values.report!,
    timeoutMs: timeout * 60000,
    pollMs: poll * 1000,
    job: values.job,
    kubeconfig: values.kubeconfig,
    inventory: values.inventory,
  };
}

export async function main(argv: string[], io: CliIo, env: CliEnv, deps: WaitDeps = {}): Promise<number> {
  return runTool(TOOL, io, async () => {
    const opts = parse(argv);
    if (opts === "help") return printUsage(TOOL, io);
    const { job, target } = resolveJob(opts, env, deps);
    const result = await waitForJob(opts, job, target, deps);
    // Only an upgrade has an inventory; a deploy that moved nothing copied none.
    if (opts.inventory && fs.existsSync(opts.inventory) && result.report) {
      result.missing_since_inventory = missingSinceInventory(
        JSON.parse(fs.readFileSync(opts.inventory, "utf8")) as Record<string, never>,
        result.report,
      );
      result.ok &&= result.missing_since_inventory.length === 0;
    }
    fs.mkdirSync(path.dirname(path.resolve(opts.report)), { recursive: true });
    fs.writeFileSync(opts.report, JSON.stringify(result, null, 2));
    for (const line of summary(result, opts)) io.stdout(`${line}\n`);
    return result.ok ? 0 : 1;
  });
}

/** The Job to wait for and the cluster it runs in: from the flags, else $KUBECONFIG, else the stack's outputs. */
function resolveJob(opts: WaitOptions, env: CliEnv, deps: WaitDeps): { job: string; target: KubeTarget } {
  const needOutputs = !opts.job || (!opts.kubeconfig && !env.KUBECONFIG);
  const outputs = needOutputs ? (deps.readOutputs ?? readStackOutputs)(opts.stack) : {};
  const job = opts.job ?? String(outputs.postUpgradeJob ?? "");
  if (!job) {
    throw new UsageError(
      `stack ${opts.stack} has no output postUpgradeJob (deployed before the post-upgrade Job existed?); pass --job`,
    );
  }
  const kubeconfigFile = opts.kubeconfig ?? env.KUBECONFIG;
  const kubeconfig = kubeconfigFile
    ? fs.readFileSync(kubeconfigFile, "utf8")
    : typeof outputs.kubeconfig === "string"
      ? outputs.kubeconfig
      : JSON.stringify(outputs.kubeconfig ?? "");
  return { job, target: (deps.kube ?? ((k) => targetFromKubeconfig(k)))(kubeconfig) };
}

/** Polls the Job until it completes, fails or the timeout passes; then reads the report its pod logged. */
async function waitForJob(opts: WaitOptions, job: string, target: KubeTarget, deps: WaitDeps): Promise<WaitResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const base = `/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${encodeURIComponent(job)}`;
  const result: WaitResult = {
    stack: opts.stack,
    job,
    namespace: NAMESPACE,
    job_status: "timeout",
    waited_seconds: 0,
    ok: false,
    report: null,
  };

  for (;;) {
    try {
      const status = ((await kubeGet(target, base)) as JobStatus).status ?? {};
      const done = (type: string) => status.conditions?.find((c) => c.type === type && c.status === "True");
      if (done("Complete")) result.job_status = "complete";
      else if (done("Failed")) {
        result.job_status = "failed";
        result.problem = done("Failed")?.message;
      }
      if (result.job_status !== "timeout") break;
    } catch (e) {
      // Not created yet (pulumi up still running) is worth waiting for; anything else too, until the timeout.
      result.problem = (e as Error).message;
      if (e instanceof KubeError && e.status === 404) result.job_status = "missing";
    }
    if (now() - started >= opts.timeoutMs) {
      if (result.job_status !== "missing") result.job_status = "timeout";
      break;
    }
    result.job_status = "timeout";
    await sleep(opts.pollMs);
  }
  result.waited_seconds = Math.round((now() - started) / 1000);

  if (result.job_status === "complete" || result.job_status === "failed") {
    try {
      result.report = (await reportOfJob(target, job)) ?? null;
      if (!result.report) result.problem = `the Job's log carries no ${POST_UPGRADE_REPORT_PREFIX.trim()} line`;
    } catch (e) {
      result.problem = (e as Error).message;
    }
  }
  result.ok = result.job_status === "complete" && result.report?.ok === true;
  return result;
}

/** The report line in the log of the Job's newest pod. */
async function reportOfJob(target: KubeTarget, job: string): Promise<PostUpgradeReport | undefined> {
  const selector = encodeURIComponent(`job-name=${job}`);
  const pods = (await kubeGet(target, `/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=${selector}`)) as PodList;
  const byAge = [...pods.items].sort((a, b) =>
    String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
  );
  const pod = byAge.pop();
  if (!pod) return undefined;
  const logPath = `/api/v1/namespaces/${NAMESPACE}/pods/${encodeURIComponent(pod.metadata.name)}/log?container=${POST_UPGRADE_CONTAINER}`;
  return reportFromLog(String(await kubeGet(target, logPath, true)), POST_UPGRADE_REPORT_PREFIX);
}

/** What the deploy log shows: one line when green, else each failed entry and why the wait failed. */
function summary(result: WaitResult, opts: WaitOptions): string[] {
  const { job } = result;
  if (result.ok) {
    const entries = result.report!.entries.length;
    return [
      `post-upgrade: ${job} green (${entries} entr${entries === 1 ? "y" : "ies"}, ${result.waited_seconds}s); report ${opts.report}`,
    ];
  }
  const lines = [...(result.report ? failureLines(result.report) : []), ...(result.missing_since_inventory ?? [])];
  if (result.job_status === "timeout") {
    const why = result.problem ? ` (${result.problem})` : "";
    lines.push(`post-upgrade: FAILED: Job ${job} did not finish within ${opts.timeoutMs / 60000} minutes${why}`);
  } else if (result.job_status === "missing")
    lines.push(`post-upgrade: FAILED: Job ${NAMESPACE}/${job} was never found`);
  else if (!result.report) {
    lines.push(`post-upgrade: FAILED: Job ${job} ${result.job_status}: ${result.problem ?? "no report"}`);
  }
  lines.push(`report: ${opts.report}`);
  return lines;
}
