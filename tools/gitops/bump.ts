// `npm run bump -- --stack staging [--part kubernetes] --version 1.34 [--dir .]`
import { parseArgs } from "node:util";
import { partsInOrder } from "../../components/parts";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { planOnDemand, type Planner } from "../offline/plan-result";
import { PinFileError } from "./pin-file";
import { bump } from "./version-change";
import { dossierSourceFor } from "../upgrade-notes/part-dossier";

const USAGE = `usage: npm run bump -- --stack <staging|prod> [--part <part>] --version <version> [--dir .]
Sets one part's pin in that stack's file (only its line changes) and prints the pull request to open.
Parts: ${partsInOrder()
  .map((p) => p.name)
  .join(", ")} (default zenml). Exit 0 changed or already there, 2 refused.`;

const TOOL: ToolSpec = { name: "bump", usage: USAGE, badInput: (err) => err instanceof PinFileError };

/** `planner` stands in for the plan a Kubernetes or MySQL dossier reads (tests plan through their cache). */
export async function main(argv: string[], io: CliIo, _env: CliEnv, planner: Planner = planOnDemand): Promise<number> {
  return runTool(TOOL, io, async () => {
    // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
    const { values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        part: { type: "string", default: "zenml" },
        version: { type: "string" },
        dir: { type: "string", default: process.cwd() },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    if (!values.stack || !values.version) throw new UsageError("--stack and --version are required");
    const dossier = await dossierSourceFor(values.dir, values.stack, values.part, planner);
    io.stdout(
      bump(values.dir, { stack: values.stack, part: values.part, version: values.version }, dossier).message + "\n",
    );
    return 0;
  });
}
