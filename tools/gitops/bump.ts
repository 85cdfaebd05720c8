// `npm run bump -- --stack staging [--part kubernetes] --version 1.34 [--dir .]`
import { parseArgs } from "node:util";
import { partsInOrder } from "../../components/parts";
import { runFromCommandLine, type CliIo } from "../cli-io";
import { planOnDemand, type Planner } from "../offline/plan-result";
import { PinFileError } from "./pin-file";
import { bump } from "./version-change";
import { dossierSourceFor } from "../upgrade-notes/part-dossier";

const USAGE = `usage: npm run bump -- --stack <staging|prod> [--part <part>] --version <version> [--dir .]
Sets one part's pin in that stack's file (only its line changes) and prints the pull request to open.
Parts: ${partsInOrder().map((p) => p.name).join(", ")} (default zenml). Exit 0 changed or already there, 2 refused.`;

/** The whole CLI, in-process (the tests) as from the command line; returns the exit code. */
export async function main(argv: string[], io: CliIo, planner: Planner = planOnDemand): Promise<number> {
  try {
    // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
    const { values } = parseArgs({ args: argv, options: { stack: { type: "string" }, part: { type: "string", default: "zenml" }, version: { type: "string" }, dir: { type: "string", default: process.cwd() }, help: { type: "boolean" } }, strict: true });
    if (values.help) {
      io.stdout(USAGE + "\n");
      return 0;
    }
    if (!values.stack || !values.version) throw new PinFileError(USAGE.split("\n")[0]);
    const dossier = await dossierSourceFor(values.dir!, values.stack, values.part!, planner);
    io.stdout(bump(values.dir!, { stack: values.stack, part: values.part, version: values.version }, dossier).message + "\n");
    return 0;
  } catch (err) {
    io.stderr(`bump: ${(err as Error).message}\n`);
    return err instanceof PinFileError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
}

if (require.main === module) runFromCommandLine(main);
