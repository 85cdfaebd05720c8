// `npm run bump -- --stack staging --version 0.99.0 [--dir .]`
import { parseArgs } from "node:util";
import { PinFileError } from "./pin-file";
import { bump } from "./version-change";
import { dossierForPullRequest } from "../upgrade-notes/dossier";

const USAGE = "usage: npm run bump -- --stack <staging|prod> --version X.Y.Z [--dir .]";

try {
  // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
  const { values } = parseArgs({ options: { stack: { type: "string" }, version: { type: "string" }, dir: { type: "string", default: process.cwd() }, help: { type: "boolean" } }, strict: true });
  if (values.help) process.stdout.write(`${USAGE}\nSets that stack's version pin (only that line changes) and prints the pull request to open. Exit 0 changed or already there, 2 refused.\n`);
  else if (!values.stack || !values.version) throw new PinFileError(USAGE);
  else process.stdout.write(bump(values.dir!, values.stack, values.version, (from, to) => dossierForPullRequest(values.dir!, from, to)).message + "\n");
} catch (err) {
  process.stderr.write(`bump: ${(err as Error).message}\n`);
  process.exit(err instanceof PinFileError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1);
}
