// `npm run upgrade-notes -- --from X.Y.Z --to X.Y.Z [--json]`: the upgrade dossier on stdout
// (Markdown for a PR, or JSON). Exit 2 + one line per problem for a bad request (unknown
// version, downgrade, bad flag); exit 1 when it cannot be built (offline, unreadable wheel).
import * as path from "node:path";
import { parseArgs } from "node:util";
import { buildDossier, DossierError, renderMarkdown } from "./dossier";

const USAGE = "usage: npm run upgrade-notes -- --from X.Y.Z --to X.Y.Z [--json]";

export interface CliResult { code: number; stdout: string; stderr: string }

export function upgradeNotes(argv: string[], projectDir = path.resolve(__dirname, "../..")): CliResult {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { from: { type: "string" }, to: { type: "string" }, json: { type: "boolean", default: false }, help: { type: "boolean", default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) return { code: 0, stdout: USAGE + "\n", stderr: "" };
    const dossier = buildDossier(projectDir, values.from, values.to);
    return { code: 0, stdout: values.json ? JSON.stringify(dossier, null, 2) + "\n" : renderMarkdown(dossier), stderr: "" };
  } catch (err) {
    const usage = (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    const message = usage ? `${(err as Error).message.split("\n")[0]} (${USAGE})` : (err as Error).message;
    return { code: err instanceof DossierError ? err.exitCode : usage ? 2 : 1, stdout: "", stderr: message.split("\n").map((l) => `upgrade-notes: ${l}\n`).join("") };
  }
}

if (require.main === module) {
  const result = upgradeNotes(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.code;
}
