// Loads both stacks (config files + offline plans) and the allow list, and runs the comparison.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { crossStackProblems, parseConfig } from "../../components/config";
import { ORGANIZATION, deployedOutputs, pinnedParts } from "../offline/plan-inputs";
import { planOnDemand, type Plan, type Planner } from "../offline/plan-result";
import type { StackOutputsByName } from "../offline/mocks";
import { readProjectFile, readStackConfig, readWrittenConfig } from "../offline/stack-files";
import { compareStacks, unusedAllowances, type AllowList, type Difference, type Side } from "./compare";

export interface MirrorOptions {
  projectDir: string;
  stagingFile?: string;
  prodFile?: string;
  allowFile?: string;
  /** How each stack is planned (default runPlan, loaded on demand). */
  planner?: Planner;
}

export interface MirrorResult {
  left: Side;
  right: Side;
  differences: Difference[];
  violations: Difference[];
  /** Allow-list entries this comparison did not use (stale, or for an upgrade or rollback in flight). */
  unused: string[];
}

export class MirrorInputError extends Error {}

const reason = z.string().trim().min(1, "every allowed difference needs a one-line reason").refine((r) => !r.includes("\n"), "a reason is one line");
// Strict: a misspelt `path:` must not silently widen an entry into "may exist in one stack only".
const allowListSchema = z
  .object({
    config: z.array(z.strictObject({ key: z.string().min(1), reason, rule: z.literal("staging-not-behind-prod").optional() })).default([]),
    resources: z.array(z.strictObject({ type: z.string().min(1), name: z.string().min(1).optional(), path: z.string().min(1).optional(), reason })).default([]),
  })
  .strict();

export function readAllowList(file: string, projectDir?: string): AllowList {
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new MirrorInputError(`${path.basename(file)}: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = allowListSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new MirrorInputError(`${path.basename(file)}: ${problems.join("; ")}`);
  }
  const list: AllowList = { config: parsed.data.config, resources: parsed.data.resources };
  if (projectDir) {
    // A key allowance for a key the project does not declare is a typo that would allow nothing.
    const project = readProjectFile(projectDir);
    for (const [i, c] of list.config.entries()) {
      const [ns, name] = c.key.split(":");
      if (ns === project.name && !(name in project.config)) throw new MirrorInputError(`${path.basename(file)}: config.${i}.key: ${c.key} is not declared in Pulumi.yaml`);
    }
  }
  return list;
}

/** Our component type tokens -> the file that defines each (components/*.ts). */
export function componentFiles(projectDir: string): Record<string, string> {
  const dir = path.join(projectDir, "components");
  const out: Record<string, string> = {};
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((x) => x.endsWith(".ts")) : []) {
    for (const m of fs.readFileSync(path.join(dir, f), "utf8").matchAll(/super\(\s*"([^"]+:index:[^"]+)"/g)) out[m[1]] = `components/${f}`;
  }
  return out;
}

export async function checkMirror(options: MirrorOptions): Promise<MirrorResult> {
  const dir = options.projectDir;
  const files = { staging: options.stagingFile ?? path.join(dir, "Pulumi.staging.yaml"), prod: options.prodFile ?? path.join(dir, "Pulumi.prod.yaml") };
  const allowFile = options.allowFile ?? path.join(dir, "mirror.allow.yaml");
  const allow = readAllowList(allowFile, dir);
  const project = readProjectFile(dir).name;
  const pins = (stack: "staging" | "prod") => pinnedParts(readStackConfig(dir, stack, files[stack]).values, project);
  // Both stacks as if deployed at their pins, staging having run prod's pin of every part: desired state, no gate in the way.
  // No crossStackFacts: the cross-stack problems are reported below as violations, not as a failed plan.
  const [staging, prod] = [pins("staging"), pins("prod")];
  const outputs: StackOutputsByName = {
    [`${ORGANIZATION}/${project}/staging`]: deployedOutputs(staging, Object.fromEntries(Object.entries(prod).map(([part, v]) => [part, [v]]))),
    [`${ORGANIZATION}/${project}/prod`]: deployedOutputs(prod),
  };
  const plans: Record<string, Plan> = {};
  for (const stack of ["staging", "prod"] as const) {
    plans[stack] = await (options.planner ?? planOnDemand)({ stack, projectDir: dir, stackFile: files[stack], stackOutputs: outputs });
  }
  const label = (file: string) => path.relative(dir, file) || file;
  // As written (no defaults), so a key in one file only is a finding; secure: values compare as
  // placeholders, since ciphertexts differ per stack even for equal secrets.
  const left: Side = { stack: "staging", file: label(files.staging), config: readWrittenConfig(files.staging, project).values, plan: plans.staging };
  const right: Side = { stack: "prod", file: label(files.prod), config: readWrittenConfig(files.prod, project).values, plan: plans.prod };
  const differences = compareStacks(left, right, allow, { componentFiles: componentFiles(dir), allowFile: label(allowFile) });
  // What neither stack can see alone: both configs parsed (the plans above already proved they parse).
  const parsed = (stack: "staging" | "prod") => { const c = readStackConfig(dir, stack, files[stack]); return parseConfig(stack, c.values, c.secretKeys); };
  for (const problem of crossStackProblems(parsed("staging"), parsed("prod"))) {
    const [where, ...rest] = problem.split(": ");
    differences.push({ kind: "cross-stack", where, allowed: false, note: rest.join(": "), edit: [label(files.staging), label(files.prod)] });
  }
  return { left, right, differences, violations: differences.filter((d) => !d.allowed), unused: unusedAllowances(allow, differences) };
}
