// `npm run promote [-- --dir .]`: prod's pin := staging's pin.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PinFileError } from "./pin-file";
import { promote } from "./version-change";
import { dossierForPullRequest } from "../upgrade-notes/dossier";

try {
  const { values } = parseArgs({ options: { dir: { type: "string", default: path.resolve(__dirname, "../..") } }, strict: true });
  process.stdout.write(promote(values.dir!, (from, to) => dossierForPullRequest(values.dir!, from, to)).message + "\n");
} catch (err) {
  process.stderr.write(`promote: ${(err as Error).message}\n`);
  process.exit(err instanceof PinFileError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1);
}
