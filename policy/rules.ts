// The platform's policies as plain functions over plain resources, so they run the same under
// CrossGuard (index.ts) and in unit tests over the offline plan, without a policy server.
import { PROJECT, environmentKindOf, type EnvironmentKind } from "../components/config";
import type { ContextSources, PolicyContext, PolicyInput, Violation } from "./model";
import { RESOURCE_RULES } from "./resource-rules";
import { STACK_RULES } from "./stack-rules";

export type { ContextSources, Enforcement, PolicyContext, PolicyInput, ResourceRule, StackRule, Violation } from "./model";
export { RESOURCE_RULES } from "./resource-rules";
export { STACK_RULES, STATEFUL_TYPES, deniesInsecureTransport } from "./stack-rules";

/**
 * The environment kind comes from the stack name (what the program itself derives), never from a
 * value the stack file declares: a prod file that says "staging" keeps prod's floors. A name that
 * gives no kind counts as prod unless listed otherwise, and a disagreeing declaration is reported.
 */
export function contextFor(urn: string, sources: ContextSources = {}): PolicyContext {
  const stack = /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? "";
  const fromName: EnvironmentKind = (sources.prodStacks ?? []).includes(stack) ? "prod" : environmentKindOf(stack) ?? "prod";
  const declared = sources.stackConfig?.[`${PROJECT}:environment`];
  const mismatch = declared !== undefined && declared !== fromName;
  const environment: EnvironmentKind = mismatch ? "prod" : fromName;
  const pin = sources.stackConfig?.[`${PROJECT}:zenmlVersion`];
  return {
    stack,
    environment,
    isProd: environment === "prod",
    ...(typeof pin === "string" ? { pinnedVersion: pin } : {}),
    ...(mismatch ? { declaredMismatch: `the stack file declares environment ${JSON.stringify(declared)}, but the stack name "${stack}" makes it ${fromName}` } : {}),
  };
}

/** Runs every policy over a stack's resources. */
export function evaluate(resources: PolicyInput[], ctx: PolicyContext): Violation[] {
  const out: Violation[] = [];
  for (const rule of RESOURCE_RULES) {
    for (const r of resources.filter((x) => rule.types.includes(x.type))) {
      for (const message of rule.check(r, ctx)) out.push({ policy: rule.name, enforcement: rule.enforcement, message, urn: r.urn });
    }
  }
  for (const rule of STACK_RULES) {
    for (const v of rule.check(resources, ctx)) out.push({ policy: rule.name, enforcement: rule.enforcement, ...v });
  }
  return out;
}
