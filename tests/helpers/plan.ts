import * as path from "node:path";
import { defineStack } from "../../components/stack";
import { ORGANIZATION, runPlan, steadyStateOutputs, type Plan, type PlannedResource } from "../../tools/offline/plan";
import type { StackOutputsByName } from "../../tools/offline/mocks";

export const PROJECT_DIR = path.resolve(__dirname, "../..");
export const STACKS = ["staging", "prod"] as const;
/** `node` arguments that run one of our .ts CLIs the way its npm script does (tools/loader). */
export const runTs = (...argv: string[]): string[] => ["--require", path.join(PROJECT_DIR, "tools", "loader", "register.cjs"), ...argv];
export const stackRef = (stack: string) => `${ORGANIZATION}/zenml-platform/${stack}`;

export interface TestPlanOptions {
  overrides?: Record<string, string>;
  /** Replaces what each stack reports as deployed, merged over the steady state; null = never deployed. */
  deployed?: Record<string, StackOutputsByName[string] | null>;
  stackFile?: string;
}

/** Plans a stack with the real program, from the real stack files, under mocks. */
export function plan(stack: string, options: TestPlanOptions = {}): Promise<Plan> {
  const overrides = Object.fromEntries(Object.entries(options.overrides ?? {}).map(([k, v]) => [k.includes(":") ? k : `zenml-platform:${k}`, v]));
  const merged = { ...steadyStateOutputs(PROJECT_DIR, "zenml-platform"), ...(options.deployed ?? {}) };
  const stackOutputs: StackOutputsByName = {};
  for (const [name, outputs] of Object.entries(merged)) if (outputs) stackOutputs[name] = outputs;
  return runPlan({ stack, projectDir: PROJECT_DIR, overrides, stackOutputs, stackFile: options.stackFile, program: defineStack });
}

export function ofType(p: Plan, type: string): PlannedResource[] {
  return p.resources.filter((r) => r.type === type);
}

export function one(p: Plan, type: string): PlannedResource {
  const found = ofType(p, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/** Reads a nested input by dotted path. */
export function at(value: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), value);
}

export function named(p: Plan, name: string): PlannedResource {
  const found = p.resources.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
  return found[0];
}
