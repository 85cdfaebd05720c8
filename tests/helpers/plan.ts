import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackOutputsByName } from "../../tools/offline/mocks";
import type { Plan, PlannedResource } from "../../tools/offline/plan";
import { ORGANIZATION, steadyStateOutputs } from "../../tools/offline/plan-inputs";

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

/**
 * Everything a plan is computed from, besides its arguments: the program, the offline tooling, the
 * files the program embeds (registration/), the project and stack files and the locked
 * dependencies. A change to any of them is a new plan.
 */
const PLAN_SOURCES = ["index.ts", "components", path.join("tools", "offline"), "registration", "package-lock.json"];
let sourcesDigest: string | undefined;
function planSourcesDigest(): string {
  if (sourcesDigest) return sourcesDigest;
  const hash = createHash("sha256");
  const add = (file: string) => hash.update(file).update(fs.readFileSync(path.join(PROJECT_DIR, file)));
  for (const entry of PLAN_SOURCES) {
    if (fs.statSync(path.join(PROJECT_DIR, entry)).isFile()) add(entry);
    else
      for (const f of (fs.readdirSync(path.join(PROJECT_DIR, entry), { recursive: true }) as string[]).sort())
        if (!f.split(path.sep).includes("__pycache__") && fs.statSync(path.join(PROJECT_DIR, entry, f)).isFile()) add(path.join(entry, f));
  }
  for (const f of fs.readdirSync(PROJECT_DIR).sort()) if (/^Pulumi(\..+)?\.yaml$/.test(f)) add(f);
  return (sourcesDigest = hash.digest("hex"));
}

/**
 * Plans are shared by every test file and worker of a run: most files plan the same few stacks, and
 * each plan runs the whole program. Stored as JSON (a plan is plain data) and parsed per call, so
 * no test sees another's changes. A failing plan is never stored: its error is rethrown each time.
 */
const PLAN_CACHE = path.join(PROJECT_DIR, "node_modules", ".cache", "zenml-platform", "plans");
async function cachedPlan(key: unknown, compute: () => Promise<Plan>): Promise<Plan> {
  const file = path.join(PLAN_CACHE, `${createHash("sha256").update(planSourcesDigest()).update(JSON.stringify(key)).digest("hex")}.json`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Plan;
  } catch {
    // not planned yet in this state of the sources
  }
  const fresh = await compute();
  fs.mkdirSync(PLAN_CACHE, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, JSON.stringify(fresh));
  fs.renameSync(partial, file); // whole or absent, even with workers writing the same plan
  return JSON.parse(JSON.stringify(fresh)) as Plan;
}

/** Plans a stack with the real program, from the real stack files, under mocks. */
export function plan(stack: string, options: TestPlanOptions = {}): Promise<Plan> {
  const overrides = Object.fromEntries(Object.entries(options.overrides ?? {}).map(([k, v]) => [k.includes(":") ? k : `zenml-platform:${k}`, v]));
  const merged = { ...steadyStateOutputs(PROJECT_DIR, "zenml-platform"), ...(options.deployed ?? {}) };
  const stackOutputs: StackOutputsByName = {};
  for (const [name, outputs] of Object.entries(merged)) if (outputs) stackOutputs[name] = outputs;
  const stackFile = options.stackFile ? fs.readFileSync(options.stackFile, "utf8") : null;
  return cachedPlan({ stack, overrides, stackOutputs, stackFile }, async () => {
    // Loaded on a cache miss only: a test file whose plans are all cached never loads Pulumi.
    const [{ runPlan }, { defineStack }] = await Promise.all([import("../../tools/offline/plan.js"), import("../../components/stack.js")]);
    return runPlan({ stack, projectDir: PROJECT_DIR, overrides, stackOutputs, stackFile: options.stackFile, program: defineStack });
  });
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
