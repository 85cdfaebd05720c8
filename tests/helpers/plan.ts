import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackOutputsByName } from "../../tools/offline/mocks";
import type { Plan, PlannedResource, Planner } from "../../tools/offline/plan";
import { ProgramFailed } from "../../tools/offline/plan-result";
import { ORGANIZATION, steadyStateOutputs } from "../../tools/offline/plan-inputs";
import { readProjectFile } from "../../tools/offline/stack-files";

export const PROJECT_DIR = path.resolve(__dirname, "../..");
export const STACKS = ["staging", "prod"] as const;
/** `node` arguments that run one of our .ts CLIs the way its npm script does (tools/loader). */
export const stackRef = (stack: string) => `${ORGANIZATION}/zenml-platform/${stack}`;

export interface TestPlanOptions {
  overrides?: Record<string, string>;
  /** Replaces what each stack reports as deployed, merged over the steady state; null = never deployed. */
  deployed?: Record<string, StackOutputsByName[string] | null>;
  stackFile?: string;
  /** images.lock.yaml's entries instead of the project's (components/image-lock.ts). */
  imageLock?: Record<string, Record<string, string>>;
  /** Images we build and the lock lacks get stand-in digests, as in every offline plan. Default: true; false shows the real refusal. */
  standInBuiltImages?: boolean;
  /** What AWS runs for the planned stack, by part (default: what its outputs record). */
  live?: Record<string, string>;
}

/**
 * Everything a plan is computed from, besides its arguments: any file of the repository except
 * those a plan cannot read (tests, docs, workflows, CI scripts, caches). The program embeds scripts and the
 * catalogue's source folders, which may be anywhere, so an allow-list would go stale silently.
 */
const NOT_PLAN_SOURCES = new Set([".git", ".ci", ".cache", "node_modules", "tests", "docs", ".github", "__pycache__", ".pytest_cache"]);
/** The test runner's, linter's and formatter's own settings: changing how tests run must not re-plan everything. */
const NOT_PLAN_SOURCES_AT_ROOT = new Set(["vitest.config.mts", "eslint.config.mjs", ".prettierrc.json", "README.md"]);
let sourcesDigest: string | undefined;
function planSourcesDigest(): string {
  if (sourcesDigest) return sourcesDigest;
  const hash = createHash("sha256");
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(PROJECT_DIR, rel), { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      if (NOT_PLAN_SOURCES.has(d.name) || (rel === "" && NOT_PLAN_SOURCES_AT_ROOT.has(d.name))) continue;
      const child = rel === "" ? d.name : path.join(rel, d.name);
      if (d.isDirectory()) walk(child);
      else if (d.isFile()) hash.update(child).update(fs.readFileSync(path.join(PROJECT_DIR, child)));
    }
  };
  walk("");
  return (sourcesDigest = hash.digest("hex"));
}

/**
 * Plans are shared by every test file and worker of a run: most files plan the same few stacks, and
 * each plan runs the whole program. Stored as JSON (a plan is plain data) and parsed per call, so
 * no test sees another's changes. A refusal is stored too and thrown again; a plan that fails by a
 * bug is never stored.
 */
// Plans warn by date (Kubernetes support windows), so yesterday's plan is not today's.
const TODAY = new Date().toISOString().slice(0, 10);
const PLAN_CACHE = path.join(PROJECT_DIR, "node_modules", ".cache", "zenml-platform", "plans");
let currentCacheDir: string | undefined;
/** This state of the sources' folder; the folders of earlier states are removed (a plan is ~130 KB, a run makes ~90). */
function planCacheDir(): string {
  if (currentCacheDir) return currentCacheDir;
  const current = createHash("sha256").update(planSourcesDigest()).update(TODAY).digest("hex").slice(0, 32);
  fs.mkdirSync(path.join(PLAN_CACHE, current), { recursive: true });
  for (const d of fs.readdirSync(PLAN_CACHE)) if (d !== current) fs.rmSync(path.join(PLAN_CACHE, d), { recursive: true, force: true });
  return (currentCacheDir = path.join(PLAN_CACHE, current));
}

/** A refusal as stored: the program's message and what it registered before it stopped. */
interface StoredRefusal {
  refused: { message: string; registeredTypes: string[] };
}

export async function cachedPlan(key: unknown, compute: () => Promise<Plan>): Promise<Plan> {
  const file = path.join(planCacheDir(), `${createHash("sha256").update(JSON.stringify(key)).digest("hex")}.json`);
  let stored: Plan | StoredRefusal | undefined;
  try {
    stored = JSON.parse(fs.readFileSync(file, "utf8")) as Plan | StoredRefusal;
  } catch {
    // not planned yet in this state of the sources
  }
  if (stored && "refused" in stored) throw new ProgramFailed(stored.refused.message, stored.refused.registeredTypes, true);
  if (stored) return stored;
  const store = (value: Plan | StoredRefusal) => {
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, JSON.stringify(value));
    fs.renameSync(partial, file); // whole or absent, even with workers writing the same plan
  };
  let fresh: Plan;
  try {
    fresh = await compute();
  } catch (err) {
    // A refusal is as deterministic as a plan; a bug is rethrown each time, with its stack.
    if (err instanceof ProgramFailed && err.userFacing) store({ refused: { message: err.message, registeredTypes: err.registeredTypes } });
    throw err;
  }
  store(fresh);
  return JSON.parse(JSON.stringify(fresh)) as Plan;
}

/**
 * runPlan through the cache, for code that takes a Planner (the CLIs, checkMirror). Keyed on what
 * runPlan reads besides the repository: the project and stack files of `projectDir`, which may be
 * a temporary tree. A custom program cannot be keyed, so it is always run.
 */
export const cachedRunPlan: Planner = async (options) => {
  const load = () => import("../../tools/offline/plan.js");
  if (options.program) return (await load()).runPlan(options);
  const text = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null);
  const project = text(path.join(options.projectDir, "Pulumi.yaml"));
  const stackFile = text(options.stackFile ?? path.join(options.projectDir, `Pulumi.${options.stack}.yaml`));
  // runPlan's default, resolved here so that it is part of the key.
  let stackOutputs = options.stackOutputs;
  try {
    stackOutputs ??= steadyStateOutputs(options.projectDir, readProjectFile(options.projectDir).name);
  } catch {
    return (await load()).runPlan(options); // an unreadable project: runPlan reports why
  }
  const resolved = { ...options, stackOutputs };
  return cachedPlan({ runPlan: { stack: options.stack, project, stackFile, overrides: options.overrides ?? {}, stackOutputs, live: options.live ?? null } }, async () => (await load()).runPlan(resolved));
};

/** Plans a stack with the real program, from the real stack files, under mocks. */
export function plan(stack: string, options: TestPlanOptions = {}): Promise<Plan> {
  const overrides = Object.fromEntries(Object.entries(options.overrides ?? {}).map(([k, v]) => [k.includes(":") ? k : `zenml-platform:${k}`, v]));
  const merged = { ...steadyStateOutputs(PROJECT_DIR, "zenml-platform"), ...(options.deployed ?? {}) };
  const stackOutputs: StackOutputsByName = {};
  for (const [name, outputs] of Object.entries(merged)) if (outputs) stackOutputs[name] = outputs;
  const stackFile = options.stackFile ? fs.readFileSync(options.stackFile, "utf8") : null;
  const { imageLock, live } = options;
  const standIn = options.standInBuiltImages ?? true;
  return cachedPlan({ stack, overrides, stackOutputs, stackFile, ...(imageLock ? { imageLock } : {}), ...(live ? { live } : {}), ...(standIn ? {} : { standInBuiltImages: false }) }, async () => {
    // Loaded on a cache miss only: a test file whose plans are all cached never loads Pulumi.
    const [{ runPlan }, { defineStack }] = await Promise.all([import("../../tools/offline/plan.js"), import("../../components/stack.js")]);
    return runPlan({ stack, projectDir: PROJECT_DIR, overrides, stackOutputs, stackFile: options.stackFile, live, program: () => defineStack({ imageLock, standInBuiltImages: standIn }) });
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
