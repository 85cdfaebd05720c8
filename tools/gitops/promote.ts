// `npm run promote [-- --part <part>] [--dir .] [--base staging] [--repo owner/name]`: prod's pin of
// one part := the next version staging performed green, on a branch off `staging` (prod's pin
// changes on staging first, so staging deploys that very commit).
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { planOnDemand, type Planner } from "../offline/plan-result";
import { locatePin, PinFileError } from "./pin-file";
import { type GreenMove, ghSources, greenStagingMoves, missingTooling } from "./staging-evidence";
import { promote, promotionPart, type StagingEvidence } from "./version-change";
import { dossierSourceFor } from "../upgrade-notes/part-dossier";

const HELP = `usage: npm run promote [-- --part <part>] [--dir .] [--base staging] [--repo owner/name]
Sets prod's pin of one part (default: the first, in the engine's order, that staging is ahead on) to
the next version staging performed green, as prod's gate will check it: staging's deploy records
through gh (GH_TOKEN), else the staging branch's history. Run it on a branch off the base branch
(default staging): a branch off main would carry an old Pulumi.staging.yaml. Exit 0 changed or
already there, 2 refused.`;

const git = (dir: string, ...args: string[]) =>
  execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();

function refExists(dir: string, ref: string): boolean {
  try {
    git(dir, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`);
    return true;
  } catch {
    return false;
  }
}

/** The base branch's ref in this checkout (origin's first), or undefined outside a git repo. */
function baseRef(dir: string, base: string): string | undefined {
  try {
    git(dir, "rev-parse", "--git-dir");
  } catch {
    return undefined;
  }
  return [`origin/${base}`, base].find((ref) => refExists(dir, ref));
}

/** Refuses a checkout that does not contain the base branch's head (skipped outside a git repo). */
export function requireBranchedOff(dir: string, base: string): void {
  const ref = baseRef(dir, base);
  if (!ref) return;
  try {
    git(dir, "merge-base", "--is-ancestor", ref, "HEAD");
  } catch {
    throw new PinFileError(
      `this checkout does not contain ${ref}: promote on a branch off it (git switch -c promote-<part>-<version> ${ref}), or staging's pin here is stale`,
    );
  }
}

/** Staging's pin changes along the base branch, oldest first: each commit staging deployed, assumed green. */
export function gitStagingMoves(dir: string, ref: string, part: string): GreenMove[] {
  const pinAt = (rev: string) => {
    try {
      return locatePin(git(dir, "show", `${rev}:Pulumi.staging.yaml`), "Pulumi.staging.yaml", part).value || null;
    } catch {
      return null;
    }
  };
  const moves: GreenMove[] = [];
  for (const sha of git(dir, "log", "--first-parent", "--reverse", "--format=%H", ref, "--", "Pulumi.staging.yaml")
    .split("\n")
    .filter(Boolean)) {
    const [to, from] = [pinAt(sha), pinAt(`${sha}^`)];
    if (to && to !== from) moves.push({ from, to, sha });
  }
  return moves;
}

/** Staging's deploy records when gh can read them, else the base branch's history; refuses when neither exists. */
function evidenceFor(dir: string, base: string, repo: string | undefined, env: CliEnv): StagingEvidence {
  const missing = missingTooling(env);
  if (!missing) {
    const sources = ghSources(repo, dir, env);
    return { describe: "staging's deploy records", moves: (part) => greenStagingMoves(sources, part) };
  }
  const ref = baseRef(dir, base);
  if (!ref)
    throw new PinFileError(
      `cannot tell which moves staging performed green: ${missing}, and ${dir} has no ${base} branch history; run it in a clone with gh signed in`,
    );
  return {
    describe: `the ${ref} history, not its deploy records (${missing}); prod's gate checks that each was green`,
    unverified: true,
    moves: (part) => gitStagingMoves(dir, ref, part),
  };
}

const TOOL: ToolSpec = { name: "promote", usage: HELP, badInput: (err) => err instanceof PinFileError };

/** `planner` stands in for the plan a Kubernetes or MySQL dossier reads (tests plan through their cache). */
export async function main(argv: string[], io: CliIo, env: CliEnv, planner: Planner = planOnDemand): Promise<number> {
  return runTool(TOOL, io, async () => {
    // --dir defaults to the working directory: npm runs scripts from the package root, the checkout.
    const { values } = parseArgs({
      args: argv,
      options: {
        part: { type: "string" },
        dir: { type: "string", default: process.cwd() },
        base: { type: "string", default: "staging" },
        repo: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    const dir = values.dir;
    requireBranchedOff(dir, values.base);
    const evidence = evidenceFor(dir, values.base, values.repo, env);
    const dossier = await dossierSourceFor(dir, "prod", values.part ?? promotionPart(dir), planner);
    io.stdout(promote(dir, { part: values.part, evidence }, dossier).message + "\n");
    return 0;
  });
}
