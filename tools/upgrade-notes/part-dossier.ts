// A dossier for every part: ZenML's and MLflow's from their wheels (alembic migrations,
// requirements), Kubernetes' and MySQL's against the plan's own objects, an add-on's in a line.
import { addonOf, partRule } from "../../components/parts";
import type { Plan, Planner } from "../offline/plan-result";
import type { DossierSource } from "../gitops/version-change";
import { buildDossier, renderMarkdown, type Project } from "./dossier";
import { kubernetesDossier, mysqlDossier } from "./infra-dossier";

/** Parts whose dossier reads the plan (it costs a plan, ~1.5 s). */
const NEEDS_PLAN = new Set(["kubernetes", "mysql"]);

/** The dossier of one part's move, as Markdown; `plan` is the stack's plan for the parts that read it. */
export function partDossierMarkdown(projectDir: string, part: string, from: string, to: string, plan?: Plan): string {
  const rule = partRule(part);
  if (rule.releases.kind === "pypi") return renderMarkdown(buildDossier(projectDir, from, to, { project: rule.releases.project as Project }));
  if (NEEDS_PLAN.has(part) && !plan) throw new Error(`the ${rule.label} dossier reads the stack's plan: give --stack`);
  if (part === "kubernetes") return kubernetesDossier(plan!, from, to);
  if (part === "mysql") return mysqlDossier(plan!, from, to);
  const addon = addonOf(part)!;
  return [
    `## Upgrade dossier: EKS add-on ${addon} ${from || "(AWS's default)"} -> ${to}`,
    "",
    `- Read the add-on's release notes for ${to} (\`aws eks describe-addon-versions --addon-name ${addon}\` lists the versions and the cluster versions each supports).`,
    "- Applying it restarts the add-on's pods, after the control plane; nothing of ZenML's restarts.",
    "",
  ].join("\n");
}

/** The stack's plan, for the dossiers that read it. */
export async function planFor(projectDir: string, stack: string, planner: Planner): Promise<Plan> {
  return planner({ stack, projectDir });
}

/**
 * The PR body's dossier for bump and promote. Never fails the version change: when the dossier
 * cannot be built, one line says why and which command to run once it can.
 */
export async function dossierSourceFor(projectDir: string, stack: string, part: string | undefined, planner: Planner): Promise<DossierSource> {
  let plan: Plan | undefined;
  let planProblem: string | undefined;
  if (part && NEEDS_PLAN.has(part)) {
    try {
      plan = await planFor(projectDir, stack, planner);
    } catch (err) {
      planProblem = (err as Error).message.split("\n")[0];
    }
  }
  return (p, from, to) => {
    if (from === to || from === "") return [];
    const command = `npm run upgrade-notes -- --part ${p} --from ${from} --to ${to}${NEEDS_PLAN.has(p) ? ` --stack ${stack}` : ""}`;
    if (planProblem) return [`Upgrade dossier unavailable (the plan of ${stack} failed: ${planProblem}): run ${command}`];
    try {
      return ["", ...partDossierMarkdown(projectDir, p, from, to, plan).trimEnd().split("\n")];
    } catch (err) {
      return [`Upgrade dossier unavailable (${(err as Error).message.split("\n").join("; ")}): run ${command}`];
    }
  };
}

/** ZenML's (or MLflow's) dossier as PR-body lines; the release watch's, which never plans. */
export function dossierForPullRequest(projectDir: string, from: string, to: string, part = "zenml"): string[] {
  if (from === to) return [];
  try {
    return ["", ...partDossierMarkdown(projectDir, part, from, to).trimEnd().split("\n")];
  } catch (err) {
    const why = (err as Error).message.split("\n").join("; ");
    return [`Upgrade dossier unavailable (${why}): run npm run upgrade-notes -- --part ${part} --from ${from} --to ${to}`];
  }
}
