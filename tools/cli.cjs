// `node tools/cli.cjs <tool> [args...]`: the one entry of every npm script that runs our TypeScript.
// It loads tools/loader (esbuild, .ts files only) and runs the tool named like its npm script.
"use strict";
const path = require("node:path");

/**
 * npm script -> the tool's file. `shape: "main"`: the file exports `main(argv, io, env)`
 * (tools/cli-io.ts), called here with the process's arguments, streams and environment.
 * `shape: "script"`: the file runs itself when it is the main module, started as node would start
 * it: the two harnesses (bench times processes, test:engine drives Pulumi's engine and exits).
 */
const TOOLS = {
  "alarm-watch": { file: "tools/alarm-watch.ts", shape: "main" },
  bench: { file: "tools/bench.ts", shape: "script" },
  bump: { file: "tools/gitops/bump.ts", shape: "main" },
  "config:sync": { file: "tools/config/sync.ts", shape: "main" },
  "deploy-record": { file: "tools/gitops/deploy-record.ts", shape: "main" },
  "migration-timing": { file: "tools/migration-timing/cli.ts", shape: "main" },
  "mirror-check": { file: "tools/mirror-check.ts", shape: "main" },
  "pin-changes": { file: "tools/gitops/pin-changes.ts", shape: "main" },
  "pin-images": { file: "tools/images/pin-cli.ts", shape: "main" },
  "lock-images": { file: "tools/images/lock-cli.ts", shape: "main" },
  images: { file: "tools/images/images-cli.ts", shape: "main" },
  "house:limits": { file: "tools/house/limits.ts", shape: "main" },
  plan: { file: "tools/plan.ts", shape: "main" },
  "post-upgrade:wait": { file: "tools/post-upgrade/wait.ts", shape: "main" },
  promote: { file: "tools/gitops/promote.ts", shape: "main" },
  prober: { file: "tools/prober/cli.ts", shape: "main" },
  announce: { file: "tools/announce/cli.ts", shape: "main" },
  "upgrade-window": { file: "tools/gitops/prod-timing.ts", shape: "main" },
  "upgrade-kpis": { file: "tools/kpis/cli.ts", shape: "main" },
  "release-watch": { file: "tools/upgrade-notes/release-watch-cli.ts", shape: "main" },
  smoke: { file: "tools/smoke/cli.ts", shape: "main" },
  "smoke:mlflow": { file: "tools/smoke/mlflow-cli.ts", shape: "main" },
  "smoke:pipelines": { file: "tools/smoke/pipelines.ts", shape: "main" },
  "staging-gate": { file: "tools/gitops/staging-gate.ts", shape: "main" },
  "test:engine": { file: "tools/engine/run.ts", shape: "script" },
  "upgrade-notes": { file: "tools/upgrade-notes/cli.ts", shape: "main" },
};

function run([name, ...args]) {
  const tool = Object.hasOwn(TOOLS, name ?? "") ? TOOLS[name] : undefined;
  if (!tool) {
    process.stderr.write(`cli: ${name === undefined ? "no tool named" : `unknown tool "${name}"`}\n`);
    process.stderr.write(`usage: node tools/cli.cjs <tool> [args...]; tools: ${Object.keys(TOOLS).join(", ")}\n`);
    process.exitCode = 2;
    return;
  }
  require("./loader/register.cjs");
  const file = path.join(__dirname, "..", tool.file);
  // The tool sees the command line it would see if node had started its file.
  process.argv = [process.argv[0], file, ...args];
  if (tool.shape === "main") require("./cli-io.ts").runAsProcess(name, require(file).main, args);
  else require("node:module").runMain();
}

module.exports = { TOOLS };
if (require.main === module) run(process.argv.slice(2));
