// `npm run bump` and `npm run promote`: the one-command version changes of the upgrade flow.
import * as path from "node:path";
import * as semver from "semver";
import { explainBadPin, skippedMinors } from "../../components/version-policy";
import { listStacks, stackFilePath } from "../offline/stack-files";
import { PIN_KEY, PinFileError, readPin, replacePin, writeAtomically } from "./pin-file";

export interface ChangeResult {
  changed: boolean;
  file: string;
  from: string;
  to: string;
  /** What to put in the pull request and what to do next, for a human. */
  message: string;
}

function requireStack(dir: string, stack: string): string {
  const stacks = listStacks(dir);
  if (!stacks.includes(stack)) throw new PinFileError(`unknown stack "${stack}" (stacks: ${stacks.join(", ") || "none"} in ${dir})`);
  return stackFilePath(dir, stack);
}

/** Extra PR-body lines for a move of prod from one version to another (the upgrade dossier). */
export type DossierSource = (prodFrom: string, to: string) => string[];

/** The pull request bump and promote print: branch, base, title and body, then the next step. */
export function prText(stack: string, from: string, to: string, nextStep: string, dossier: string[] = []): string {
  const skipped = skippedMinors(from, to);
  const branch = stack === "prod" ? `promote-zenml-${to}` : `upgrade-zenml-${to}`;
  const title = stack === "prod" ? `Promote ZenML ${to} to prod` : `Upgrade ZenML to ${to} on ${stack}`;
  return [
    `Pull request:`,
    `  branch: ${branch}`,
    // Every change lands on staging first, prod's pin included (docs/GITOPS.md, "Branch model").
    `  base:   staging`,
    `  title:  ${title}`,
    `  body:`,
    `    ZenML ${from} -> ${to} on ${stack} (${PIN_KEY} in Pulumi.${stack}.yaml).`,
    semver.major(from) !== semver.major(to)
      ? `    Crosses a major version (${semver.major(from)} -> ${semver.major(to)}): read every release note and migration guide in between.`
      : skipped.length > 0
        ? `    Skips minor releases ${skipped.join(", ")}: link the release notes of each.`
        : `    Release notes: link them here.`,
    `    The preview must show a pre-upgrade RDS snapshot and a Helm release update, and no replacement of the database, bucket or registry.`,
    ...dossier.map((line) => (line ? `    ${line}` : "")),
    `Next: ${nextStep}`,
  ].join("\n");
}

/** Sets a stack's pin. Prod may not go past staging's file: that is what `promote` is for. */
export function bump(dir: string, stack: string, version: string, dossier: DossierSource = () => []): ChangeResult {
  const why = explainBadPin(version);
  if (why) throw new PinFileError(`--version ${why}`);
  const file = requireStack(dir, stack);
  const { text, pin } = readPin(file);
  const from = pin.value;
  if (explainBadPin(from)) throw new PinFileError(`${path.basename(file)}: the current pin "${from}" is not a release; fix it by hand first`);
  if (semver.lt(version, from)) {
    throw new PinFileError(`refusing to lower ${stack} from ${from} to ${version}: ZenML cannot downgrade a migrated database. Roll back instead (docs/UPGRADING.md, "Rollback").`);
  }
  if (stack === "prod") {
    const staging = readPin(requireStack(dir, "staging")).pin.value;
    if (semver.gt(version, staging)) throw new PinFileError(`refusing to set prod to ${version}, ahead of staging (${staging}): upgrade staging first, then run npm run promote`);
  }
  if (version === from) return { changed: false, file, from, to: version, message: `${stack} already pins ${version}; nothing changed.` };
  // The dossier covers what prod will go through: from prod's pin to the new one.
  const prodPin = stack === "prod" || !listStacks(dir).includes("prod") ? from : readPin(stackFilePath(dir, "prod")).pin.value;
  writeAtomically(file, replacePin(text, pin, version, path.basename(file)));
  const next =
    stack === "prod"
      ? "commit, open the PR to staging; after merge staging redeploys this commit unchanged and smoke-tests it; then open the PR staging -> main."
      : `commit, open the PR to staging; CI previews both stacks. After merge staging deploys and is smoke-tested; then npm run promote on a branch off staging.`;
  return { changed: true, file, from, to: version, message: `${stack}: ${from} -> ${version}\n${prText(stack, from, version, next, dossier(prodPin, version))}` };
}

/** Sets prod's pin to staging's pin. */
export function promote(dir: string, dossier: DossierSource = () => []): ChangeResult {
  const stagingFile = requireStack(dir, "staging");
  const prodFile = requireStack(dir, "prod");
  const staging = readPin(stagingFile).pin.value;
  const why = explainBadPin(staging);
  if (why) throw new PinFileError(`Pulumi.staging.yaml: ${PIN_KEY} ${why}`);
  const { text, pin } = readPin(prodFile);
  const from = pin.value;
  if (!explainBadPin(from) && semver.lt(staging, from)) {
    throw new PinFileError(`refusing to promote: staging pins ${staging}, behind prod's ${from}. Promotion never lowers prod.`);
  }
  if (staging === from) return { changed: false, file: prodFile, from, to: staging, message: `prod already pins ${staging}, like staging; nothing changed.` };
  writeAtomically(prodFile, replacePin(text, pin, staging, path.basename(prodFile)));
  return {
    changed: true,
    file: prodFile,
    from,
    to: staging,
    message: `prod: ${from} -> ${staging}\n${prText("prod", from, staging, "commit, open the PR to staging; after merge staging redeploys this commit unchanged and smoke-tests it; then open the PR staging -> main and fast-forward main to it. The prod deploy's gate checks the commit, staging's latest run of it and the upgrade path before approval.", dossier(from, staging))}`,
  };
}
