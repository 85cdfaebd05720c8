// The smoke steps against a ZenML server, and the runner that retries them with backoff.
import { randomBytes } from "node:crypto";
import { backoffDelay } from "./args";
import { FailureKind, StepFailure, oneLine, requestJson } from "./http";

export interface CheckConfig {
  url: string;
  apiKey: string;
  expectVersion: string;
  expectDeployment: string;
  expectDatabase: string;
  expectStack?: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export type StepStatus = "pass" | "fail" | "skip";

export interface StepResult {
  name: string;
  status: StepStatus;
  attempts: number;
  durationMs: number;
  detail: string;
  failureKind?: FailureKind;
}

export interface SmokeReport {
  url: string;
  expectedVersion: string;
  ok: boolean;
  startedAt: string;
  durationMs: number;
  steps: StepResult[];
}

interface Ctx {
  cfg: CheckConfig;
  token?: string;
}

interface Step {
  name: string;
  run(ctx: Ctx): Promise<string>; // returns a one-line detail; throws StepFailure
}

function obj(body: unknown, what: string): Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new StepFailure("check", `${what}: expected a JSON object`, false);
  }
  return body as Record<string, unknown>;
}

function authHeader(ctx: Ctx): Record<string, string> {
  if (!ctx.token) throw new StepFailure("config", "no bearer token (login step did not succeed)", false);
  return { authorization: `Bearer ${ctx.token}` };
}

export function buildSteps(cfg: CheckConfig): Step[] {
  const u = (p: string) => `${cfg.url}${p}`;
  const t = cfg.timeoutMs;
  const steps: Step[] = [
    {
      name: "health",
      async run() {
        const r = await requestJson({ method: "GET", url: u("/health"), timeoutMs: t, expect: "text" });
        return `HTTP ${r.status} ${oneLine(String(r.body), 40)}`;
      },
    },
    {
      name: "info",
      async run() {
        const info = obj((await requestJson({ method: "GET", url: u("/api/v1/info"), timeoutMs: t })).body, "/api/v1/info");
        const got = { version: info.version, deployment_type: info.deployment_type, database_type: info.database_type };
        if (got.version !== cfg.expectVersion) {
          // Retryable: during a rolling update old pods still answer with the old version.
          throw new StepFailure("check", `version is ${String(got.version)}, expected ${cfg.expectVersion}`, true);
        }
        if (got.database_type !== cfg.expectDatabase) {
          throw new StepFailure("check", `database_type is ${String(got.database_type)}, expected ${cfg.expectDatabase}`, false);
        }
        if (got.deployment_type !== cfg.expectDeployment) {
          throw new StepFailure("check", `deployment_type is ${String(got.deployment_type)}, expected ${cfg.expectDeployment}`, false);
        }
        return `version ${got.version}, ${got.database_type}, ${got.deployment_type}`;
      },
    },
    {
      name: "login",
      async run(ctx) {
        if (!cfg.apiKey) throw new StepFailure("config", "ZENML_API_KEY is not set", false);
        const r = await requestJson({ method: "POST", url: u("/api/v1/login"), form: { password: cfg.apiKey }, timeoutMs: t });
        const tok = obj(r.body, "/api/v1/login").access_token;
        if (typeof tok !== "string" || tok.length === 0) {
          throw new StepFailure("check", "login answered without an access_token", false);
        }
        ctx.token = tok;
        return "bearer token issued";
      },
    },
    {
      name: "current-user",
      async run(ctx) {
        const r = await requestJson({ method: "GET", url: u("/api/v1/current-user"), headers: authHeader(ctx), timeoutMs: t });
        const user = obj(r.body, "/api/v1/current-user");
        if (typeof user.name !== "string" || typeof user.id !== "string") {
          throw new StepFailure("check", "current-user has no id/name", false);
        }
        return `user ${user.name}`;
      },
    },
    {
      name: "stacks",
      async run(ctx) {
        const page = await listStacks(ctx, u("/api/v1/stacks?size=100"));
        return `${page.total} stack(s)`;
      },
    },
    {
      // A server that accepts any key passes every other step: prove a wrong one is refused.
      name: "wrong-key-refused",
      async run() {
        const wrongKey = `ZENKEY_smoke_wrong_${randomBytes(12).toString("hex")}`;
        const refusedWith = async (request: () => Promise<unknown>, what: string) => {
          try {
            await request();
          } catch (e) {
            if (e instanceof StepFailure && e.kind === "unauthorized") return;
            throw e;
          }
          throw new StepFailure("check", `${what} was accepted: the server does not check credentials`, false);
        };
        await refusedWith(() => requestJson({ method: "POST", url: u("/api/v1/login"), form: { password: wrongKey }, timeoutMs: t }), "a wrong API key");
        await refusedWith(() => requestJson({ method: "GET", url: u("/api/v1/current-user"), headers: { authorization: `Bearer ${wrongKey}` }, timeoutMs: t }), "a forged bearer token");
        return "a wrong API key and a forged token get 401";
      },
    },
  ];
  if (cfg.expectStack !== undefined) {
    const want = cfg.expectStack;
    steps.push({
      name: "expect-stack",
      async run(ctx) {
        const page = await listStacks(ctx, u(`/api/v1/stacks?name=${encodeURIComponent(want)}`));
        const found = page.items.find((s) => obj(s, "stack").name === want);
        if (!found) throw new StepFailure("check", `stack "${want}" not found`, false);
        return `stack "${want}" exists`;
      },
    });
  }
  return steps;

  async function listStacks(ctx: Ctx, url: string): Promise<{ items: unknown[]; total: number }> {
    const r = await requestJson({ method: "GET", url, headers: authHeader(ctx), timeoutMs: t });
    const page = obj(r.body, "/api/v1/stacks");
    if (!Array.isArray(page.items) || typeof page.total !== "number") {
      throw new StepFailure("check", "/api/v1/stacks is not a page (items, total)", false);
    }
    return { items: page.items, total: page.total };
  }
}

export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Replaces every occurrence of the given secrets in s. */
export function redact(s: string, secrets: Array<string | undefined>): string {
  let out = s;
  for (const sec of secrets) {
    if (sec && sec.length >= 4) out = out.split(sec).join("***");
  }
  return out;
}

/**
 * Runs the steps in order. A step is retried (up to cfg.retries times, exponential backoff)
 * while its failure is retryable; after a failed step the rest are skipped: they depend on it.
 */
export async function runSmoke(
  cfg: CheckConfig,
  opts: { sleep?: Sleep; now?: () => number; onStep?: (r: StepResult) => void } = {},
): Promise<SmokeReport> {
  const ctx: Ctx = { cfg };
  return runSteps(buildSteps(cfg), ctx, { ...cfg, secrets: () => [cfg.apiKey, ctx.token] }, cfg.url, cfg.expectVersion, opts);
}

/** The retrying runner behind runSmoke, for any list of steps over one context (e.g. MLflow's). */
export async function runSteps<C>(
  steps: { name: string; run(ctx: C): Promise<string> }[],
  ctx: C,
  policy: { retries: number; backoffMs: number; maxBackoffMs: number; secrets: () => Array<string | undefined> },
  url: string,
  expectedVersion: string,
  opts: { sleep?: Sleep; now?: () => number; onStep?: (r: StepResult) => void } = {},
): Promise<SmokeReport> {
  const cfg = policy;
  const sleep = opts.sleep ?? realSleep;
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const startedAt = new Date().toISOString();
  const results: StepResult[] = [];
  let failed = false;
  for (const step of steps) {
    if (failed) {
      results.push({ name: step.name, status: "skip", attempts: 0, durationMs: 0, detail: "skipped: an earlier step failed" });
      continue;
    }
    const t0 = now();
    let attempts = 0;
    let result: StepResult | undefined;
    for (;;) {
      attempts++;
      try {
        const detail = await step.run(ctx);
        result = { name: step.name, status: "pass", attempts, durationMs: now() - t0, detail };
        break;
      } catch (e) {
        const f = e instanceof StepFailure ? e : new StepFailure("check", `unexpected error: ${(e as Error).message}`, false);
        if (f.retryable && attempts <= cfg.retries) {
          await sleep(backoffDelay(attempts, cfg.backoffMs, cfg.maxBackoffMs));
          continue;
        }
        const suffix = f.retryable && cfg.retries > 0 ? ` (gave up after ${attempts} attempts)` : "";
        result = { name: step.name, status: "fail", attempts, durationMs: now() - t0, detail: f.message + suffix, failureKind: f.kind };
        failed = true;
        break;
      }
    }
    result.detail = redact(result.detail, policy.secrets());
    results.push(result);
    opts.onStep?.(result);
  }
  return {
    url,
    expectedVersion,
    ok: !failed,
    startedAt,
    durationMs: Math.round(now() - started),
    steps: results,
  };
}
