// `npm run images -- plan [--github-output FILE] [--dir .]`
//   What the images workflow builds: each image a stack file's pins need whose digest images.lock.yaml
//   lacks (JSON on stdout; with --github-output: builds, count, base, base-record for the next jobs).
// `npm run images -- scans --stack <stack> [--out image-scans.json] [--dir .]`
//   ECR's scan-on-push results of the built images the stack runs (aws CLI, the deploy's credentials).
// Exit 0 done, 1 a problem (named), 2 bad usage.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { UserFacingError } from "../../components/errors";
import { readImageLock } from "../../components/image-lock";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { StackFileError } from "../offline/stack-files";
import { buildPlan } from "./build-plan";
import { readScans, type Aws } from "./scans";

const USAGE = `usage: npm run images -- plan [--github-output FILE] [--dir .]
       npm run images -- scans --stack <stack> [--out image-scans.json] [--dir .]
`;

const awsCli: Aws = (args) =>
  execFileSync("aws", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });

const TOOL: ToolSpec = { name: "images", usage: USAGE };

/** `aws` stands in for the AWS CLI in tests. */
export async function main(argv: string[], io: CliIo, _env: CliEnv, aws: Aws = awsCli): Promise<number> {
  return runTool(TOOL, io, () => images(argv, io, aws));
}

function images(argv: string[], io: CliIo, aws: Aws): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "github-output": { type: "string" },
      stack: { type: "string" },
      out: { type: "string" },
      dir: { type: "string", default: process.cwd() },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return printUsage(TOOL, io);
  const [command] = positionals;
  try {
    if (command === "plan" && positionals.length === 1) {
      const plan = buildPlan(values.dir!, readImageLock(values.dir!));
      if (plan.problems.length > 0) {
        io.stderr(plan.problems.map((p) => `images: ${p}\n`).join(""));
        return 1;
      }
      if (values["github-output"])
        fs.appendFileSync(
          values["github-output"],
          `builds=${JSON.stringify(plan.builds)}\ncount=${plan.builds.length}\nbase=${plan.base}\nbase-record=${plan.baseRecord}\n`,
        );
      io.stdout(JSON.stringify(plan, null, 2) + "\n");
      return 0;
    }
    if (command === "scans" && positionals.length === 1 && values.stack) {
      const scans = readScans(values.dir!, values.stack, aws);
      const text = JSON.stringify(scans, null, 2) + "\n";
      if (values.out) fs.writeFileSync(values.out, text);
      else io.stdout(text);
      for (const s of scans.scans)
        io.stderr(
          `images: ${s.image} ${s.platform || s.digest} scan ${s.status}${s.detail ? ` (${s.detail})` : ""} ${JSON.stringify(s.severityCounts)}\n`,
        );
      return 0;
    }
  } catch (err) {
    if (!(err instanceof UserFacingError || err instanceof StackFileError)) throw err;
    io.stderr(`images: ${err.message}\n`);
    return 1;
  }
  throw new UsageError("a command is required: plan, or scans --stack <stack>");
}
