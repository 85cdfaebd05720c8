// `node --require ./tools/loader/register.cjs <file>.ts`: how this project's TypeScript runs (the
// plan CLI, `pulumi preview`/`up` through Pulumi.yaml's nodeargs). Each .ts file is transpiled by
// esbuild when first required; nothing is type-checked here, because `npm run typecheck` checks
// everything once in CI and a type error fails the PR there. Only .ts files are hooked: the
// thousands of .js files of node_modules load as plain Node loads them, which is what makes this
// cheaper than a general-purpose loader (tsx, ts-node), and Node's own source-map support stays
// off because it would parse every dependency's maps. Stack frames in our .ts files are mapped
// back to their lines here instead.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { SourceMap } = require("node:module");
const esbuild = require("esbuild");

const tsconfigRaw = fs.readFileSync(path.join(__dirname, "..", "..", "tsconfig.json"), "utf8");
/** filename -> raw map text, parsed into a SourceMap on the first stack trace that needs it */
const maps = new Map();

function mappedFrame(frame) {
  const file = frame.getFileName();
  const raw = file && maps.get(file);
  if (raw === undefined) return `    at ${frame}`;
  if (typeof raw === "string") maps.set(file, new SourceMap(JSON.parse(raw)));
  const entry = maps.get(file).findEntry(frame.getLineNumber() - 1, frame.getColumnNumber() - 1);
  if (entry.originalLine === undefined) return `    at ${frame}`;
  const where = `${file}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  const fn = frame.getFunctionName() ?? frame.getMethodName();
  return fn ? `    at ${frame.isConstructor() ? "new " : ""}${fn} (${where})` : `    at ${where}`;
}

const nodePrepareStackTrace = Error.prepareStackTrace;
Error.prepareStackTrace = (error, frames) =>
  frames.some((f) => maps.has(f.getFileName()))
    ? [String(error), ...frames.map(mappedFrame)].join("\n")
    : nodePrepareStackTrace
      ? nodePrepareStackTrace(error, frames)
      : [String(error), ...frames.map((f) => `    at ${f}`)].join("\n");

require.extensions[".ts"] = function compileTypeScript(module, filename) {
  const { code, map } = esbuild.transformSync(fs.readFileSync(filename, "utf8"), {
    loader: "ts",
    format: "cjs",
    platform: "node",
    target: `node${process.versions.node.split(".")[0]}`,
    sourcemap: "external",
    sourcefile: filename,
    tsconfigRaw,
  });
  maps.set(filename, map);
  module._compile(code, filename);
};
