// The replacement guard: on the story's deployed prod, every config key is changed to another
// valid value (tools/engine/guard-variants.ts) and previewed under the engine. A key passes when
// no stateful resource (database, snapshot, bucket, registry, KMS key, generated secret) would be
// replaced or deleted, or when the program refuses the edit before the engine, saying what would
// be lost. The engine refusing (a protected resource in the way) is a failure: the edit would pass
// review and break the deploy.
import * as pulumi from "@pulumi/pulumi";
import { GUARD_VARIANTS, isFixed, type Variant } from "./guard-variants";
import { Checks, type ScenarioResult, type Story } from "./story";
import { STATEFUL_TYPES, effectiveSteps, firstLines, statefulLosses, stepList, summarize } from "./steps";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { World, type Outcome } from "./world";

export type Verdict = "safe" | "refused" | "loses";

export interface KeyResult {
  key: string;
  change: string;
  verdict: Verdict;
  /** What the preview would do, or the refusal's first line. */
  detail: string;
  /** Resources the edit replaces (any kind): the report's "keys that would replace something". */
  replaces: string[];
  /** The preview's steps, one a line (empty for an edit previewed in a batch that passed). */
  steps: string[];
  seconds: number;
}

/** Messages the engine (not the program) stops on. */
const ENGINE_REFUSAL = /marked for protection|protected|cannot be (deleted|replaced)/i;

/** The verdict on one previewed edit. Pure. */
export function verdictOf(outcome: Outcome): { verdict: Verdict; detail: string; replaces: string[]; steps: string[] } {
  const steps = stepList(outcome);
  const replaces = effectiveSteps(outcome).filter((s) => s.op === "replace").map((s) => `${s.type.split(":").pop()} ${s.name}`);
  if (!outcome.ok) {
    const message = firstLines(outcome.error, 1);
    if (ENGINE_REFUSAL.test(outcome.error ?? "")) return { verdict: "loses", detail: `the engine stops: ${message}`, replaces, steps };
    return { verdict: "refused", detail: message, replaces, steps };
  }
  const losses = statefulLosses(outcome);
  if (losses.length > 0) return { verdict: "loses", detail: losses.map((s) => `${s.op === "replace" ? "replaces" : "deletes"} ${STATEFUL_TYPES[s.type]} ${s.name}`).join(", "), replaces, steps };
  return { verdict: "safe", detail: summarize(outcome, 4), replaces, steps };
}

const describe = (change: Record<string, unknown>) => Object.entries(change).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");

async function previewKey(story: Story, variant: Variant, program?: PulumiFn): Promise<KeyResult> {
  await story.world.configure("prod", { ...story.pins.prod, ...variant.change });
  const outcome = await story.world.preview("prod", program);
  await story.world.configure("prod", story.pins.prod);
  return { key: variant.key, change: describe(variant.change), ...verdictOf(outcome), seconds: outcome.seconds };
}

/** A second staging stack holding staging's outputs, for promotionSourceStack's edit. */
async function copyStaging(world: World): Promise<void> {
  const exported = await world.exportDeployment("staging");
  const text = JSON.stringify(exported).replaceAll("urn:pulumi:staging::", "urn:pulumi:staging-2::");
  const copy = JSON.parse(text) as typeof exported;
  const resources = (copy.deployment.resources ?? []) as { type: string; outputs?: Record<string, unknown> }[];
  const stackResource = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const facts = stackResource?.outputs?.crossStackFacts as Record<string, unknown> | undefined;
  if (facts) facts.stack = "staging-2";
  // Only the stack's outputs matter to a StackReference; the other resources, and the secret
  // outputs (the promotion gate reads none), stay out of this copy.
  if (stackResource?.outputs) stackResource.outputs = Object.fromEntries(Object.entries(stackResource.outputs).filter(([, v]) => !(v !== null && typeof v === "object" && "4dabf18193072939515e22adb298388d" in v)));
  copy.deployment.resources = stackResource ? [stackResource] : [];
  await world.configure("staging-2", {}, {});
  await world.importDeployment("staging-2", copy);
}

/** Keys that move a versioned part: two of them in one preview would be refused as two parts at once. */
const PART_KEYS = new Set(["zenmlVersion", "kubernetesVersion", "dbEngineVersion", "mlflowVersion", "eksAddonVersions", "rollbackSnapshot"]);

/** Edits that can be previewed together: no key twice, at most one part moving, `size` at most. */
export function batches(variants: Variant[], size: number): Variant[][] {
  const out: Variant[][] = [];
  for (const v of variants) {
    const keys = Object.keys(v.change);
    const moves = keys.some((k) => PART_KEYS.has(k));
    const fits = (b: Variant[]) =>
      b.length < size && b.every((o) => Object.keys(o.change).every((k) => !keys.includes(k))) && !(moves && b.some((o) => Object.keys(o.change).some((k) => PART_KEYS.has(k))));
    const batch = out.find(fits);
    if (batch) batch.push(v);
    else out.push([v]);
  }
  return out;
}

/**
 * Previews a batch of edits at once; when the batch loses state, is refused or the engine stops,
 * each half is previewed again, down to single edits. A replacement the batch causes elsewhere
 * is reported with the batch, not pinned on a key (use --each for that).
 */
async function previewBatch(story: Story, batch: Variant[], progress: (line: string) => void): Promise<KeyResult[]> {
  if (batch.length === 1) {
    const result = await previewKey(story, batch[0]);
    progress(`  ${result.verdict.padEnd(7)} ${result.key}: ${result.detail}`);
    return [result];
  }
  const merged: Variant = { key: batch.map((v) => v.key).join(", "), change: Object.assign({}, ...batch.map((v) => v.change)) };
  const together = await previewKey(story, merged);
  if (together.verdict === "safe") {
    progress(`  safe    ${merged.key} (previewed together): ${together.detail}`);
    return batch.map((v) => ({ key: v.key, change: describe(v.change), verdict: "safe", detail: `previewed with ${batch.length - 1} other edits: ${together.detail}`, replaces: [], steps: [], seconds: together.seconds / batch.length }));
  }
  const half = Math.ceil(batch.length / 2);
  return [...(await previewBatch(story, batch.slice(0, half), progress)), ...(await previewBatch(story, batch.slice(half), progress))];
}

export interface GuardOptions {
  /** One preview per edit (slower; every edit's own steps in the report). Default: batches, split on a failure. */
  each?: boolean;
  batchSize?: number;
}

/** Runs every variant; returns one result per edit. */
export async function runGuard(story: Story, options: GuardOptions = {}, progress: (line: string) => void = () => undefined): Promise<KeyResult[]> {
  await copyStaging(story.world);
  const results: KeyResult[] = GUARD_VARIANTS.filter(isFixed).map((v) => ({ key: v.key, change: "(none)", verdict: "safe", detail: `no other valid value: ${v.fixed}`, replaces: [], steps: [], seconds: 0 }));
  const variants = GUARD_VARIANTS.filter((v): v is Variant => !isFixed(v));
  for (const batch of batches(variants, options.each ? 1 : (options.batchSize ?? 8))) results.push(...(await previewBatch(story, batch, progress)));
  const order = GUARD_VARIANTS.map((v) => v.key);
  return results.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
}

export function guardScenario(results: KeyResult[]): ScenarioResult {
  const c = new Checks();
  for (const r of results) c.that(r.verdict !== "loses", `${r.key} (${r.change}): ${r.detail}`);
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  const keys = new Set(results.map((r) => r.key)).size;
  return c.done("replacement guard: every config key edited on prod", `${keys} keys, ${results.length} edits: ${count("safe")} safe, ${count("refused")} refused by the program, ${count("loses")} losing state`);
}

/**
 * The guard's own test: a program in which serverReplicas feeds the database's name (a ForceNew
 * input) must make the guard report serverReplicas as losing the database.
 */
export async function guardCatchesReplacement(story: Story): Promise<ScenarioResult> {
  const c = new Checks();
  const replicas = Number(story.pins.prod.serverReplicas ?? 2);
  const program: PulumiFn = async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      if (args.type !== "aws:rds/instance:Instance" || args.name.includes("restored")) return undefined;
      const dbName = Number(pulumi.runtime.allConfig()["zenml-platform:serverReplicas"]) === replicas ? args.props.dbName : `zenml_r${pulumi.runtime.allConfig()["zenml-platform:serverReplicas"]}`;
      return { props: { ...args.props, dbName }, opts: args.opts };
    });
    return World.program();
  };
  const result = await previewKey(story, { key: "serverReplicas", change: { serverReplicas: replicas + 1 } }, program);
  c.that(result.verdict === "loses" && /database|rds|protect/i.test(result.detail), `the guard let a database replacement through: ${result.verdict}: ${result.detail}`);
  return c.done("the guard fails when an edit replaces the database", `serverReplicas feeding the database name: ${result.verdict}: ${result.detail}`);
}
