// What a plan is, and the error a refused program raises: everything a CLI needs before it plans,
// without loading Pulumi and the program (about 1.5 s), so a bad flag or stack name answers at once.
import type { StackOutputsByName } from "./mocks";

export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  custom: boolean;
  inputs: Record<string, unknown>;
  /** aliases: every earlier URN the engine will treat as this resource (own aliases and those inherited from aliased parents). */
  options: { protect: boolean; retainOnDelete: boolean; dependsOn: string[]; aliases: string[] };
}

export interface Plan {
  stack: string;
  project: string;
  note: string;
  resources: PlannedResource[];
  outputs: Record<string, unknown>;
  warnings: string[];
  /** Each versioned part, deployed -> desired, and what applying it does (the program's upgradeReport output). */
  upgradeReport?: unknown;
}

export interface PlanOptions {
  stack: string;
  projectDir: string;
  /** Stack file to read instead of Pulumi.<stack>.yaml (same stack name). */
  stackFile?: string;
  /** Raw config values that replace the file's, by fully qualified key. */
  overrides?: Record<string, string>;
  /**
   * What each referenced stack reports as deployed. Default: every stack runs the version its own
   * file pins (an unchanged deploy), which is what a PR preview shows for a mirror-only change.
   */
  stackOutputs?: StackOutputsByName;
  /**
   * What AWS runs for the planned stack, by part, for the parts AWS can move (the program's live
   * reads). Default: what the stack's own outputs record, i.e. nothing moved under it.
   */
  live?: Record<string, string>;
  /** The program; defaults to the real one (what index.ts exports). */
  program?: () => Promise<Record<string, unknown>>;
}

/** Computes a plan: runPlan itself, or a caller's stand-in that remembers plans (the tests' cache). */
export type Planner = (options: PlanOptions) => Promise<Plan>;

/** The program refused to run; `registeredTypes` shows how far it got (reads and resources). */
export class ProgramFailed extends Error {
  constructor(
    message: string,
    public readonly registeredTypes: string[],
    public readonly userFacing: boolean,
    /** What the program threw (a bug's own stack is there). */
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = "ProgramFailed";
  }
}

export const PLAN_NOTE = "Desired state computed offline under Pulumi mocks; it is not a diff against the cloud.";

/** runPlan, loaded on the first plan: a CLI that fails before planning never loads Pulumi. */
export const planOnDemand: Planner = async (options) => {
  // require, not import(): the program's .ts files load through the same hook as this one.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runPlan } = require("./plan") as typeof import("./plan");
  return runPlan(options);
};
