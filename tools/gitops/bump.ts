// `npm run bump -- --stack staging --version 0.99.0 [--dir .]`
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PinFileError } from "./pin-file";
import { bump } from "./version-change";
import { dossierForPullRequest } from "../upgrade-notes/dossier";

try {
  const { values } = parseArgs({ options: { stack: { type: "string" }, version: { type: "string" }, dir: { type: "string", default: path.resolve(__dirname, "../..") } }, strict: true });
  if (!values.stack || !values.version) throw new PinFileError("usage: npm run bump -- --stack <staging|prod> --version X.Y.Z");
  process.stdout.write(bump(values.dir!, values.stack, values.version, (from, to) => dossierForPullRequest(values.dir!, from, to)).message + "\n");
} catch (err) {
  process.stderr.write(`bump: ${(err as Error).message}\n`);
  process.exit(err instanceof PinFileError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1);
}
