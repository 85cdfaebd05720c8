// A smoke check that passes a server accepting any key, or reads an endless body, proves nothing.
import { afterEach, describe, expect, it } from "vitest";
import { runSmoke, type CheckConfig } from "../../tools/smoke/checks";
import { MAX_BODY_BYTES, requestJson, StepFailure } from "../../tools/smoke/http";
import { API_KEY, TOKEN, healthyRoutes, json, startFake, type FakeServer } from "./fake-server";

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const cfg = (url: string): CheckConfig => ({ url, apiKey: API_KEY, expectVersion: "0.98.0", expectDeployment: "kubernetes", expectDatabase: "mysql", timeoutMs: 2000, retries: 0, backoffMs: 1, maxBackoffMs: 1 });
const noSleep = { sleep: async () => {} };

describe("smoke refuses a server that does not check credentials", () => {
  it("fails when any API key logs in", async () => {
    const routes = healthyRoutes();
    routes.set("POST /api/v1/login", (_q, res) => json(res, 200, { access_token: TOKEN, token_type: "bearer" }));
    fake = await startFake(routes);
    const report = await runSmoke(cfg(fake.url), noSleep);
    expect(report.ok).toBe(false);
    expect(report.steps.find((s) => s.name === "wrong-key-refused")).toMatchObject({ status: "fail", detail: expect.stringMatching(/a wrong API key was accepted: the server does not check credentials/) });
  });

  it("fails when any bearer token is accepted", async () => {
    const routes = healthyRoutes();
    routes.set("GET /api/v1/current-user", (_q, res) => json(res, 200, { id: "u-1", name: "anyone" }));
    fake = await startFake(routes);
    const report = await runSmoke(cfg(fake.url), noSleep);
    expect(report.steps.find((s) => s.name === "wrong-key-refused")?.detail).toMatch(/a forged bearer token was accepted/);
  });

  it("sends a wrong key that is neither the real one nor reused", async () => {
    fake = await startFake();
    expect((await runSmoke(cfg(fake.url), noSleep)).ok).toBe(true);
    const keys = fake.requests.filter((q) => q.path === "/api/v1/login").map((q) => new URLSearchParams(q.body).get("password"));
    expect(keys).toHaveLength(2);
    expect(keys[1]).not.toBe(API_KEY);
    expect(keys[1]).toMatch(/^ZENKEY_smoke_wrong_[0-9a-f]{24}$/);
  });
});

describe("smoke caps the body it reads", () => {
  it("stops reading a body over the cap, streamed or announced", async () => {
    const routes = healthyRoutes();
    routes.set("GET /api/v1/info", (_q, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = "x".repeat(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * MAX_BODY_BYTES) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      res.on("error", () => {});
      pump();
    });
    routes.set("GET /health", (_q, res) => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": String(MAX_BODY_BYTES + 1) });
      res.end();
    });
    fake = await startFake(routes);
    const streamed = await requestJson({ method: "GET", url: `${fake.url}/api/v1/info`, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(StepFailure);
    expect((streamed as StepFailure).kind).toBe("too-large");
    expect((streamed as StepFailure).message).toMatch(/sent more than the 1048576-byte cap/);
    const announced = await requestJson({ method: "GET", url: `${fake.url}/health`, timeoutMs: 5000, expect: "text" }).catch((e: unknown) => e);
    expect((announced as StepFailure).message).toMatch(/announced a 1048577-byte body/);
    expect(await requestJson({ method: "GET", url: `${fake.url}/api/v1/stacks`, timeoutMs: 5000, maxBytes: 10 }).catch((e: unknown) => (e as StepFailure).kind)).toBe("too-large");
  });
});
