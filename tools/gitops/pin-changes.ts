// `npm run --silent pin-changes -- --base <rev> [--dir .]`: one line "<stack> <from> <to>" per stack
// whose zenmlVersion pin differs between <rev> and the working tree ("none" when the file is new).
// The preview workflow feeds each line to `npm run upgrade-notes` for the PR's dossier comment.
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { listStacks, stackFilePath } from "../offline/stack-files";
import { locatePin, PinFileError, readPin } from "./pin-file";

export interface PinChange {
  stack: string;
  from: string;
  to: string;
}

export function pinChanges(dir: string, base: string): PinChange[] {
  const changes: PinChange[] = [];
  for (const stack of listStacks(dir)) {
    const file = `Pulumi.${stack}.yaml`;
    const to = readPin(stackFilePath(dir, stack)).pin.value;
    let from = "none";
    try {
      from = locatePin(execFileSync("git", ["-C", dir, "show", `${base}:${file}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }), file).value;
    } catch {
      // Not in <base>: a new stack file.
    }
    if (from !== to) changes.push({ stack, from, to });
  }
  return changes;
}

if (require.main === module) {
  try {
    // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
    const { values } = parseArgs({ options: { base: { type: "string" }, dir: { type: "string", default: process.cwd() }, help: { type: "boolean" } }, strict: true });
    if (values.help || !values.base) {
      process.stdout.write("usage: npm run --silent pin-changes -- --base <rev> [--dir .]\n");
      process.exitCode = values.help ? 0 : 2;
    } else {
      for (const c of pinChanges(values.dir!, values.base)) process.stdout.write(`${c.stack} ${c.from} ${c.to}\n`);
    }
  } catch (err) {
    process.stderr.write(`pin-changes: ${(err as Error).message.split("\n")[0]}\n`);
    process.exitCode = err instanceof PinFileError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
}
