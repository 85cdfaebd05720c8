// Runs the real program under Pulumi's mocks and records the desired environment: every resource
// with its inputs and options, and the stack outputs. This is desired state, not a diff.
import * as pulumi from "@pulumi/pulumi";
import { PlatformMocks } from "./mocks";
// index.ts is `export = defineStack`; importing it here would need a CommonJS-only syntax.
import { defineStack } from "../../components/stack";
import { ORGANIZATION, recordedLive, steadyStateOutputs } from "./plan-inputs";
import { PLAN_NOTE, ProgramFailed, type Plan, type PlanOptions, type PlannedResource } from "./plan-result";
import { SECRET_PLACEHOLDER, readProjectFile, readStackConfig } from "./stack-files";

// Re-exported: the plan's inputs and result types live apart so that reading them does not load the program.
export { ORGANIZATION, deployedOutputs, historyOutputs, pinnedParts, recordedLive, steadyStateOutputs } from "./plan-inputs";
export { PLAN_NOTE, ProgramFailed, planOnDemand, type Plan, type PlanOptions, type PlannedResource, type Planner } from "./plan-result";

interface Captured {
  resource: pulumi.Resource;
  type: string;
  name: string;
  custom: boolean;
  props: Record<string, unknown>;
  opts: pulumi.CustomResourceOptions & pulumi.ComponentResourceOptions;
}

function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => { resolve(v); return v; }));
}

/** Resolves Outputs and Promises inside a value, replacing anything secret with the placeholder. */
async function reveal(value: unknown, depth = 0): Promise<unknown> {
  if (depth > 40) return "[too deep]";
  if (pulumi.Output.isInstance(value)) {
    if (await pulumi.isSecret(value)) return SECRET_PLACEHOLDER;
    return reveal(await valueOf(value), depth + 1);
  }
  if (value instanceof Promise) return reveal(await value, depth + 1);
  if (pulumi.Resource.isInstance(value)) return `[resource ${await valueOf(value.urn)}]`;
  if (Array.isArray(value)) return Promise.all(value.map((v) => reveal(v, depth + 1)));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(Object.entries(value).filter(([, v]) => v !== undefined).map(async ([k, v]) => [k, await reveal(v, depth + 1)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

async function dependencyUrns(dependsOn: unknown): Promise<string[]> {
  if (dependsOn === undefined) return [];
  const resolved = pulumi.Output.isInstance(dependsOn) ? await valueOf(dependsOn) : await dependsOn;
  const list = Array.isArray(resolved) ? resolved : [resolved];
  return Promise.all(list.filter((r): r is pulumi.Resource => pulumi.Resource.isInstance(r)).map((r) => valueOf(r.urn)));
}

const urnParts = (urn: string) => {
  const [prefix, stack, project, types, ...name] = urn.split("::");
  return { head: `${prefix}::${stack}::${project}`, types: types.split("$"), name: name.join("::") };
};

/**
 * The URNs the engine will match this resource against: the SDK collapses its own aliases into
 * `__aliases` in the constructor; an aliased parent gives each child one more, as the engine derives it.
 */
async function aliasUrns(resource: pulumi.Resource, urn: string, parentAliases: string[], parent: string | null): Promise<string[]> {
  const own = ((resource as unknown as { __aliases?: pulumi.Output<string>[] }).__aliases ?? []).map(valueOf);
  const result = new Set(await Promise.all(own));
  if (parent) {
    const self = urnParts(urn);
    const parentName = urnParts(parent).name;
    for (const alias of parentAliases) {
      const aliased = urnParts(alias);
      const name = self.name.startsWith(parentName) ? aliased.name + self.name.slice(parentName.length) : self.name;
      result.add(`${aliased.head}::${[...aliased.types, self.types[self.types.length - 1]].join("$")}::${name}`);
    }
  }
  return [...result].sort();
}

export async function runPlan(options: PlanOptions): Promise<Plan> {
  // Pulumi records `new Error().stack` for every promise it makes (runtime/debuggable.js) and reads
  // them only for PULUMI_DEBUG_PROMISE_LEAKS: capturing them was 40% of a plan's time. A program
  // that fails by a bug (not a refusal) is planned again with stacks, to show where it failed.
  const withStacks = Boolean(process.env.PULUMI_DEBUG_PROMISE_LEAKS);
  try {
    return await withStackTraceLimit(withStacks ? Error.stackTraceLimit : 0, () => planUnderMocks(options));
  } catch (err) {
    if (withStacks || !(err instanceof ProgramFailed) || err.userFacing) throw err;
    // The failed stack still registers its outputs; planning again first would hand them to the new mocks.
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    return await planUnderMocks(options); // throws again, its cause with the program's stack
  }
}

async function withStackTraceLimit<T>(limit: number, body: () => Promise<T>): Promise<T> {
  const original = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  try {
    return await body();
  } finally {
    Error.stackTraceLimit = original;
  }
}

async function planUnderMocks(options: PlanOptions): Promise<Plan> {
  const project = readProjectFile(options.projectDir).name;
  const config = readStackConfig(options.projectDir, options.stack, options.stackFile);
  const values = { ...config.values, ...(options.overrides ?? {}) };
  const region = values["aws:region"] ?? "us-east-1";

  const stackOutputs = options.stackOutputs ?? steadyStateOutputs(options.projectDir, project);
  const live = options.live ?? recordedLive(stackOutputs[`${ORGANIZATION}/${project}/${options.stack}`]);
  await pulumi.runtime.setMocks(new PlatformMocks(region, stackOutputs, live), project, options.stack, false, ORGANIZATION);
  pulumi.runtime.setAllConfig(values, config.secretKeys);

  const captured: Captured[] = [];
  const warnings: string[] = [];
  const program = options.program ?? defineStack;
  const originalWarn = pulumi.log.warn;
  pulumi.log.warn = async (msg: string) => { warnings.push(msg); };
  // Kept as the program returned them: the runtime's resolved copy has lost which values are secret.
  let returned: Record<string, unknown> = {};
  // Caught inside the stack's init: a rejection escaping it also surfaces as an unhandled one.
  let failure: unknown;
  try {
    await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        captured.push({ resource: args.resource, type: args.type, name: args.name, custom: args.resource instanceof pulumi.CustomResource, props: args.props, opts: args.opts });
        return undefined;
      });
      try {
        returned = await program();
      } catch (err) {
        failure = err;
      }
      return returned;
    });
  } finally {
    pulumi.log.warn = originalWarn;
  }
  if (failure !== undefined) {
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new ProgramFailed(message, captured.map((c) => c.type), failure instanceof pulumi.RunError, failure);
  }

  const resources: PlannedResource[] = [];
  const aliasesByUrn = new Map<string, string[]>();
  for (const c of captured) {
    const urn = await valueOf(c.resource.urn);
    const parent = c.opts.parent ? await valueOf(c.opts.parent.urn) : null;
    aliasesByUrn.set(urn, await aliasUrns(c.resource, urn, parent ? (aliasesByUrn.get(parent) ?? []) : [], parent));
    resources.push({
      urn,
      type: c.type,
      name: c.name,
      parent,
      custom: c.custom,
      inputs: (await reveal(c.props)) as Record<string, unknown>,
      options: { protect: c.opts.protect === true, retainOnDelete: c.opts.retainOnDelete === true, dependsOn: await dependencyUrns(c.opts.dependsOn), aliases: aliasesByUrn.get(urn) ?? [] },
    });
  }
  const outputs = (await reveal(returned)) as Record<string, unknown>;
  return { stack: options.stack, project, note: PLAN_NOTE, resources, outputs, warnings, ...(outputs.upgradeReport ? { upgradeReport: outputs.upgradeReport } : {}) };
}
