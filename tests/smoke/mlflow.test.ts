import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../tools/smoke/mlflow-cli";
import { captureTool } from "../helpers/cli";
import { SMOKE_EXPERIMENT, SMOKE_METRIC, runMlflowSmoke, type MlflowSmokeConfig } from "../../tools/smoke/mlflow";
import { json, startFake, type FakeServer, type Handler } from "./fake-server";

const USER = "admin";
const PASSWORD = "mlflow-admin-password-0123";
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

interface FakeRun { info: { run_id: string; status: string; start_time: number }; data: { metrics: { key: string; value: number }[]; tags: { key: string; value: string }[] } }

/** A fake MLflow tracking server with basic auth on, keeping experiments and runs in memory. */
function mlflowRoutes(version: string, state: { experiments: Map<string, string>; runs: Map<string, FakeRun> }, opts: { authOff?: boolean; forgetRuns?: boolean } = {}): Map<string, Handler> {
  const authed = (h: Handler): Handler => (q, res) => (opts.authOff || q.headers.authorization === BASIC ? h(q, res) : json(res, 401, { error_code: "UNAUTHENTICATED" }));
  const param = (q: { body: string }, key: string) => (JSON.parse(q.body || "{}") as Record<string, unknown>)[key];
  let next = 1;
  return new Map<string, Handler>([
    ["GET /health", (_q, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end("OK"); }],
    ["GET /version", authed((_q, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end(version); })],
    ["GET /api/2.0/mlflow/experiments/search", authed((_q, res) => json(res, 200, { experiments: [] }))],
    ["GET /api/2.0/mlflow/users/get", authed((_q, res) => json(res, 200, { user: { username: USER, is_admin: true } }))],
    ["GET /api/2.0/mlflow/experiments/get-by-name", authed((_q, res) => {
      const id = state.experiments.get(SMOKE_EXPERIMENT);
      if (id) json(res, 200, { experiment: { experiment_id: id, name: SMOKE_EXPERIMENT } });
      else json(res, 404, { error_code: "RESOURCE_DOES_NOT_EXIST" });
    })],
    ["POST /api/2.0/mlflow/experiments/create", authed((q, res) => { const id = String(next++); state.experiments.set(String(param(q, "name")), id); json(res, 200, { experiment_id: id }); })],
    ["POST /api/2.0/mlflow/runs/create", authed((q, res) => {
      const id = `run-${next++}`;
      const run: FakeRun = { info: { run_id: id, status: "RUNNING", start_time: Number(param(q, "start_time")) }, data: { metrics: [], tags: param(q, "tags") as FakeRun["data"]["tags"] } };
      state.runs.set(id, run);
      json(res, 200, { run });
    })],
    ["POST /api/2.0/mlflow/runs/log-metric", authed((q, res) => { state.runs.get(String(param(q, "run_id")))!.data.metrics.push({ key: String(param(q, "key")), value: Number(param(q, "value")) }); json(res, 200, {}); })],
    ["POST /api/2.0/mlflow/runs/update", authed((q, res) => { state.runs.get(String(param(q, "run_id")))!.info.status = String(param(q, "status")); json(res, 200, {}); })],
    ["GET /api/2.0/mlflow/runs/get", authed((q, res) => {
      const run = state.runs.get(new URLSearchParams(q.query).get("run_id") ?? "");
      if (run) json(res, 200, { run });
      else json(res, 404, { error_code: "RESOURCE_DOES_NOT_EXIST" });
    })],
    ["POST /api/2.0/mlflow/runs/search", authed((_q, res) => json(res, 200, { runs: opts.forgetRuns ? [] : [...state.runs.values()].sort((a, b) => b.info.start_time - a.info.start_time) }))],
  ]);
}

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const config = (url: string, extra: Partial<MlflowSmokeConfig> = {}): MlflowSmokeConfig => ({ url, username: USER, password: PASSWORD, expectVersion: "3.17.2", timeoutMs: 2000, retries: 0, backoffMs: 1, maxBackoffMs: 1, ...extra });

describe("MLflow smoke against a fake tracking server", () => {
  it("records a run before the upgrade and reads it back after it", async () => {
    const state = { experiments: new Map<string, string>(), runs: new Map<string, FakeRun>() };
    fake = await startFake(mlflowRoutes("2.22.5", state));
    const before = await runMlflowSmoke(config(fake.url, { expectVersion: "2.22.5" }), { clock: () => 1_700_000_000_250 });
    expect(before.ok, JSON.stringify(before.steps)).toBe(true);
    expect(before.steps.map((s) => s.name)).toEqual(["health", "anonymous-refused", "login", "version", "experiment", "run-with-metric", "earlier-run"]);
    expect(before.steps.find((s) => s.name === "experiment")!.detail).toMatch(/created/);
    expect(before.steps.at(-1)!.detail).toBe("no earlier smoke run (first deploy)");
    const recorded = [...state.runs.keys()][0];
    await fake.close();

    fake = await startFake(mlflowRoutes("3.17.2", state));
    const after = await runMlflowSmoke(config(fake.url), { clock: () => 1_700_000_100_500 });
    expect(after.ok, JSON.stringify(after.steps)).toBe(true);
    expect(after.steps.find((s) => s.name === "experiment")!.detail).toMatch(/exists/);
    expect(after.steps.at(-1)!.detail).toBe(`run ${recorded} recorded on 2.22.5 reads back ${SMOKE_METRIC}=0.25`);
    // Credentials never leave the request headers.
    expect(JSON.stringify(after)).not.toContain(PASSWORD);
  });

  it("fails when the tracking API accepts a wrong password", async () => {
    const state = { experiments: new Map<string, string>(), runs: new Map<string, FakeRun>() };
    const routes = mlflowRoutes("3.17.2", state);
    // Any Basic header passes, none is refused: a server that checks presence, not the password.
    routes.set("GET /api/2.0/mlflow/experiments/search", (q, res) => (q.headers.authorization ? json(res, 200, { experiments: [] }) : json(res, 401, {})));
    fake = await startFake(routes);
    const r = await runMlflowSmoke(config(fake.url));
    expect(r.steps.find((s) => s.status === "fail")).toMatchObject({ name: "anonymous-refused", detail: "the tracking API answers a wrong password: authentication is off" });
  });

  it("fails when the tracking API answers without credentials", async () => {
    fake = await startFake(mlflowRoutes("3.17.2", { experiments: new Map(), runs: new Map() }, { authOff: true }));
    const r = await runMlflowSmoke(config(fake.url));
    expect(r.ok).toBe(false);
    expect(r.steps.find((s) => s.status === "fail")).toMatchObject({ name: "anonymous-refused", detail: "the tracking API answers without credentials: authentication is off" });
  });

  it("fails on the wrong version and on a pre-upgrade run that is gone", async () => {
    const state = { experiments: new Map<string, string>(), runs: new Map<string, FakeRun>() };
    fake = await startFake(mlflowRoutes("3.16.0", state));
    const wrong = await runMlflowSmoke(config(fake.url));
    expect(wrong.steps.find((s) => s.status === "fail")).toMatchObject({ name: "version", detail: "version is 3.16.0, expected 3.17.2" });
    await fake.close();
    fake = await startFake(mlflowRoutes("3.17.2", state));
    const gone = await runMlflowSmoke(config(fake.url, { expectRun: "run-recorded-before" }));
    expect(gone.steps.find((s) => s.status === "fail")).toMatchObject({ name: "earlier-run", detail: "run run-recorded-before recorded before is gone" });
  });

  it("the CLI refuses to run without credentials (exit 2, one line)", async () => {
    const { code, stderr } = await captureTool(main, ["--url", "https://mlflow.example.com", "--expect-version", "3.17.2"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^smoke:mlflow: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD must be set/);
  });
});

describe("smoke:mlflow --stack", () => {
  it("passes with a note when the stack runs no MLflow, without contacting anything", async () => {
    const { code, stdout } = await captureTool(main, ["--stack", "staging"], {}, { readOutputs: () => ({ serverUrl: "https://zenml.example.com", mlflowUrl: null }) });
    expect(code).toBe(0);
    expect(stdout).toMatch(/runs no MLflow/);
  });

  it("checks the stack's own server with its admin password, which it never prints", async () => {
    const state = { experiments: new Map<string, string>(), runs: new Map<string, FakeRun>() };
    fake = await startFake(mlflowRoutes("3.17.2", state));
    const outputs = { mlflowUrl: fake.url, partVersions: { mlflow: "3.17.2" }, mlflowAdminPassword: PASSWORD };
    const { code, stdout, stderr } = await captureTool(main, ["--stack", "staging", "--json"], {}, { readOutputs: () => outputs });
    expect(code).toBe(0);
    expect(stdout + stderr).not.toContain(PASSWORD);
  });

  it("refuses a stack that serves MLflow without its version or password, and --stack mixed with --url (exit 2)", async () => {
    const err: string[] = [];
    const run = async (argv: string[], outputs: Record<string, unknown>) => {
      const r = await captureTool(main, argv, {}, { readOutputs: () => outputs });
      err.push(r.stderr);
      return r.code;
    };
    expect(await run(["--stack", "prod"], { mlflowUrl: "https://mlflow.example.com", mlflowAdminPassword: "x" })).toBe(2);
    expect(err.pop()).toMatch(/reports no partVersions\.mlflow/);
    expect(await run(["--stack", "prod"], { mlflowUrl: "https://mlflow.example.com", partVersions: { mlflow: "3.17.2" } })).toBe(2);
    expect(err.pop()).toMatch(/reports no mlflowAdminPassword/);
    expect(await run(["--stack", "prod", "--url", "https://x.example.com"], {})).toBe(2);
    expect(err.pop()).toMatch(/either --stack or --url/);
  });
});
