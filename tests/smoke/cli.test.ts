import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../tools/smoke/cli";
import { captureTool } from "../helpers/cli";
import { readStackTarget } from "../../tools/smoke/pulumi-stack";
import { API_KEY, TOKEN, closedPortUrl, healthyRoutes, startFake, type FakeServer } from "./fake-server";

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function cli(argv: string[], env: Record<string, string | undefined> = { ZENML_API_KEY: API_KEY }, readStack?: typeof readStackTarget) {
  const r = await captureTool(main, argv, env, { readStack });
  // Each write ends its line; the assertions read the text without the last newline.
  return { code: r.code, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr.replace(/\n$/, "") };
}

describe("smoke CLI", () => {
  it("exits 0 with a table naming every step and its timing", async () => {
    fake = await startFake();
    const r = await cli(["--url", fake.url, "--expect-version", "0.98.0"]);
    expect(r.code).toBe(0);
    for (const s of ["health", "info", "login", "current-user", "stacks"]) {
      expect(r.stdout).toMatch(new RegExp(`^${s}\\s+PASS\\s+\\d+\\.\\d\\ds\\s+1\\s`, "m"));
    }
    expect(r.stdout).toMatch(/^OK: http:\/\/127\.0\.0\.1:\d+ runs ZenML 0\.98\.0/m);
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it("--json prints a parseable report and nothing else on stdout", async () => {
    fake = await startFake(healthyRoutes("0.97.0"));
    const r = await cli(["--url", fake.url, "--expect-version", "0.98.0", "--json", "--retries", "0"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; steps: Array<{ name: string; status: string; detail: string }> };
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ["health", "pass"], ["info", "fail"], ["login", "skip"], ["current-user", "skip"], ["stacks", "skip"], ["wrong-key-refused", "skip"],
    ]);
    expect(report.steps[1].detail).toBe("version is 0.97.0, expected 0.98.0");
  });

  it("exits 1 with a one-line reason on a 401", async () => {
    fake = await startFake();
    const r = await cli(["--url", fake.url, "--expect-version", "0.98.0"], { ZENML_API_KEY: "ZENKEY_revoked_key_123" });
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n").at(-1)).toMatch(/^FAILED at login: HTTP 401 on POST \/api\/v1\/login: API key rejected/);
    expect(r.stdout + r.stderr).not.toContain("ZENKEY_revoked_key_123");
  });

  it("exits 1 with a one-line reason when the server is down", async () => {
    const url = await closedPortUrl();
    const r = await cli(["--url", url, "--expect-version", "0.98.0", "--retries", "1", "--backoff-ms", "1"]);
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n").at(-1)).toMatch(/^FAILED at health: connection refused by 127\.0\.0\.1:\d+/);
  });

  it("exits 2 when ZENML_API_KEY is missing", async () => {
    const r = await cli(["--url", "http://127.0.0.1:1", "--expect-version", "0.98.0"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ZENML_API_KEY is not set/);
  });

  it("exits 2 on bad arguments and prints usage with --help", async () => {
    expect((await cli(["--expect-version", "0.98.0"])).code).toBe(2);
    const h = await cli(["--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--expect-version <X\.Y\.Z>/);
  });

  it("--stack reads url and version from the stack outputs", async () => {
    fake = await startFake();
    const seen: string[] = [];
    const r = await cli(["--stack", "staging"], { ZENML_API_KEY: API_KEY }, (s) => {
      seen.push(s);
      return { url: fake!.url, version: "0.98.0" };
    });
    expect(seen).toEqual(["staging"]);
    expect(r.code).toBe(0);
  });

  it("--stack checks that the environment's registered ZenML stack still exists", async () => {
    fake = await startFake();
    const present = await cli(["--stack", "staging", "--json"], { ZENML_API_KEY: API_KEY }, () => ({ url: fake!.url, version: "0.98.0", zenmlStack: "default" }));
    expect(present.code).toBe(0);
    const missing = await cli(["--stack", "staging", "--retries", "0"], { ZENML_API_KEY: API_KEY }, () => ({ url: fake!.url, version: "0.98.0", zenmlStack: "aws-staging" }));
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toMatch(/aws-staging/);
  });

  it("--stack without the pulumi CLI on PATH says so", async () => {
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      const r = await cli(["--stack", "staging"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/needs the pulumi CLI, which is not on PATH/);
    } finally {
      process.env.PATH = saved;
    }
  });
});
