// `npm run release-watch -- [--apply --version X.Y.Z --body-file <path>] [--github-output <path>] [--dir .]`
// Prints one line: what the watch decided and why. With --apply it bumps staging's pin and
// writes the bump PR's body (with the dossier) to --body-file. Exit 2: bad release-watch.yaml
// or usage; exit 1: PyPI unreachable or the dossier could not be built.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PinFileError } from "../gitops/pin-file";
import { bump } from "../gitops/version-change";
import { buildDossier, DossierError, renderMarkdown } from "./dossier";
import { decide, fetchPypiProject, finalReleases, pins, pullRequestBody, readHold, WatchError } from "./release-watch";
import { runFromCommandLine, type CliIo } from "../cli-io";

/** The whole CLI, callable in-process (the tests) as well as from the command line; returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    await watch(argv, io);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    io.stderr(e.message.split("\n").map((l) => `release-watch: ${l}\n`).join(""));
    const usage = e.code?.startsWith("ERR_PARSE_ARGS") || err instanceof PinFileError;
    return err instanceof WatchError || err instanceof DossierError ? e.exitCode! : usage ? 2 : 1;
  }
}

async function watch(argv: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { apply: { type: "boolean", default: false }, version: { type: "string" }, "body-file": { type: "string" }, "github-output": { type: "string" }, dir: { type: "string", default: path.resolve(__dirname, "../..") } },
    strict: true,
  });
  if (values.apply && (!values["body-file"] || !values.version)) throw new WatchError("--apply needs --version X.Y.Z (the release decided on) and --body-file <path> (the PR body)", 2);
  const dir = values.dir!;
  const settings = readHold(dir);
  const current = pins(dir);
  const decision = decide(finalReleases(await fetchPypiProject()), current.staging, settings);
  io.stdout(`release-watch: ${decision.reason}\n`);
  const outputs: Record<string, string> = { action: decision.action, version: "", branch: "", title: "" };
  if (decision.action === "bump") {
    Object.assign(outputs, { version: decision.version, branch: `upgrade-zenml-${decision.version}`, title: `Upgrade ZenML to ${decision.version} on staging` });
    if (values.apply && values.version !== decision.version) throw new WatchError(`the newest release is now ${decision.version}, not ${values.version}: nothing changed, the next run proposes it`, 1);
    if (values.apply) {
      const dossier = renderMarkdown(buildDossier(dir, current.prod, decision.version));
      const result = bump(dir, "staging", decision.version);
      fs.writeFileSync(values["body-file"]!, pullRequestBody(decision.version, current.staging, current.prod, dossier, result.message));
      io.stdout(`release-watch: staging bumped to ${decision.version}; PR body in ${values["body-file"]}\n`);
    }
  }
  if (values["github-output"]) fs.appendFileSync(values["github-output"], Object.entries(outputs).map(([k, v]) => `${k}=${v}\n`).join(""));
}

if (require.main === module) runFromCommandLine(main);
