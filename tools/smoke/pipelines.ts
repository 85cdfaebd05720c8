// `npm run --silent smoke:pipelines -- --stack <env> --report <path> [--python <interpreter>]`
// Runs the pipeline smoke suite (smoke/, pytest) against a deployed environment, on its ZenML
// stack, with a client of the environment's version. Exit 0 green, 1 a test failed, 2 bad usage.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { readStackOutputs, targetFromOutputs, type StackTarget } from "./pulumi-stack";

const ROOT = path.resolve(__dirname, "../..");
// What the environment's stack flavors need on the client (ZenML names the matching versions).
const STACK_INTEGRATIONS = ["s3", "aws", "kubernetes"];

export const USAGE = `usage: npm run --silent smoke:pipelines -- --stack <env> --report <path>
  [--python <interpreter>]   default: a venv of the stack's ZenML version with its integrations
  env ZENML_API_KEY: a service-account API key (never printed)`;

export interface TestResult {
  name: string;
  status: "pass" | "fail" | "skip";
  detail: string;
  seconds: number;
}
export interface PipelinesReport {
  stack: string;
  url: string;
  version: string;
  zenml_stack: string | null;
  ok: boolean;
  exit_code: number;
  tests: TestResult[];
  seconds: number;
}

const TOOL: ToolSpec = { name: "smoke:pipelines", usage: USAGE };

/** Tests read stand-in stack outputs instead of `pulumi stack output`. */
export interface PipelinesDeps {
  readOutputs?: (stack: string) => Record<string, unknown>;
}

const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&#10;/g, " ")
    .replace(/&amp;/g, "&");

/** Pure: the test cases of a pytest JUnit XML report. */
export function parseJunit(xml: string): TestResult[] {
  const out: TestResult[] = [];
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attr = (n: string) => unescape(new RegExp(`\\b${n}="([^"]*)"`).exec(m[1])?.[1] ?? "");
    const body = m[3] ?? "";
    const bad = /<(failure|error)\b([^>]*)/.exec(body);
    const skipped = /<skipped\b([^>]*)/.exec(body);
    const message = (tag: RegExpExecArray | null) =>
      unescape(/\bmessage="([^"]*)"/.exec(tag?.[tag.length - 1] ?? "")?.[1] ?? "")
        .split("\n")[0]
        .slice(0, 300);
    out.push({
      name: attr("name"),
      status: bad ? "fail" : skipped ? "skip" : "pass",
      detail: bad ? message(bad) : skipped ? message(skipped) : "",
      seconds: Number(attr("time")) || 0,
    });
  }
  return out;
}

function defaultPython(version: string, io: CliIo, env: CliEnv): string {
  const venvs = path.join(ROOT, ".cache", "venvs-deploy");
  const made = spawnSync("bash", [path.join(ROOT, "rehearsal", "ensure-venv.sh"), version, venvs], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (made.status !== 0) {
    throw new UsageError(`cannot build a venv of zenml ${version} (rehearsal/ensure-venv.sh exit ${made.status})`);
  }
  const venv = made.stdout.trim().split("\n").pop()!;
  const marker = path.join(venv, ".integrations-ok");
  if (!fs.existsSync(marker)) {
    io.stderr(`[${TOOL.name}] installing the stack's integrations (${STACK_INTEGRATIONS.join(", ")}) into ${venv}\n`);
    // The CLI writes the list to a file only (its console output goes to stderr).
    const list = path.join(venv, "integrations.txt");
    fs.rmSync(list, { force: true });
    const exportArgs = ["integration", "export-requirements", "--output-file", list, ...STACK_INTEGRATIONS];
    const reqs = spawnSync(path.join(venv, "bin", "zenml"), exportArgs, {
      encoding: "utf8",
      env: { ...env, ZENML_ANALYTICS_OPT_IN: "false" },
    });
    const pip =
      reqs.status === 0
        ? spawnSync(path.join(venv, "bin", "pip"), ["install", "--quiet", "-r", list], {
            stdio: ["ignore", "inherit", "inherit"],
          })
        : reqs;
    if (pip.status !== 0) {
      throw new UsageError(`cannot install the ZenML integrations ${STACK_INTEGRATIONS.join(", ")} into ${venv}`);
    }
    fs.writeFileSync(marker, STACK_INTEGRATIONS.join(" "));
  }
  return path.join(venv, "bin", "python");
}

export async function main(argv: string[], io: CliIo, env: CliEnv, deps: PipelinesDeps = {}): Promise<number> {
  return runTool(TOOL, io, () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        report: { type: "string" },
        python: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    if (!values.stack || !values.report) throw new UsageError("--stack and --report are required");
    const apiKey = env.ZENML_API_KEY ?? "";
    if (!apiKey) throw new UsageError("ZENML_API_KEY is not set (a service-account API key is needed to log in)");
    const target = targetFromOutputs((deps.readOutputs ?? readStackOutputs)(values.stack), values.stack);
    const python = values.python ?? env.SMOKE_PIPELINES_PYTHON ?? defaultPython(target.version, io, env);
    const report = runSuite(python, target, values.stack, apiKey, env, io);
    fs.mkdirSync(path.dirname(path.resolve(values.report)), { recursive: true });
    fs.writeFileSync(values.report, JSON.stringify(report, null, 2));
    const count = (status: TestResult["status"]) => report.tests.filter((t) => t.status === status).length;
    for (const t of report.tests.filter((x) => x.status === "fail"))
      io.stdout(`${TOOL.name}: FAILED ${t.name}: ${t.detail}\n`);
    io.stdout(
      `${TOOL.name}: ${report.ok ? "green" : "RED"} on ${report.stack} (${report.version}): ${count("pass")} passed, ${count("fail")} failed, ${count("skip")} skipped; report ${values.report}\n`,
    );
    return report.ok ? 0 : 1;
  });
}

/** Runs the pytest suite against the stack's server, in a throw-away home, and reads its JUnit report. */
function runSuite(
  python: string,
  target: StackTarget,
  stack: string,
  apiKey: string,
  env: CliEnv,
  io: CliIo,
): PipelinesReport {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "smoke-pipelines-"));
  const junit = path.join(work, "junit.xml");
  const started = Date.now();
  const pytestArgs = [
    "-m",
    "pytest",
    "-p",
    "no:cacheprovider",
    "-q",
    "-rA",
    "--junitxml",
    junit,
    path.join(ROOT, "smoke"),
  ];
  const run = spawnSync(python, pytestArgs, {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      PATH: env.PATH ?? "/usr/bin:/bin",
      HOME: work,
      ZENML_CONFIG_PATH: path.join(work, "zenml"),
      ZENML_STORE_URL: target.url,
      ZENML_STORE_API_KEY: apiKey,
      ZENML_SMOKE_EXPECT_VERSION: target.version,
      ...(target.zenmlStack ? { ZENML_SMOKE_STACK: target.zenmlStack } : {}),
      ZENML_ANALYTICS_OPT_IN: "false",
      // AWS credentials of the deploy job reach the stack's services through ZenML's connector.
      ...Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("AWS_") && v !== undefined)),
    },
  });
  const tests = fs.existsSync(junit) ? parseJunit(fs.readFileSync(junit, "utf8")) : [];
  const exitCode = run.status ?? 1;
  if (tests.length === 0) {
    const tail = (run.stderr || run.stdout || "").trim().split("\n").slice(-3).join(" | ").replaceAll(apiKey, "***");
    io.stderr(`[${TOOL.name}] pytest produced no results (exit ${exitCode}): ${tail}\n`);
  }
  return {
    stack,
    url: target.url,
    version: target.version,
    zenml_stack: target.zenmlStack ?? null,
    ok: exitCode === 0 && tests.some((t) => t.status === "pass") && !tests.some((t) => t.status === "fail"),
    exit_code: exitCode,
    tests,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}
