// `npm run upgrade-notes -- --from X.Y.Z --to X.Y.Z [--json]`: the upgrade dossier on stdout
// (Markdown for a PR, or JSON). Exit 2 + one line per problem for a bad request (unknown
// version, downgrade, bad flag); exit 1 when it cannot be built (offline, unreadable wheel).
import * as path from "node:path";
import { parseArgs } from "node:util";
import { buildDossier, DossierError, renderMarkdown } from "./dossier";

const USAGE = "usage: npm run upgrade-notes -- --from X.Y.Z --to X.Y.Z [--json]";

try {
  const { values } = parseArgs({
    options: { from: { type: "string" }, to: { type: "string" }, json: { type: "boolean", default: false }, help: { type: "boolean", default: false } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  const dossier = buildDossier(path.resolve(__dirname, "../.."), values.from, values.to);
  process.stdout.write(values.json ? JSON.stringify(dossier, null, 2) + "\n" : renderMarkdown(dossier));
} catch (err) {
  const usage = (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  const message = usage ? `${(err as Error).message.split("\n")[0]} (${USAGE})` : (err as Error).message;
  process.stderr.write(message.split("\n").map((l) => `upgrade-notes: ${l}\n`).join(""));
  process.exit(err instanceof DossierError ? err.exitCode : usage ? 2 : 1);
}
