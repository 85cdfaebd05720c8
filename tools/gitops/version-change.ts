// `npm run bump` and `npm run promote`: the one-command version changes of the upgrade flow, for
// every part of the registry (components/parts.ts). Each changes the lines of one part's pin only.
import * as path from "node:path";
import * as semver from "semver";
import { PARTS, compareDotted, partRule, partsInOrder, skippedMinors, type PartRule } from "../../components/parts";
import { listStacks, stackFilePath } from "../offline/stack-files";
import { PinFileError, pinKey, pinnedVersions, readPin, replacePin, writeAtomically } from "./pin-file";
import type { GreenMove } from "./staging-evidence";
import { moveZenmlRequirementPins } from "./requirement-pins";

export interface ChangeResult {
  changed: boolean;
  file: string;
  part: string;
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

function requirePart(part: string): PartRule {
  if (!PARTS[part]) throw new PinFileError(`unknown part "${part}" (parts: ${partsInOrder().map((p) => p.name).join(", ")})`);
  return partRule(part);
}

/** Extra PR-body lines for a move of prod from one version to another (the upgrade dossier). */
export type DossierSource = (part: string, prodFrom: string, to: string) => string[];

/** A branch-safe name: "addon:amazon-cloudwatch-observability" -> "addon-amazon-cloudwatch-observability". */
const slug = (part: string) => part.replace(/[^a-z0-9.-]+/gi, "-");
export const upgradeBranch = (part: string, version: string) => `upgrade-${slug(part)}-${version}`;
export const promoteBranch = (part: string, version: string) => `promote-${slug(part)}-${version}`;

/** What a reviewer must see in the preview, per part. */
function previewLine(rule: PartRule, from: string, to: string): string {
  if (rule.name === "zenml") return "The preview must show a pre-upgrade RDS snapshot and a Helm release update, and no replacement of the database, bucket or registry.";
  const effects = from ? rule.effects(from, to) : [];
  return `The preview's upgrade report must show ${rule.name} ${from || "(AWS's default)"} -> ${to} alone${effects.length ? `, doing: ${effects.join("; ")}` : ""}; nothing is replaced.`;
}

/** The pull request bump and promote print: branch, base, title and body, then the next step. */
export function prText(part: string, stack: string, from: string, to: string, nextStep: string, dossier: string[] = []): string {
  const rule = partRule(part);
  const releases = semver.valid(from) && semver.valid(to);
  const note =
    releases && semver.major(from) !== semver.major(to)
      ? `Crosses a major version (${semver.major(from)} -> ${semver.major(to)}): read every release note and migration guide in between.`
      : releases && skippedMinors(from, to).length > 0
        ? `Skips minor releases ${skippedMinors(from, to).join(", ")}: link the release notes of each.`
        : `Release notes: link them here.`;
  return [
    `Pull request:`,
    `  branch: ${stack === "prod" ? promoteBranch(part, to) : upgradeBranch(part, to)}`,
    // Every change lands on staging first, prod's pin included (docs/GITOPS.md, "Branch model").
    `  base:   staging`,
    `  title:  ${stack === "prod" ? `Promote ${rule.label} ${to} to prod` : `Upgrade ${rule.label} to ${to} on ${stack}`}`,
    `  body:`,
    `    ${rule.label} ${from || "(AWS's default)"} -> ${to} on ${stack} (${pinKey(part)} in Pulumi.${stack}.yaml).`,
    `    ${note}`,
    `    ${previewLine(rule, from, to)}`,
    ...dossier.map((line) => (line ? `    ${line}` : "")),
    ...(rule.movesWith ? [`In this same change, ${rule.movesWith.configKey} in Pulumi.${stack}.yaml: ${rule.movesWith.how(to)}; the preview refuses ${rule.configKey} ${to} until its image is there.`] : []),
    `Next: ${nextStep}`,
  ].join("\n");
}

const AFTER_PROD_PR = "commit, open the PR to staging; after merge staging redeploys this commit unchanged and smoke-tests it; then open the PR staging -> main and fast-forward main to it. The prod deploy's gate checks the commit, staging's latest run of it and the upgrade path before approval.";

/** Sets one part's pin in a stack. Prod may not go past staging's file: that is what `promote` is for. */
export function bump(dir: string, request: { stack: string; version: string; part?: string }, dossier: DossierSource = () => []): ChangeResult {
  const { stack, version } = request;
  const part = request.part ?? "zenml";
  const rule = requirePart(part);
  const why = rule.explainBadVersion(version);
  if (why) throw new PinFileError(`--version ${why}`);
  const file = requireStack(dir, stack);
  const { text, pin } = readPin(file, part);
  const from = pin.value;
  if (rule.optional && from === "") throw new PinFileError(`${rule.label} is off on ${stack}: ${rule.optional.offReason}`);
  if (from !== "" && rule.explainBadVersion(from)) throw new PinFileError(`${path.basename(file)}: the current ${pinKey(part)} "${from}" is not a version of ${rule.label}; fix it by hand first`);
  if (from !== "" && compareDotted(version, from) < 0) {
    throw new PinFileError(`refusing to lower ${stack} from ${from} to ${version}: ${rule.noDowngrade}.${rule.rollback ? ` Roll back instead (docs/UPGRADING.md, "Rollback").` : ""}`);
  }
  if (stack === "prod") {
    const staging = readPin(requireStack(dir, "staging"), part).pin.value;
    if (staging === "" || compareDotted(version, staging) > 0) throw new PinFileError(`refusing to set prod's ${rule.label} to ${version}, ahead of staging (${staging || "off"}): upgrade staging first, then run npm run promote -- --part ${part}`);
  }
  if (version === from) return { changed: false, file, part, from, to: version, message: `${stack} already pins ${rule.label} ${version}; nothing changed.` };
  // The dossier covers what prod will go through: from prod's pin to the new one.
  const prodPin = stack === "prod" || !listStacks(dir).includes("prod") ? from : readPin(stackFilePath(dir, "prod"), part).pin.value || from;
  writeAtomically(file, replacePin(text, pin, version, path.basename(file), part));
  // The Python requirements test the version staging runs next: they move with its ZenML pin.
  const requirements = part === "zenml" && stack === "staging" ? moveZenmlRequirementPins(dir, version) : [];
  const alsoMoved = requirements.length > 0 ? `\nAlso moved zenml==${version} in ${requirements.join(", ")} (they test staging's version).` : "";
  const step = from !== "" ? rule.checkStep?.(from, version) : undefined;
  const next =
    stack === "prod"
      ? AFTER_PROD_PR
      : `commit, open the PR to staging; CI previews both stacks. After merge staging deploys and is smoke-tested; then npm run promote${part === "zenml" ? "" : ` -- --part ${part}`} on a branch off staging.`;
  const stepNote = step ? `\nNote: ${from} -> ${version} is more than one step (${step}); the preview refuses it unless AWS already runs a version one step below ${version}.` : "";
  return { changed: true, file, part, from, to: version, message: `${stack}: ${rule.label} ${from || "(AWS's default)"} -> ${version}${stepNote}${alsoMoved}\n${prText(part, stack, from, version, next, dossier(part, prodPin, version))}` };
}

/** Where promote learns which moves staging performed green. */
export interface StagingEvidence {
  /** "staging's deploy records", or which branch history stood in for them. */
  describe: string;
  /** False when the moves come from the branch history: each was deployed, but nobody read whether it was green. */
  unverified?: boolean;
  moves(part: string): GreenMove[];
}

/** The step prod may take from `from`: the furthest move staging performed green from there, not past staging's pin. */
function stepFrom(evidence: StagingEvidence, part: string, from: string, limit: string): GreenMove | undefined {
  return evidence
    .moves(part)
    .filter((m) => m.from === from && compareDotted(m.to, from) > 0 && compareDotted(m.to, limit) <= 0)
    .sort((a, b) => compareDotted(b.to, a.to))[0];
}

/** The parts staging pins ahead of prod, in the engine's order. */
export function partsAhead(staging: Record<string, string>, prod: Record<string, string>): string[] {
  return partsInOrder()
    .map((r) => r.name)
    .filter((p) => staging[p] !== undefined && staging[p] !== prod[p]);
}

/** The part promote takes without --part: the first, in the engine's order, staging pins ahead of prod. */
export function promotionPart(dir: string): string | undefined {
  const pins = (stack: string) => pinnedVersions(readPin(requireStack(dir, stack)).text, `Pulumi.${stack}.yaml`);
  return partsAhead(pins("staging"), pins("prod"))[0];
}

/** Sets prod's pin of one part to the next version staging performed green (by default the first part, in the engine's order, staging is ahead on). */
export function promote(dir: string, options: { part?: string; evidence: StagingEvidence }, dossier: DossierSource = () => []): ChangeResult {
  const stagingFile = requireStack(dir, "staging");
  const prodFile = requireStack(dir, "prod");
  const staging = pinnedVersions(readPin(stagingFile).text, "Pulumi.staging.yaml");
  const prod = pinnedVersions(readPin(prodFile).text, "Pulumi.prod.yaml");
  const ahead = partsAhead(staging, prod);
  if (options.part !== undefined) requirePart(options.part);
  const part = options.part ?? ahead[0];
  if (part === undefined) return { changed: false, file: prodFile, part: "zenml", from: prod.zenml, to: prod.zenml, message: `prod pins every part like staging; nothing changed.` };
  const rule = partRule(part);
  const target = staging[part];
  const from = prod[part] ?? "";
  const bad = target !== undefined ? rule.explainBadVersion(target) : undefined;
  if (bad) throw new PinFileError(`Pulumi.staging.yaml: ${pinKey(part)} ${bad}`);
  if (target === undefined) throw new PinFileError(rule.optional ? `${rule.label} is off on staging: ${rule.optional.offReason}` : `Pulumi.staging.yaml pins no ${rule.label}; nothing to promote`);
  if (from === target) return { changed: false, file: prodFile, part, from, to: target, message: `prod already pins ${rule.label} ${target}, like staging; nothing changed.` };
  if (from === "") throw new PinFileError(rule.optional ? `${rule.label} is off on prod: turn it on there by hand (${rule.configKey} with its image and hostname, docs/MLFLOW.md), staging first done` : `Pulumi.prod.yaml pins no ${rule.label}; set it by hand`);
  if (compareDotted(target, from) < 0) throw new PinFileError(`refusing to promote ${rule.label}: staging pins ${target}, behind prod's ${from}. Promotion never lowers prod.`);
  const step = stepFrom(options.evidence, part, from, target);
  if (!step) {
    const seen = [...new Set(options.evidence.moves(part).map((m) => `${m.from ?? "(first deploy)"} -> ${m.to}`))].join(", ") || "none";
    throw new PinFileError(
      `staging never performed ${rule.label} ${from} -> anything up to ${target} green (by ${options.evidence.describe}; staging did: ${seen}): ` +
        `prod's gate would refuse any promotion. Deploy the step from ${from} on staging first, or set promotionOverrideReason for an emergency.`,
    );
  }
  // What follows: the chain of green steps from there towards staging's pin, one update each.
  const chain: GreenMove[] = [];
  for (let next = stepFrom(options.evidence, part, step.to, target); next && chain.length < 20; next = stepFrom(options.evidence, part, next.to, target)) chain.push(next);
  const reached = chain.at(-1)?.to ?? step.to;
  const steps = chain.map((m) => `${m.from} -> ${m.to} (staging ${options.evidence.unverified ? "moved" : "performed"} it${options.evidence.unverified ? "" : " green"} at ${m.sha.slice(0, 12)})`).join(", then ");
  const gap = compareDotted(reached, target) < 0 ? `${steps ? "; " : ""}staging has no green step from ${reached} towards its ${target} yet` : "";
  const follows = step.to === target ? "" : `\nThen: ${steps}${gap}. Run npm run promote${part === "zenml" ? "" : ` -- --part ${part}`} again once prod deployed this one: one step per update.`;
  const others = ahead.filter((p) => p !== part);
  const alsoAhead = others.length > 0 ? `\nStaging is also ahead on ${others.map((p) => `${p} (${prod[p] ?? "off"} -> ${staging[p]})`).join(", ")}: one part per update, promote ${others.length === 1 ? "it" : "them"} in later PRs, in this order.` : "";
  const { text, pin } = readPin(prodFile, part);
  writeAtomically(prodFile, replacePin(text, pin, step.to, "Pulumi.prod.yaml", part));
  const evidence = `Staging ${options.evidence.unverified ? "moved" : "performed"} ${rule.label} ${from} -> ${step.to}${options.evidence.unverified ? "" : " green"} at ${step.sha.slice(0, 12)} (by ${options.evidence.describe}).`;
  return {
    changed: true,
    file: prodFile,
    part,
    from,
    to: step.to,
    message: `prod: ${rule.label} ${from} -> ${step.to}\n${evidence}${follows}${alsoAhead}\n${prText(part, "prod", from, step.to, AFTER_PROD_PR, dossier(part, from, step.to))}`,
  };
}
