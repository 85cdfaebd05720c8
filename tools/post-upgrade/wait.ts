// npm run post-upgrade:wait -- --stack <env> --timeout-minutes <N> --report <path>
// Waits for the environment's post-upgrade Job (stack output postUpgradeJob), writes its JSON
// report to <path>, prints one line per failed entry. Exit 0 green, 1 red or timeout, 2 bad usage.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { POST_UPGRADE_CONTAINER, POST_UPGRADE_NAMESPACE as NAMESPACE, POST_UPGRADE_REPORT_PREFIX } from "../../components/post-upgrade/pipeline-catalogue";
import { UsageError } from "../smoke/args";
import { readStackOutputs } from "../smoke/pulumi-stack";
import { KubeError, kubeGet, targetFromKubeconfig, type KubeTarget } from "./kube";
import { failureLines, reportFromLog, type PostUpgradeReport } from "./report";

export const USAGE = `usage: npm run --silent post-upgrade:wait -- --stack <env> --timeout-minutes <N> --report <path>
  [--job <name>]           the Job to wait for (default: the stack output postUpgradeJob)
  [--kubeconfig <file>]    default: $KUBECONFIG, else the stack output kubeconfig
  [--poll-seconds <N>]     default 10`;

export interface WaitIO {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
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
}

interface JobStatus { status?: { conditions?: { type: string; status: string; message?: string }[]; active?: number } }
interface PodList { items: { metadata: { name: string; creationTimestamp?: string } }[] }

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { stack: { type: "string" }, "timeout-minutes": { type: "string" }, report: { type: "string" }, job: { type: "string" }, kubeconfig: { type: "string" }, "poll-seconds": { type: "string" }, help: { type: "boolean" } },
    strict: true,
  });
  if (values.help) return { help: true as const };
  const problems: string[] = [];
  if (!values.stack) problems.push("--stack is required");
  if (!values.report) problems.push("--report is required");
  const timeout = Number(values["timeout-minutes"]);
  if (!values["timeout-minutes"] || !Number.isFinite(timeout) || timeout <= 0) problems.push("--timeout-minutes must be a positive number");
  const poll = values["poll-seconds"] === undefined ? 10 : Number(values["poll-seconds"]);
  if (!Number.isFinite(poll) || poll <= 0) problems.push("--poll-seconds must be a positive number");
  if (problems.length) throw new UsageError(problems.join("; "));
  return { help: false as const, stack: values.stack!, report: values.report!, timeoutMs: timeout * 60000, pollMs: poll * 1000, job: values.job, kubeconfig: values.kubeconfig };
}

export async function main(io: WaitIO): Promise<number> {
  let opts: ReturnType<typeof parse>;
  let target: KubeTarget;
  let job: string;
  try {
    opts = parse(io.argv);
    if (opts.help) {
      io.stdout(USAGE);
      return 0;
    }
    const needOutputs = !opts.job || (!opts.kubeconfig && !io.env.KUBECONFIG);
    const outputs = needOutputs ? (io.readOutputs ?? readStackOutputs)(opts.stack) : {};
    job = opts.job ?? String(outputs.postUpgradeJob ?? "");
    if (!job) throw new UsageError(`stack ${opts.stack} has no output postUpgradeJob (deployed before the post-upgrade Job existed?); pass --job`);
    const kubeconfigFile = opts.kubeconfig ?? io.env.KUBECONFIG;
    const kubeconfig = kubeconfigFile ? fs.readFileSync(kubeconfigFile, "utf8") : typeof outputs.kubeconfig === "string" ? outputs.kubeconfig : JSON.stringify(outputs.kubeconfig ?? "");
    target = (io.kube ?? ((k) => targetFromKubeconfig(k)))(kubeconfig);
  } catch (e) {
    if (e instanceof UsageError || e instanceof KubeError || (e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || (e as NodeJS.ErrnoException).code === "ENOENT") {
      io.stderr(`post-upgrade:wait: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const now = io.now ?? Date.now;
  const sleep = io.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const base = `/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${encodeURIComponent(job)}`;
  const result: WaitResult = { stack: opts.stack, job, namespace: NAMESPACE, job_status: "timeout", waited_seconds: 0, ok: false, report: null };

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
      const pods = (await kubeGet(target, `/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=${encodeURIComponent(`job-name=${job}`)}`)) as PodList;
      const pod = [...pods.items].sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp))).pop();
      if (pod) {
        const log = String(await kubeGet(target, `/api/v1/namespaces/${NAMESPACE}/pods/${encodeURIComponent(pod.metadata.name)}/log?container=${POST_UPGRADE_CONTAINER}`, true));
        result.report = reportFromLog(log, POST_UPGRADE_REPORT_PREFIX) ?? null;
      }
      if (!result.report) result.problem = `the Job's log carries no ${POST_UPGRADE_REPORT_PREFIX.trim()} line`;
    } catch (e) {
      result.problem = (e as Error).message;
    }
  }
  result.ok = result.job_status === "complete" && result.report?.ok === true;
  fs.mkdirSync(path.dirname(path.resolve(opts.report)), { recursive: true });
  fs.writeFileSync(opts.report, JSON.stringify(result, null, 2));

  if (result.ok) {
    io.stdout(`post-upgrade: ${job} green (${result.report!.entries.length} entr${result.report!.entries.length === 1 ? "y" : "ies"}, ${result.waited_seconds}s); report ${opts.report}`);
    return 0;
  }
  if (result.report) for (const line of failureLines(result.report)) io.stdout(line);
  if (result.job_status === "timeout") io.stdout(`post-upgrade: FAILED: Job ${job} did not finish within ${opts.timeoutMs / 60000} minutes${result.problem ? ` (${result.problem})` : ""}`);
  else if (result.job_status === "missing") io.stdout(`post-upgrade: FAILED: Job ${NAMESPACE}/${job} was never found`);
  else if (!result.report) io.stdout(`post-upgrade: FAILED: Job ${job} ${result.job_status}: ${result.problem ?? "no report"}`);
  io.stdout(`report: ${opts.report}`);
  return 1;
}

if (require.main === module) {
  main({ argv: process.argv.slice(2), env: process.env, stdout: (s) => process.stdout.write(`${s}\n`), stderr: (s) => process.stderr.write(`${s}\n`) }).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`post-upgrade:wait: internal error: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
