// The state the scenarios share: one world (one backend), each stack's pinned versions as the
// scenarios moved them, and every update the engine ran, for the report.
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { World, type ConfigValue, type Outcome } from "./world";
import { firstLines, stepList, summarize } from "./steps";

export type StackName = "staging" | "prod" | "staging-2";

/** One engine operation of a scenario, as the report shows it. */
export interface Update {
  stack: string;
  label: string;
  kind: "up" | "preview" | "destroy";
  ok: boolean;
  seconds: number;
  summary: string;
  steps: string[];
  error?: string;
}

export interface ScenarioResult {
  name: string;
  passed: boolean;
  /** One line: what happened. */
  summary: string;
  /** What did not hold, one line each. */
  problems: string[];
  updates: Update[];
}

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

/** The config of an MLflow server at `version` for `stack` (image pinned by digest, its own hostname). */
export const mlflowConfig = (stack: string, version: string): Record<string, ConfigValue> => ({
  mlflowVersion: version,
  mlflowImage: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow-server:${version}@${DIGEST}`,
  mlflowHostname: `mlflow.${stack === "prod" ? "" : `${stack}.`}example.com`,
});

/** The versions both stacks start from: pinned here, so a change of the repository's stack files does not move the story. */
export const FIRST_PINS: Record<string, ConfigValue> = { zenmlVersion: "0.97.0", kubernetesVersion: "1.34", dbEngineVersion: "8.0" };

export class Story {
  readonly pins: Record<string, Record<string, ConfigValue>> = { staging: { ...FIRST_PINS }, prod: { ...FIRST_PINS } };

  constructor(readonly world: World) {}

  private record(stack: string, label: string, kind: Update["kind"], outcome: Outcome): Update {
    return { stack, label, kind, ok: outcome.ok, seconds: outcome.seconds, summary: outcome.ok ? summarize(outcome) : `refused: ${firstLines(outcome.error)}`, steps: stepList(outcome), ...(outcome.ok ? {} : { error: outcome.error }) };
  }

  /** `pulumi up` of `stack` with `change` on top of its pins; the pins move only when the update succeeds. */
  async up(stack: StackName, change: Record<string, ConfigValue>, label: string): Promise<{ outcome: Outcome; update: Update }> {
    await this.world.configure(stack, { ...this.pins[stack], ...change });
    const outcome = await this.world.up(stack);
    if (outcome.ok) this.pins[stack] = { ...this.pins[stack], ...change };
    await this.world.configure(stack, this.pins[stack]);
    return { outcome, update: this.record(stack, label, "up", outcome) };
  }

  /** `pulumi preview` of `stack` with `change` (and `program` instead of the world's); the stack file is put back afterwards. */
  async preview(stack: StackName, change: Record<string, ConfigValue>, label: string, raw: Record<string, unknown> = {}, program?: PulumiFn): Promise<{ outcome: Outcome; update: Update }> {
    await this.world.configure(stack, { ...this.pins[stack], ...change }, raw);
    const outcome = await this.world.preview(stack, program);
    await this.world.configure(stack, this.pins[stack]);
    return { outcome, update: this.record(stack, label, "preview", outcome) };
  }

  async destroy(stack: StackName, label: string): Promise<{ outcome: Outcome; update: Update }> {
    const outcome = await this.world.destroy(stack);
    return { outcome, update: this.record(stack, label, "destroy", outcome) };
  }
}

/** Collects what a scenario expects; `done` turns it into a result. */
export class Checks {
  readonly problems: string[] = [];
  readonly updates: Update[] = [];

  that(condition: boolean, problem: string): boolean {
    if (!condition) this.problems.push(problem);
    return condition;
  }

  /** Records an engine operation, failing the scenario when its success is not what was expected. */
  ran(result: { outcome: Outcome; update: Update }, expectOk: boolean): Outcome {
    this.updates.push(result.update);
    const u = result.update;
    this.that(u.ok === expectOk, expectOk ? `${u.stack} ${u.label}: expected to succeed, got: ${firstLines(u.error, 3)}` : `${u.stack} ${u.label}: expected a refusal, but it succeeded (${u.summary})`);
    return result.outcome;
  }

  done(name: string, summary: string): ScenarioResult {
    return { name, passed: this.problems.length === 0, summary, problems: this.problems, updates: this.updates };
  }
}
