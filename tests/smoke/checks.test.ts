import { afterEach, describe, expect, it } from "vitest";
import { runSmoke, type CheckConfig, type SmokeReport } from "../../tools/smoke/checks";
import { classifyNetworkError } from "../../tools/smoke/http";
import { API_KEY, TOKEN, closedPortUrl, healthyRoutes, json, startFake, type FakeServer } from "./fake-server";

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function cfg(url: string, over: Partial<CheckConfig> = {}): CheckConfig {
  return {
    url,
    apiKey: API_KEY,
    expectVersion: "0.98.0",
    expectDeployment: "kubernetes",
    expectDatabase: "mysql",
    timeoutMs: 2000,
    retries: 2,
    backoffMs: 10,
    maxBackoffMs: 1000,
    ...over,
  };
}

const delays: number[] = [];
const fakeSleep = async (ms: number) => {
  delays.push(ms);
};
const run = (c: CheckConfig) => {
  delays.length = 0;
  return runSmoke(c, { sleep: fakeSleep });
};

const step = (r: SmokeReport, name: string) => r.steps.find((s) => s.name === name)!;
const statuses = (r: SmokeReport) => Object.fromEntries(r.steps.map((s) => [s.name, s.status]));

describe("runSmoke against a fake ZenML server", () => {
  it("passes every step on a healthy server and uses the key/token as the API expects", async () => {
    fake = await startFake();
    const r = await run(cfg(fake.url, { expectStack: "default" }));
    expect(r.ok).toBe(true);
    expect(statuses(r)).toEqual({ health: "pass", info: "pass", login: "pass", "wrong-key-refused": "pass", "current-user": "pass", stacks: "pass", "expect-stack": "pass" });
    expect(step(r, "info").detail).toBe("version 0.98.0, mysql, kubernetes");
    expect(step(r, "stacks").detail).toBe("1 stack(s)");
    const login = fake.requests.find((q) => q.path === "/api/v1/login")!;
    expect(login.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(new URLSearchParams(login.body).get("password")).toBe(API_KEY);
    const cu = fake.requests.find((q) => q.path === "/api/v1/current-user")!;
    expect(cu.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.stringify(r)).not.toContain(API_KEY);
    expect(JSON.stringify(r)).not.toContain(TOKEN);
    for (const s of r.steps) expect(s.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("fails on a wrong version after retrying (a rollout may still be in progress) and skips the rest", async () => {
    fake = await startFake(healthyRoutes("0.97.0"));
    const r = await run(cfg(fake.url, { retries: 2 }));
    expect(r.ok).toBe(false);
    const info = step(r, "info");
    expect(info).toMatchObject({ status: "fail", attempts: 3, failureKind: "check" });
    expect(info.detail).toBe("version is 0.97.0, expected 0.98.0 (gave up after 3 attempts)");
    expect(delays).toEqual([10, 20]);
    expect(statuses(r)).toMatchObject({ login: "skip", "current-user": "skip", stacks: "skip" });
    expect(fake.requests.some((q) => q.path === "/api/v1/login")).toBe(false);
  });

  it("fails on the wrong database or deployment type without retrying", async () => {
    const routes = healthyRoutes();
    routes.set("GET /api/v1/info", (_q, res) => json(res, 200, { version: "0.98.0", deployment_type: "kubernetes", database_type: "sqlite" }));
    fake = await startFake(routes);
    let r = await run(cfg(fake.url));
    expect(step(r, "info")).toMatchObject({ status: "fail", attempts: 1, detail: "database_type is sqlite, expected mysql" });
    r = await run(cfg(fake.url, { expectDatabase: "sqlite", expectDeployment: "aws" }));
    expect(step(r, "info").detail).toBe("deployment_type is kubernetes, expected aws");
  });

  it("reports a rejected API key as a 401 without retrying and without printing the key", async () => {
    fake = await startFake();
    const r = await run(cfg(fake.url, { apiKey: "ZENKEY_wrong_key_value" }));
    const login = step(r, "login");
    expect(login).toMatchObject({ status: "fail", attempts: 1, failureKind: "unauthorized" });
    expect(login.detail).toMatch(/^HTTP 401 on POST \/api\/v1\/login: API key rejected/);
    expect(JSON.stringify(r)).not.toContain("ZENKEY_wrong_key_value");
    expect(delays).toEqual([]);
  });

  it("reports connection refused, retried with backoff", async () => {
    const url = await closedPortUrl();
    const r = await run(cfg(url, { retries: 3, backoffMs: 100, maxBackoffMs: 250 }));
    const h = step(r, "health");
    expect(h).toMatchObject({ status: "fail", attempts: 4, failureKind: "refused" });
    expect(h.detail).toMatch(/^connection refused by 127\.0\.0\.1:\d+: server down or wrong port \(gave up after 4 attempts\)$/);
    expect(delays).toEqual([100, 200, 250]);
  });

  it("reports a timeout when the server does not answer in time", async () => {
    const routes = healthyRoutes();
    routes.set("GET /health", () => {
      /* never answers */
    });
    fake = await startFake(routes);
    const t0 = Date.now();
    const r = await run(cfg(fake.url, { timeoutMs: 300, retries: 1 }));
    expect(step(r, "health")).toMatchObject({ status: "fail", attempts: 2, failureKind: "timeout" });
    expect(step(r, "health").detail).toMatch(/^timed out after 0\.3s waiting for 127\.0\.0\.1:\d+/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("reports a non-JSON answer (e.g. a proxy's HTML page) clearly", async () => {
    const routes = healthyRoutes();
    routes.set("GET /api/v1/info", (_q, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>welcome to nginx</html>");
    });
    fake = await startFake(routes);
    const r = await run(cfg(fake.url));
    expect(step(r, "info")).toMatchObject({
      status: "fail",
      attempts: 1,
      failureKind: "non-json",
      detail: "GET /api/v1/info returned non-JSON (text/html): not a ZenML API?",
    });
  });

  it("retries 503s during a rollout and then succeeds", async () => {
    const routes = healthyRoutes();
    let calls = 0;
    const healthy = routes.get("GET /health")!;
    routes.set("GET /health", (q, res) => (++calls <= 2 ? json(res, 503, { detail: "starting" }) : healthy(q, res)));
    fake = await startFake(routes);
    const r = await run(cfg(fake.url, { retries: 3, backoffMs: 50 }));
    expect(r.ok).toBe(true);
    expect(step(r, "health")).toMatchObject({ status: "pass", attempts: 3 });
    expect(delays).toEqual([50, 100]);
  });

  it("really sleeps between retries when no sleep is injected", async () => {
    const routes = healthyRoutes();
    let calls = 0;
    const healthy = routes.get("GET /health")!;
    routes.set("GET /health", (q, res) => (++calls === 1 ? json(res, 502, {}) : healthy(q, res)));
    fake = await startFake(routes);
    const t0 = Date.now();
    const r = await runSmoke(cfg(fake.url, { backoffMs: 200 }));
    expect(r.ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it("does not follow a redirect and says where it points", async () => {
    const routes = healthyRoutes();
    routes.set("GET /health", (_q, res) => {
      res.writeHead(301, { location: "https://zenml.example.com/health" });
      res.end();
    });
    fake = await startFake(routes);
    const r = await run(cfg(fake.url));
    expect(step(r, "health")).toMatchObject({
      status: "fail",
      attempts: 1,
      detail: "HTTP 301 on GET /health: redirected to https://zenml.example.com/health; check the URL",
    });
  });

  it("fails when the expected ZenML stack does not exist", async () => {
    fake = await startFake();
    const r = await run(cfg(fake.url, { expectStack: "aws-prod" }));
    expect(step(r, "stacks").status).toBe("pass");
    expect(step(r, "expect-stack")).toMatchObject({ status: "fail", detail: 'stack "aws-prod" not found' });
    const q = fake.requests.filter((x) => x.path === "/api/v1/stacks");
    expect(q).toHaveLength(2);
  });

  it("fails when /stacks is not a page", async () => {
    const routes = healthyRoutes();
    routes.set("GET /api/v1/stacks", (_q, res) => json(res, 200, [{ name: "default" }]));
    fake = await startFake(routes);
    const r = await run(cfg(fake.url));
    expect(step(r, "stacks").detail).toBe("/api/v1/stacks: expected a JSON object");
  });

  it("fails when login answers without a token", async () => {
    const routes = healthyRoutes();
    routes.set("POST /api/v1/login", (_q, res) => json(res, 200, { token_type: "bearer" }));
    fake = await startFake(routes);
    const r = await run(cfg(fake.url));
    expect(step(r, "login").detail).toBe("login answered without an access_token");
    expect(step(r, "current-user").status).toBe("skip");
  });

  it("reports a TLS error when https is spoken to a plain-HTTP port", async () => {
    fake = await startFake();
    const r = await run(cfg(fake.url.replace("http://", "https://")));
    expect(step(r, "health")).toMatchObject({ status: "fail", attempts: 1, failureKind: "tls" });
    expect(step(r, "health").detail).toMatch(/^TLS error talking to 127\.0\.0\.1:\d+ \(/);
  });

  it("reports an unresolvable host as a DNS error, without retrying", async () => {
    const r = await run(cfg("http://zenml-smoke.invalid", { timeoutMs: 5000 }));
    expect(step(r, "health")).toMatchObject({ status: "fail", attempts: 1, failureKind: "dns" });
    expect(step(r, "health").detail).toMatch(/^cannot resolve host zenml-smoke\.invalid \((ENOTFOUND|EAI_AGAIN|EAI_NONAME)\): check the URL$/);
  });
});

describe("classifyNetworkError", () => {
  const url = "https://zenml.example.com/health";
  const wrap = (code: string) => Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("x"), { code }) });
  it.each([
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "tls", false],
    ["CERT_HAS_EXPIRED", "tls", false],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "tls", false],
    ["ECONNREFUSED", "refused", true],
    ["ENOTFOUND", "dns", false],
    ["UND_ERR_CONNECT_TIMEOUT", "timeout", true],
    ["ECONNRESET", "connection", true],
  ])("%s -> %s", (code, kind, retryable) => {
    const f = classifyNetworkError(wrap(code), url, 1000);
    expect(f.kind).toBe(kind);
    expect(f.retryable).toBe(retryable);
    expect(f.message).toContain("zenml.example.com");
    expect(f.message).not.toContain("\n");
  });
  it("finds the code inside an AggregateError (happy eyeballs)", () => {
    const agg = Object.assign(new AggregateError([Object.assign(new Error("a"), { code: "ECONNREFUSED" })]), {});
    expect(classifyNetworkError(Object.assign(new TypeError("fetch failed"), { cause: agg }), url, 1000).kind).toBe("refused");
  });
  it("maps an AbortSignal timeout", () => {
    const e = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(classifyNetworkError(e, url, 1500).message).toBe("timed out after 1.5s waiting for zenml.example.com");
  });
});
