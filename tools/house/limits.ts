// The house's size limits, measured the same way by the test that holds them and by anyone who asks
// (`npm run house:limits`): no source file over 400 lines and no function over 120, tests aside.
// TypeScript is measured with the compiler's own parser; Python with its `ast` (one python3 run).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import ts from "typescript";
import { repoFiles } from "../repo-files";

export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 120;

/** Generated, vendored or data-like files the limits do not speak of. */
const IGNORED_DIRS = new Set([
  ".git",
  "node_modules",
  ".cache",
  "tests",
  "golden",
  "__pycache__",
  ".pytest_cache",
  "dist",
]);
const SOURCE = /\.(ts|cts|mts|cjs|mjs|py|sh)$/;

export interface Oversize {
  file: string;
  what: string;
  lines: number;
  limit: number;
}

export function sourceFiles(root: string): string[] {
  return repoFiles(
    root,
    IGNORED_DIRS,
    (name) => SOURCE.test(name) && !name.endsWith(".d.ts") && !name.endsWith(".d.cts"),
  );
}

function typescriptFunctions(file: string, text: string): Oversize[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Oversize[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name =
        (node as ts.FunctionLikeDeclaration).name?.getText(source) ??
        (ts.isConstructorDeclaration(node) ? "constructor" : "(anonymous)");
      if (end - start + 1 > MAX_FUNCTION_LINES)
        found.push({
          file,
          what: `function ${name} (line ${start + 1})`,
          lines: end - start + 1,
          limit: MAX_FUNCTION_LINES,
        });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const PYTHON_FUNCTIONS = `
import ast, json, sys
out = []
for f in sys.argv[1:]:
    tree = ast.parse(open(f, encoding="utf-8").read(), f)
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append([f, n.name, n.lineno, n.end_lineno - n.lineno + 1])
print(json.dumps(out))
`;

function pythonFunctions(root: string, files: string[]): Oversize[] {
  if (files.length === 0) return [];
  const result = spawnSync("python3", ["-c", PYTHON_FUNCTIONS, ...files], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`python3 could not parse the Python sources: ${result.stderr}`);
  return (JSON.parse(result.stdout) as [string, string, number, number][])
    .filter(([, , , lines]) => lines > MAX_FUNCTION_LINES)
    .map(([file, name, line, lines]) => ({
      file,
      what: `function ${name} (line ${line})`,
      lines,
      limit: MAX_FUNCTION_LINES,
    }));
}

/** Every file and function over its limit, files first. */
export function oversize(root: string): Oversize[] {
  const files = sourceFiles(root);
  const found: Oversize[] = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines > MAX_FILE_LINES) found.push({ file, what: "file", lines, limit: MAX_FILE_LINES });
    if (/\.(ts|cts|mts)$/.test(file)) found.push(...typescriptFunctions(file, text));
  }
  found.push(
    ...pythonFunctions(
      root,
      files.filter((f) => f.endsWith(".py")),
    ),
  );
  return found;
}

const TOOL: ToolSpec = {
  name: "house:limits",
  usage:
    "usage: npm run house:limits\nEvery source file within 400 lines and every function within 120 (tests aside); exit 1 naming each one over.",
};

export async function main(argv: string[], io: CliIo, _env: CliEnv): Promise<number> {
  return runTool(TOOL, io, () => {
    const { values } = parseArgs({ args: argv, options: { help: { type: "boolean" } }, strict: true });
    if (values.help) return printUsage(TOOL, io);
    const found = oversize(path.resolve(__dirname, "..", ".."));
    for (const o of found) io.stdout(`${o.file}: ${o.what} has ${o.lines} lines (limit ${o.limit})\n`);
    io.stdout(
      found.length === 0
        ? "house limits: every file and function within its limit\n"
        : `house limits: ${found.length} over\n`,
    );
    return found.length === 0 ? 0 : 1;
  });
}
