// `npm run mirror-check [-- --json] [--staging-file F] [--prod-file F] [--allow F]`
// Exit 0: the stacks mirror each other; 1: violations (report says what and where); 2: bad input.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ProgramFailed, planOnDemand, type Planner } from "./offline/plan-result";
import { StackFileError } from "./offline/stack-files";
import { MirrorInputError, checkMirror } from "./mirror/check";
import { renderReport } from "./mirror/compare";
import { printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "./cli-io";

const USAGE = `usage: npm run mirror-check -- [--json] [--staging-file FILE] [--prod-file FILE] [--allow FILE]
  Plans staging and prod offline and fails (exit 1) on any difference mirror.allow.yaml does not allow.
  --json               machine-readable report for CI: { ok, violations, allowed, unusedAllowances }
  --staging-file FILE  plan staging from FILE instead of Pulumi.staging.yaml (e.g. a PR's version)
  --prod-file FILE     plan prod from FILE instead of Pulumi.prod.yaml
  --allow FILE         read the allowed differences from FILE instead of mirror.allow.yaml
Exit codes: 0 mirrored, 1 violations, 2 bad input (arguments, stack files, allow list, config).
`;

const TOOL: ToolSpec = {
  name: "mirror-check",
  usage: USAGE,
  badInput: (err) =>
    err instanceof MirrorInputError ||
    err instanceof StackFileError ||
    (err instanceof ProgramFailed && err.userFacing),
};

/** Tests plan through their cache instead of running the program for each check. */
export interface MirrorCheckDeps {
  planner?: Planner;
}

export async function main(argv: string[], io: CliIo, _env: CliEnv, deps: MirrorCheckDeps = {}): Promise<number> {
  return runTool(TOOL, io, async () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
        "staging-file": { type: "string" },
        "prod-file": { type: "string" },
        allow: { type: "string" },
      },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    const projectDir = path.resolve(__dirname, "..");
    const abs = (f?: string) => (f ? path.resolve(f) : undefined);
    const result = await checkMirror({
      projectDir,
      stagingFile: abs(values["staging-file"]),
      prodFile: abs(values["prod-file"]),
      allowFile: abs(values.allow),
      planner: deps.planner ?? planOnDemand,
    });
    if (values.json) {
      const report = {
        ok: result.violations.length === 0,
        violations: result.violations,
        allowed: result.differences.filter((d) => d.allowed),
        unusedAllowances: result.unused,
      };
      io.stdout(JSON.stringify(report, null, 2) + "\n");
    } else {
      io.stdout(renderReport(result.left, result.right, result.differences, result.unused));
    }
    return result.violations.length === 0 ? 0 : 1;
  });
}
