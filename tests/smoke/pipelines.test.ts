// smoke:pipelines with a stand-in interpreter: what it hands pytest, how it reads the results.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { main, parseJunit } from "../../tools/smoke/pipelines";
import { captureTool, linesOf } from "../helpers/cli";

const KEY = "ZENKEY_pipelines_secret_value";
const OUTPUTS = { serverUrl: "https://zenml.staging.example.com/", zenmlVersion: "0.98.0", zenmlStackName: "aws-staging" };

const JUNIT_RED = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="3">
<testcase classname="test_pipeline_smoke" name="test_server_version" time="0.5" />
<testcase classname="test_pipeline_smoke" name="test_smoke_pipeline_runs_to_completion" time="41.2"><failure message="AssertionError: smoke run ended failed&#10;assert False">trace</failure></testcase>
<testcase classname="test_pipeline_smoke" name="test_seed_run_survived_upgrade" time="0.0"><skipped type="pytest.skip" message="ZENML_SMOKE_SEED_FILE not set: no pre-upgrade seed to check">skip</skipped></testcase>
</testsuite></testsuites>`;

/** A fake python: records its environment, writes `junit` where pytest would, exits `code`. */
function fakePython(junit: string, code: number): { python: string; envFile: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-python-"));
  const envFile = path.join(dir, "env.json");
  const python = path.join(dir, "python");
  fs.writeFileSync(path.join(dir, "junit.xml"), junit);
  fs.writeFileSync(
    python,
    `#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
fs.writeFileSync(${JSON.stringify(envFile)}, JSON.stringify({ args, env: process.env }));
fs.copyFileSync(${JSON.stringify(path.join(dir, "junit.xml"))}, args[args.indexOf("--junitxml") + 1]);
process.exit(${code});
`,
    { mode: 0o755 },
  );
  return { python, envFile };
}

async function run(junit: string, code: number, extraEnv: Record<string, string> = {}) {
  const fake = fakePython(junit, code);
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pipelines-report-")), "smoke-pipelines.json");
  const argv = ["--stack", "staging", "--report", report, "--python", fake.python];
  const r = await captureTool(main, argv, { PATH: process.env.PATH, ZENML_API_KEY: KEY, ...extraEnv }, { readOutputs: () => OUTPUTS });
  return { exit: r.code, out: linesOf(r.stdout), err: linesOf(r.stderr), report: fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, "utf8")) : undefined, seen: fs.existsSync(fake.envFile) ? JSON.parse(fs.readFileSync(fake.envFile, "utf8")) : undefined };
}

describe("smoke:pipelines", () => {
  it("runs the smoke suite on the environment's stack with its version and key, and is green only when pytest is", async () => {
    const green = `<testsuites><testsuite><testcase classname="t" name="test_server_version" time="0.4"/><testcase classname="t" name="test_expected_stack_exists" time="0.2"/></testsuite></testsuites>`;
    const r = await run(green, 0, { AWS_REGION: "eu-west-1" });
    expect(r.exit).toBe(0);
    expect(r.seen.args.slice(0, 2)).toEqual(["-m", "pytest"]);
    expect(r.seen.args.at(-1)).toMatch(/\/smoke$/);
    expect(r.seen.env).toMatchObject({ ZENML_STORE_URL: "https://zenml.staging.example.com", ZENML_STORE_API_KEY: KEY, ZENML_SMOKE_EXPECT_VERSION: "0.98.0", ZENML_SMOKE_STACK: "aws-staging", AWS_REGION: "eu-west-1" });
    expect(r.report).toMatchObject({ stack: "staging", version: "0.98.0", zenml_stack: "aws-staging", ok: true, tests: [{ name: "test_server_version", status: "pass" }, { name: "test_expected_stack_exists", status: "pass" }] });
    expect(r.out).toEqual([expect.stringMatching(/^smoke:pipelines: green on staging \(0\.98\.0\): 2 passed, 0 failed, 0 skipped; report /)]);
  });

  it("names each failed test in one line and exits 1", async () => {
    const r = await run(JUNIT_RED, 1);
    expect(r.exit).toBe(1);
    expect(r.out[0]).toBe("smoke:pipelines: FAILED test_smoke_pipeline_runs_to_completion: AssertionError: smoke run ended failed assert False");
    expect(r.report.ok).toBe(false);
    expect(r.report.tests.map((t: { status: string }) => t.status)).toEqual(["pass", "fail", "skip"]);
    expect(JSON.stringify(r.report) + r.out.join("\n") + r.err.join("\n")).not.toContain(KEY);
  });

  it("is red when pytest collected nothing, even with exit 0", async () => {
    const r = await run("<testsuites></testsuites>", 0);
    expect(r.exit).toBe(1);
    expect(r.report.ok).toBe(false);
  });

  it("exits 2 without an API key or a report path", async () => {
    const deps = { readOutputs: () => OUTPUTS };
    const noKey = await captureTool(main, ["--stack", "staging", "--report", "x.json"], {}, deps);
    const noReport = await captureTool(main, ["--stack", "staging"], { ZENML_API_KEY: KEY }, deps);
    expect([noKey.code, noReport.code]).toEqual([2, 2]);
    expect([noKey, noReport].map((r) => r.stderr.split("\n")[0])).toEqual(["smoke:pipelines: ZENML_API_KEY is not set (a service-account API key is needed to log in)", "smoke:pipelines: --stack and --report are required"]);
  });

  it("reads pytest's JUnit XML, including skips and escaped messages", () => {
    expect(parseJunit(JUNIT_RED)).toEqual([
      { name: "test_server_version", status: "pass", detail: "", seconds: 0.5 },
      { name: "test_smoke_pipeline_runs_to_completion", status: "fail", detail: "AssertionError: smoke run ended failed assert False", seconds: 41.2 },
      { name: "test_seed_run_survived_upgrade", status: "skip", detail: "ZENML_SMOKE_SEED_FILE not set: no pre-upgrade seed to check", seconds: 0 },
    ]);
  });
});
