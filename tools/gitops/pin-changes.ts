// `npm run --silent pin-changes -- --base <rev> [--dir .]`: one line "<stack> <part> <from> <to>" per
// part whose pin differs between <rev> and the working tree ("none" when the stack file is new or
// the part was not pinned there: an add-on at AWS's default, MLflow off). The preview workflow feeds
// each line to `npm run upgrade-notes` for the PR's dossier comment.
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { listStacks, stackFilePath } from "../offline/stack-files";
import { PinFileError, pinnedVersions, readPin } from "./pin-file";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";

export interface PinChange {
  stack: string;
  part: string;
  from: string;
  to: string;
}

export function pinChanges(dir: string, base: string): PinChange[] {
  const changes: PinChange[] = [];
  for (const stack of listStacks(dir)) {
    const file = `Pulumi.${stack}.yaml`;
    const now = pinnedVersions(readPin(stackFilePath(dir, stack)).text, file);
    let before: Record<string, string> = {};
    try {
      before = pinnedVersions(
        execFileSync("git", ["-C", dir, "show", `${base}:${file}`], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        }),
        file,
      );
    } catch {
      // Not in <base>: a new stack file.
    }
    for (const [part, to] of Object.entries(now))
      if (before[part] !== to) changes.push({ stack, part, from: before[part] ?? "none", to });
  }
  return changes;
}

const TOOL: ToolSpec = {
  name: "pin-changes",
  usage:
    "usage: npm run --silent pin-changes -- --base <rev> [--dir .]\nPrints <stack> <part> <from> <to> per changed pin.",
  badInput: (err) => err instanceof PinFileError,
};

export async function main(argv: string[], io: CliIo, _env: CliEnv): Promise<number> {
  return runTool(TOOL, io, () => {
    // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
    const { values } = parseArgs({
      args: argv,
      options: { base: { type: "string" }, dir: { type: "string", default: process.cwd() }, help: { type: "boolean" } },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    if (!values.base) throw new UsageError("--base is required");
    for (const c of pinChanges(values.dir, values.base)) io.stdout(`${c.stack} ${c.part} ${c.from} ${c.to}\n`);
    return 0;
  });
}
