// Loads both stacks (config files + offline plans) and the allow list, and runs the comparison.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ORGANIZATION, runPlan, type Plan } from "../offline/plan";
import type { StackOutputsByName } from "../offline/mocks";
import { readProjectFile, readStackConfig } from "../offline/stack-files";
import { compareStacks, type AllowList, type Difference, type Side } from "./compare";

export interface MirrorOptions {
  projectDir: string;
  stagingFile?: string;
  prodFile?: string;
  allowFile?: string;
}

export interface MirrorResult {
  left: Side;
  right: Side;
  differences: Difference[];
  violations: Difference[];
}

export class MirrorInputError extends Error {}

export function readAllowList(file: string): AllowList {
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new MirrorInputError(`${path.basename(file)}: ${(err as Error).message.split("\n")[0]}`);
  }
  const list = (doc ?? {}) as Partial<AllowList>;
  const config = list.config ?? [];
  const resources = list.resources ?? [];
  for (const entry of [...config, ...resources]) {
    if (typeof entry.reason !== "string" || entry.reason.trim() === "") throw new MirrorInputError(`${path.basename(file)}: every allowed difference needs a one-line reason (${JSON.stringify(entry)})`);
  }
  return { config, resources };
}

/** Raw key/values as written in a stack file (not defaults): a key in one file only is a finding. */
function writtenConfig(file: string): Record<string, string> {
  const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  return Object.fromEntries(Object.entries(doc?.config ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

export async function checkMirror(options: MirrorOptions): Promise<MirrorResult> {
  const dir = options.projectDir;
  const files = { staging: options.stagingFile ?? path.join(dir, "Pulumi.staging.yaml"), prod: options.prodFile ?? path.join(dir, "Pulumi.prod.yaml") };
  const allow = readAllowList(options.allowFile ?? path.join(dir, "mirror.allow.yaml"));
  const project = readProjectFile(dir).name;
  const pin = (stack: "staging" | "prod") => readStackConfig(dir, stack, files[stack]).values[`${project}:zenmlVersion`];
  // Both stacks as if deployed at their pins, staging having run prod's pin: desired state, no gate in the way.
  const outputs: StackOutputsByName = {
    [`${ORGANIZATION}/${project}/staging`]: { zenmlVersion: pin("staging"), zenmlVersionHistory: [pin("prod"), pin("staging")] },
    [`${ORGANIZATION}/${project}/prod`]: { zenmlVersion: pin("prod"), zenmlVersionHistory: [pin("prod")] },
  };
  const plans: Record<string, Plan> = {};
  for (const stack of ["staging", "prod"] as const) {
    plans[stack] = await runPlan({ stack, projectDir: dir, stackFile: files[stack], stackOutputs: outputs });
  }
  const left: Side = { stack: "staging", file: path.basename(files.staging), config: writtenConfig(files.staging), plan: plans.staging };
  const right: Side = { stack: "prod", file: path.basename(files.prod), config: writtenConfig(files.prod), plan: plans.prod };
  const differences = compareStacks(left, right, allow);
  return { left, right, differences, violations: differences.filter((d) => !d.allowed) };
}
