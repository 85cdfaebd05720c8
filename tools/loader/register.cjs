// `node --require ./tools/loader/register.cjs <file>.ts`: how this project's TypeScript runs (the
// plan CLI, `pulumi preview`/`up` through Pulumi.yaml's nodeargs). Each .ts file is transpiled by
// esbuild when first required; nothing is type-checked here, because `npm run typecheck` checks
// everything once in CI and a type error fails the PR there. Only .ts files are hooked: the
// thousands of .js files of node_modules load as plain Node loads them, which is what makes this
// cheaper than a general-purpose loader (tsx, ts-node), and Node's own source-map support stays
// off because it would parse every dependency's maps. Stack frames in our .ts files are mapped
// back to their lines here instead.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { SourceMap } = require("node:module");
const { plainFormat, skippingPromiseRecords } = require("./promise-stacks.cjs");

const projectDir = path.join(__dirname, "..", "..");
const tsconfigRaw = fs.readFileSync(path.join(projectDir, "tsconfig.json"), "utf8");
// Transpiled files are kept by content, so a run whose files are all known never starts esbuild
// (its service process is a good part of a short CLI's start-up). Deleting the folder is safe.
const cacheDir = path.join(projectDir, "node_modules", ".cache", "zenml-platform", "ts");
let esbuild;
let salt;
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
Error.prepareStackTrace = skippingPromiseRecords((error, frames) =>
  frames.some((f) => maps.has(f.getFileName())) ? [String(error), ...frames.map(mappedFrame)].join("\n") : (nodePrepareStackTrace ?? plainFormat)(error, frames));

function transpile(source, filename) {
  esbuild ??= require("esbuild");
  const { code, map } = esbuild.transformSync(source, {
    loader: "ts",
    format: "cjs",
    platform: "node",
    target: `node${process.versions.node.split(".")[0]}`,
    sourcemap: "external",
    sourcefile: filename,
    tsconfigRaw,
  });
  return { code, map };
}

require.extensions[".ts"] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  // What the output depends on besides the source: the compiler, its options, the target, the path.
  salt ??= `${require("esbuild/package.json").version}\0${tsconfigRaw}\0${process.versions.node.split(".")[0]}`;
  const key = crypto.createHash("sha256").update(salt).update("\0").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(cacheDir, `${key}.json`);
  let output;
  try {
    output = JSON.parse(fs.readFileSync(cached, "utf8"));
  } catch {
    output = transpile(source, filename);
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const partial = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(partial, JSON.stringify(output));
      fs.renameSync(partial, cached); // whole or absent, with several processes at once
    } catch {
      // a read-only tree still runs, only slower
    }
  }
  maps.set(filename, output.map);
  module._compile(output.code, filename);
};
