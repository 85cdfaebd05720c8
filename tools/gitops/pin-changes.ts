// `npm run --silent pin-changes -- --base <rev> [--dir .]`: one line "<stack> <part> <from> <to>" per
// part whose pin differs between <rev> and the working tree ("none" when the stack file is new or
// the part was not pinned there: an add-on at AWS's default, MLflow off). The preview workflow feeds
// each line to `npm run upgrade-notes` for the PR's dossier comment.
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { listStacks, stackFilePath } from "../offline/stack-files";
import { PinFileError, pinnedVersions, readPin } from "./pin-file";

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
      before = pinnedVersions(execFileSync("git", ["-C", dir, "show", `${base}:${file}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }), file);
    } catch {
      // Not in <base>: a new stack file.
    }
    for (const [part, to] of Object.entries(now)) if (before[part] !== to) changes.push({ stack, part, from: before[part] ?? "none", to });
  }
  return changes;
}

if (require.main === module) {
  try {
    // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
    const { values } = parseArgs({ options: { base: { type: "string" }, dir: { type: "string", default: process.cwd() }, help: { type: "boolean" } }, strict: true });
    if (values.help || !values.base) {
      process.stdout.write("usage: npm run --silent pin-changes -- --base <rev> [--dir .]\nPrints <stack> <part> <from> <to> per changed pin.\n");
      process.exitCode = values.help ? 0 : 2;
    } else {
      for (const c of pinChanges(values.dir!, values.base)) process.stdout.write(`${c.stack} ${c.part} ${c.from} ${c.to}\n`);
    }
  } catch (err) {
    process.stderr.write(`pin-changes: ${(err as Error).message.split("\n")[0]}\n`);
    process.exitCode = err instanceof PinFileError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
}
