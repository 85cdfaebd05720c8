// `npm run promote [-- --dir .] [--base staging]`: prod's pin := staging's pin, on a branch off
// `staging` (prod's pin changes on staging first, so staging deploys that very commit).
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { PinFileError } from "./pin-file";
import { promote } from "./version-change";
import { dossierForPullRequest } from "../upgrade-notes/dossier";

const HELP = `usage: npm run promote [-- --dir .] [--base staging]
Sets prod's pin to staging's in Pulumi.prod.yaml. Run it on a branch off the base branch (default staging):
a branch off main would carry an old Pulumi.staging.yaml. Exit 0 changed or already there, 2 refused.`;

/** Refuses a checkout that does not contain the base branch's head (skipped outside a git repo). */
export function requireBranchedOff(dir: string, base: string): void {
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  try {
    git("rev-parse", "--git-dir");
  } catch {
    return;
  }
  const exists = (ref: string) => {
    try {
      git("rev-parse", "--verify", "--quiet", `${ref}^{commit}`);
      return true;
    } catch {
      return false;
    }
  };
  const ref = [`origin/${base}`, base].find(exists);
  if (!ref) return;
  try {
    git("merge-base", "--is-ancestor", ref, "HEAD");
  } catch {
    throw new PinFileError(`this checkout does not contain ${ref}: promote on a branch off it (git switch -c promote-zenml-X.Y.Z ${ref}), or staging's pin here is stale`);
  }
}

try {
  // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
  const { values } = parseArgs({ options: { dir: { type: "string", default: process.cwd() }, base: { type: "string", default: "staging" }, help: { type: "boolean" } }, strict: true });
  if (values.help) {
    process.stdout.write(HELP + "\n");
  } else {
    requireBranchedOff(values.dir!, values.base!);
    process.stdout.write(promote(values.dir!, (from, to) => dossierForPullRequest(values.dir!, from, to)).message + "\n");
  }
} catch (err) {
  process.stderr.write(`promote: ${(err as Error).message}\n`);
  process.exit(err instanceof PinFileError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1);
}
