// CrossGuard entry point: `pulumi preview --policy-pack policy`. The rules live in rules.ts; this
// file only adapts them to @pulumi/policy. Property reads go through CrossGuard's proxy, so a value
// still unknown during a preview turns the policy into an advisory "can't run during preview".
import * as fs from "node:fs";
import * as path from "node:path";
import { PolicyPack, type PolicyResource, type ResourceValidationArgs } from "@pulumi/policy";
import { parse } from "yaml";
import { RESOURCE_RULES, STACK_RULES, contextFor, type PolicyContext, type PolicyInput } from "./rules";

/** The pack lives inside the project, so it can read the previewed stack's own stack file. */
const PROJECT_DIR = process.env.ZENML_PLATFORM_PROJECT_DIR ?? path.resolve(__dirname, "..");
/** Used only when a stack file has no environment kind: stack names that count as prod. */
const PROD_STACKS = (process.env.ZENML_PLATFORM_PROD_STACKS ?? "prod").split(",").map((s) => s.trim());

const contexts = new Map<string, PolicyContext>();

function stackConfig(stack: string): Record<string, unknown> | undefined {
  try {
    const doc = parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> } | null;
    return doc?.config ?? undefined;
  } catch {
    return undefined; // no stack file here (e.g. a pack published elsewhere): fall back to the stack name
  }
}

export function contextOf(urn: string): PolicyContext {
  const stack = /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? "";
  let ctx = contexts.get(stack);
  if (!ctx) {
    ctx = contextFor(urn, { prodStacks: PROD_STACKS, stackConfig: stackConfig(stack) });
    contexts.set(stack, ctx);
  }
  return ctx;
}

/** The CLI prints the description above each message: the message says what is wrong and the fix. */
export const violationMessage = (finding: string, remediation: string) => `${finding}. Fix: ${remediation}`;

export function fromResource(r: ResourceValidationArgs | PolicyResource): PolicyInput {
  const stackResource = r as PolicyResource;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props,
    protect: r.opts.protect,
    parent: stackResource.parent?.urn ?? r.opts.parent,
    dependencies: (stackResource.dependencies ?? []).map((d) => d.urn),
  };
}

export const policyPack = new PolicyPack("zenml-platform", {
  policies: [
    ...RESOURCE_RULES.map((rule) => ({
      name: rule.name,
      description: rule.description,
      remediationSteps: rule.remediation,
      enforcementLevel: rule.enforcement,
      validateResource: (args: ResourceValidationArgs, reportViolation: (message: string) => void) => {
        if (!rule.types.includes(args.type)) return;
        for (const message of rule.check(fromResource(args), contextOf(args.urn))) reportViolation(violationMessage(message, rule.remediation));
      },
    })),
    ...STACK_RULES.map((rule) => ({
      name: rule.name,
      description: rule.description,
      remediationSteps: rule.remediation,
      enforcementLevel: rule.enforcement,
      validateStack: (args: { resources: PolicyResource[] }, reportViolation: (message: string, urn?: string) => void) => {
        const resources = args.resources.map(fromResource);
        if (resources.length === 0) return;
        for (const v of rule.check(resources, contextOf(resources[0].urn))) reportViolation(violationMessage(v.message, rule.remediation), v.urn);
      },
    })),
  ],
});
