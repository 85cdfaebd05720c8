// `npm run mirror-check [-- --json] [--staging-file F] [--prod-file F] [--allow F]`
// Exit 0: the stacks mirror each other; 1: violations (report says what and where); 2: bad input.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ProgramFailed } from "./offline/plan";
import { StackFileError } from "./offline/stack-files";
import { MirrorInputError, checkMirror } from "./mirror/check";
import { renderReport } from "./mirror/compare";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { json: { type: "boolean", default: false }, "staging-file": { type: "string" }, "prod-file": { type: "string" }, allow: { type: "string" } }, strict: true });
  const projectDir = path.resolve(__dirname, "..");
  const abs = (f?: string) => (f ? path.resolve(f) : undefined);
  const result = await checkMirror({ projectDir, stagingFile: abs(values["staging-file"]), prodFile: abs(values["prod-file"]), allowFile: abs(values.allow) });
  if (values.json) {
    process.stdout.write(JSON.stringify({ ok: result.violations.length === 0, violations: result.violations, allowed: result.differences.filter((d) => d.allowed), unusedAllowances: result.unused }, null, 2) + "\n");
  } else {
    process.stdout.write(renderReport(result.left, result.right, result.differences, result.unused));
  }
  return result.violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof MirrorInputError || err instanceof StackFileError || (err instanceof ProgramFailed && err.userFacing);
    process.stderr.write(`mirror-check: ${known ? (err as Error).message : err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(known ? 2 : 1);
  },
);
