// How `pulumi preview` starts this program, without the Pulumi CLI: the Node language host reads
// Pulumi.yaml's runtime options and runs `node <nodeargs> @pulumi/pulumi/cmd/run ... <main>` with
// the options in PULUMI_NODEJS_* variables. Here the engine is replaced by the offline mocks
// (cmd-run-mocks.cjs), so the time measured is the SDK loading and running the program.
import * as fs from "node:fs";
import * as path from "node:path";
import { transformSync } from "esbuild";
import { parse } from "yaml";
import { ORGANIZATION, steadyStateOutputs } from "../offline/plan-inputs";
import { readProjectFile, readStackConfig } from "../offline/stack-files";

export interface RuntimeOptions {
  typescript?: boolean;
  tsconfig?: string;
  nodeargs?: string;
}

export interface LoaderCommand {
  argv: string[];
  env: Record<string, string>;
  /** Written when the run ends: `{ registered: string[] }`, the type of every resource registered. */
  report: string;
}

/** `runtime.options` of Pulumi.yaml, as the language host reads them. */
export function projectRuntimeOptions(projectDir: string): RuntimeOptions {
  const doc = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { runtime?: string | { options?: RuntimeOptions } };
  return typeof doc.runtime === "object" ? (doc.runtime.options ?? {}) : {};
}

/**
 * The offline mocks as JavaScript, next to node_modules so that their `@pulumi/pulumi` is the
 * runner's: the preload must not register a TypeScript hook of its own.
 */
function compiledMocks(projectDir: string): string {
  const dir = path.join(projectDir, "node_modules", ".cache", "zenml-platform");
  const compile = (name: string, out: string) => {
    const source = path.join(projectDir, "tools", "offline", `${name}.ts`);
    fs.writeFileSync(path.join(dir, out), transformSync(fs.readFileSync(source, "utf8"), { loader: "ts", format: "cjs", platform: "node", target: "node20" }).code);
  };
  fs.mkdirSync(dir, { recursive: true });
  // The mocks answer from outputs.ts (`require("./outputs")`), compiled beside them.
  compile("outputs", "outputs.js");
  compile("mocks", "offline-mocks.cjs");
  return path.join(dir, "offline-mocks.cjs");
}

/** The node command line and environment the language host would use for a preview of `stack`. */
export function previewLoadCommand(projectDir: string, stack: string, options: RuntimeOptions, extraEnv: Record<string, string> = {}): LoaderCommand {
  const project = readProjectFile(projectDir).name;
  const main = (parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { main?: string }).main ?? ".";
  const config = readStackConfig(projectDir, stack);
  const runner = path.dirname(require.resolve("@pulumi/pulumi/cmd/run/index.js", { paths: [projectDir] }));
  const report = path.join(projectDir, "node_modules", ".cache", "zenml-platform", `preview-load-${stack}.json`);
  const nodeargs = (options.nodeargs ?? "").split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {
    PULUMI_NODEJS_TYPESCRIPT: String(options.typescript ?? true),
    PULUMI_CONFIG: JSON.stringify(config.values),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(config.secretKeys),
    ZP_MOCKS_MODULE: compiledMocks(projectDir),
    ZP_MOCK_REPORT: report,
    ZP_MOCK_PROJECT: project,
    ZP_MOCK_STACK: stack,
    ZP_MOCK_ORGANIZATION: ORGANIZATION,
    ZP_MOCK_REGION: config.values["aws:region"] ?? "us-east-1",
    ZP_MOCK_STACK_OUTPUTS: JSON.stringify(steadyStateOutputs(projectDir, project)),
    ...extraEnv,
  };
  if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
  const argv = [
    ...nodeargs,
    "--require",
    path.join(__dirname, "cmd-run-mocks.cjs"),
    runner,
    "--monitor=mock",
    "--engine=mock",
    `--organization=${ORGANIZATION}`,
    `--project=${project}`,
    `--stack=${stack}`,
    "--dry-run",
    `--pwd=${projectDir}`,
    main,
  ];
  return { argv, env, report };
}
