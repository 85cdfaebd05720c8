// The MLflow tracking server's smoke steps: health, version, authentication (anonymous refused,
// admin accepted), a new experiment and run with a metric read back, and a run recorded before
// the upgrade read back unchanged.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { MLFLOW_ADMIN_USER } from "../../components/mlflow/mlflow-policy";
import { UsageError } from "../cli-io";
import { normalizeUrl } from "./args";
import { runSteps, type SmokeReport, type StepResult } from "./checks";
import { StepFailure, oneLine, requestJson } from "./http";

/** Every smoke run records into this experiment, so the next run (after an upgrade) can read it back. */
export const SMOKE_EXPERIMENT = "zenml-platform-smoke";
export const SMOKE_METRIC = "smoke_value";
const VERSION_TAG = "zenml-platform.smoke.server_version";

export interface MlflowSmokeConfig {
  url: string;
  username: string;
  password: string;
  expectVersion: string;
  /** A run id that must read back (the one recorded before an upgrade). Default: the newest earlier smoke run, if any. */
  expectRun?: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
}

interface Ctx {
  cfg: MlflowSmokeConfig;
  experimentId?: string;
  runId?: string;
  value?: number;
}

type Body = Record<string, unknown>;

function field(body: unknown, path: string, what: string): unknown {
  let v: unknown = body;
  for (const key of path.split(".")) v = v !== null && typeof v === "object" ? (v as Body)[key] : undefined;
  if (v === undefined) throw new StepFailure("check", `${what}: the answer has no ${path}`, false);
  return v;
}

export function buildMlflowSteps(cfg: MlflowSmokeConfig, clock: () => number = Date.now): { name: string; run(ctx: Ctx): Promise<string> }[] {
  const t = cfg.timeoutMs;
  const auth = { authorization: `Basic ${Buffer.from(`${cfg.username}:${cfg.password}`).toString("base64")}` };
  const get = (path: string) => requestJson({ method: "GET", url: `${cfg.url}${path}`, headers: auth, timeoutMs: t });
  const post = (path: string, json: unknown) => requestJson({ method: "POST", url: `${cfg.url}${path}`, headers: auth, json, timeoutMs: t });
  const metricOf = (run: unknown): number | undefined => {
    const metrics = (field(run, "run.data", "runs/get") as Body).metrics;
    const found = Array.isArray(metrics) ? (metrics as Body[]).find((m) => m.key === SMOKE_METRIC) : undefined;
    return typeof found?.value === "number" ? found.value : undefined;
  };
  return [
    {
      name: "health",
      async run() {
        const r = await requestJson({ method: "GET", url: `${cfg.url}/health`, timeoutMs: t, expect: "text" });
        return `HTTP ${r.status} ${oneLine(String(r.body), 40)}`;
      },
    },
    {
      // A server that accepts anyone passes every other step: prove anonymous and wrong credentials are refused.
      name: "anonymous-refused",
      async run() {
        const refused = async (headers: Record<string, string>, what: string) => {
          try {
            await requestJson({ method: "GET", url: `${cfg.url}/api/2.0/mlflow/experiments/search?max_results=1`, headers, timeoutMs: t });
          } catch (e) {
            if (e instanceof StepFailure && e.kind === "unauthorized") return;
            throw e;
          }
          throw new StepFailure("check", `the tracking API answers ${what}: authentication is off`, false);
        };
        await refused({}, "without credentials");
        await refused({ authorization: `Basic ${Buffer.from(`${cfg.username}:wrong-${randomBytes(9).toString("hex")}`).toString("base64")}` }, "a wrong password");
        return "anonymous and wrong-password requests refused (401)";
      },
    },
    {
      name: "login",
      async run() {
        const r = await get(`/api/2.0/mlflow/users/get?username=${encodeURIComponent(cfg.username)}`);
        const user = field(r.body, "user.username", "users/get");
        return `logged in as ${String(user)}`;
      },
    },
    {
      name: "version",
      async run() {
        const r = await requestJson({ method: "GET", url: `${cfg.url}/version`, headers: auth, timeoutMs: t, expect: "text" });
        const got = String(r.body).trim();
        // Retryable: while the Deployment rolls out an old pod may still answer.
        if (got !== cfg.expectVersion) throw new StepFailure("check", `version is ${oneLine(got, 40)}, expected ${cfg.expectVersion}`, true);
        return `MLflow ${got}`;
      },
    },
    {
      name: "experiment",
      async run(ctx) {
        try {
          const r = await get(`/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(SMOKE_EXPERIMENT)}`);
          ctx.experimentId = String(field(r.body, "experiment.experiment_id", "experiments/get-by-name"));
          return `experiment ${SMOKE_EXPERIMENT} (${ctx.experimentId}) exists`;
        } catch (e) {
          // MLflow answers 404 RESOURCE_DOES_NOT_EXIST for a name it does not know.
          if (!(e instanceof StepFailure && /HTTP 404/.test(e.message))) throw e;
        }
        const r = await post("/api/2.0/mlflow/experiments/create", { name: SMOKE_EXPERIMENT });
        ctx.experimentId = String(field(r.body, "experiment_id", "experiments/create"));
        return `experiment ${SMOKE_EXPERIMENT} created (${ctx.experimentId})`;
      },
    },
    {
      name: "run-with-metric",
      async run(ctx) {
        const now = clock();
        const created = await post("/api/2.0/mlflow/runs/create", { experiment_id: ctx.experimentId, start_time: now, run_name: `smoke-${cfg.expectVersion}`, tags: [{ key: VERSION_TAG, value: cfg.expectVersion }] });
        ctx.runId = String(field(created.body, "run.info.run_id", "runs/create"));
        ctx.value = (now % 1000) / 1000;
        await post("/api/2.0/mlflow/runs/log-metric", { run_id: ctx.runId, key: SMOKE_METRIC, value: ctx.value, timestamp: now, step: 0 });
        await post("/api/2.0/mlflow/runs/update", { run_id: ctx.runId, status: "FINISHED", end_time: clock() });
        const back = metricOf((await get(`/api/2.0/mlflow/runs/get?run_id=${ctx.runId}`)).body);
        if (back !== ctx.value) throw new StepFailure("check", `run ${ctx.runId} reads back ${SMOKE_METRIC}=${String(back)}, logged ${ctx.value}`, false);
        return `run ${ctx.runId} logged and read back ${SMOKE_METRIC}=${ctx.value}`;
      },
    },
    {
      name: "earlier-run",
      async run(ctx) {
        let runId = cfg.expectRun;
        if (runId === undefined) {
          const r = await post("/api/2.0/mlflow/runs/search", { experiment_ids: [ctx.experimentId], order_by: ["attributes.start_time DESC"], max_results: 10 });
          const runs = ((r.body as Body).runs ?? []) as Body[];
          const earlier = runs.map((x) => String(field(x, "info.run_id", "runs/search"))).find((id) => id !== ctx.runId);
          if (earlier === undefined) return "no earlier smoke run (first deploy)";
          runId = earlier;
        }
        let run: unknown;
        try {
          run = (await get(`/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}`)).body;
        } catch (e) {
          if (e instanceof StepFailure && /HTTP 404/.test(e.message)) throw new StepFailure("check", `run ${runId} recorded before is gone`, false);
          throw e;
        }
        const status = field(run, "run.info.status", "runs/get");
        const metrics = (field(run, "run.data", "runs/get") as Body).metrics;
        const count = Array.isArray(metrics) ? metrics.length : 0;
        // A smoke run must keep the value it logged; any other run (--expect-run) its metrics.
        const tag = ((run as { run?: { data?: { tags?: Body[] } } }).run?.data?.tags ?? []).find((x) => x.key === VERSION_TAG);
        const value = metricOf(run);
        if (status !== "FINISHED" || count === 0 || (tag && value === undefined)) {
          throw new StepFailure("check", `run ${runId} reads back status ${String(status)} with ${count} metric(s)${tag ? `, ${SMOKE_METRIC}=${String(value)}` : ""}`, false);
        }
        return tag ? `run ${runId} recorded on ${String(tag.value)} reads back ${SMOKE_METRIC}=${value}` : `run ${runId} reads back ${count} metric(s)`;
      },
    },
  ];
}

export async function runMlflowSmoke(cfg: MlflowSmokeConfig, opts: { sleep?: (ms: number) => Promise<void>; onStep?: (r: StepResult) => void; clock?: () => number } = {}): Promise<SmokeReport> {
  return runSteps(buildMlflowSteps(cfg, opts.clock), { cfg } as Ctx, { ...cfg, secrets: () => [cfg.password, Buffer.from(`${cfg.username}:${cfg.password}`).toString("base64")] }, cfg.url, cfg.expectVersion, opts);
}

export const MLFLOW_USAGE = `Usage: npm run smoke:mlflow -- --url <mlflow url> --expect-version <X.Y.Z> [--expect-run <run id>] [--json]
       npm run smoke:mlflow -- --stack <stack> [--json]

  --stack <stack>           read url, version and admin password from the stack's outputs; passes
                            with a note when the stack runs no MLflow (mlflowVersion unset)
  --url <url>               MLflow tracking server base URL (http/https)
  --expect-version <X.Y.Z>  version /version must report
  --expect-run <id>         a run recorded before the upgrade that must read back (default: the newest earlier smoke run, if any)
  --timeout <seconds>       per-request timeout (default 10)
  --retries <n>             retries per step while the server rolls out (default 5)
  --json                    print a JSON report instead of the table

Environment: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (required); never printed.
Exit codes: 0 all steps passed, 1 a step failed, 2 usage/configuration error.`;

/** What a deployed stack says about its MLflow server; "off" when it runs none. */
export type MlflowStackTarget = "off" | { url: string; expectVersion: string; username: string; password: string };

/** Pure: url, version and credentials out of `pulumi stack output --json --show-secrets`. */
export function mlflowTargetFromOutputs(outputs: Record<string, unknown>, stack: string): MlflowStackTarget {
  const url = outputs.mlflowUrl;
  if (url === null || url === undefined || url === "") return "off";
  const version = (outputs.partVersions as Record<string, unknown> | undefined)?.mlflow;
  const password = outputs.mlflowAdminPassword;
  if (typeof url !== "string") throw new UsageError(`stack ${stack}: output mlflowUrl is not a string`);
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+$/.test(version)) throw new UsageError(`stack ${stack} serves MLflow at ${url} but reports no partVersions.mlflow`);
  if (typeof password !== "string" || password === "") throw new UsageError(`stack ${stack} serves MLflow but reports no mlflowAdminPassword`);
  return { url: normalizeUrl(url), expectVersion: version, username: MLFLOW_ADMIN_USER, password };
}

export function parseMlflowArgs(argv: string[], env: Record<string, string | undefined>): MlflowSmokeConfig & { json: boolean; help: boolean; stack?: string } {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        url: { type: "string" },
        stack: { type: "string" },
        "expect-version": { type: "string" },
        "expect-run": { type: "string" },
        timeout: { type: "string" },
        retries: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const help = v.help ?? false;
  const number = (name: string, raw: string | undefined, def: number) => {
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number >= 0, got "${raw}"`);
    return n;
  };
  const base = { json: v.json ?? false, help, timeoutMs: number("timeout", v.timeout, 10) * 1000, retries: Math.floor(number("retries", v.retries, 5)), backoffMs: 1000, maxBackoffMs: 30000 };
  if (help) return { ...base, url: "", username: "", password: "", expectVersion: "" };
  if (v.stack !== undefined) {
    if (v.url !== undefined || v["expect-version"] !== undefined) throw new UsageError("--stack reads url and version from the stack: give either --stack or --url with --expect-version");
    return { ...base, stack: v.stack, url: "", username: "", password: "", expectVersion: "", expectRun: v["expect-run"] };
  }
  if (v.url === undefined) throw new UsageError("--url is required (or --stack)");
  if (v["expect-version"] === undefined || !/^\d+\.\d+\.\d+$/.test(v["expect-version"])) throw new UsageError(`--expect-version must be X.Y.Z, got "${v["expect-version"] ?? ""}"`);
  const username = env.MLFLOW_TRACKING_USERNAME ?? "";
  const password = env.MLFLOW_TRACKING_PASSWORD ?? "";
  if (!username || !password) throw new UsageError("MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD must be set (the server runs with authentication on)");
  return { ...base, url: normalizeUrl(v.url), expectVersion: v["expect-version"], expectRun: v["expect-run"], username, password };
}
