// CrossGuard entry point: `pulumi preview --policy-pack policy`. The rules live in rules.ts.
import { PolicyPack, type PolicyResource, type ResourceValidationArgs } from "@pulumi/policy";
import { RESOURCE_RULES, STACK_RULES, contextFor, type PolicyInput } from "./rules";

const PROD_STACKS = (process.env.ZENML_PLATFORM_PROD_STACKS ?? "prod").split(",").map((s) => s.trim());

function fromResource(r: ResourceValidationArgs | PolicyResource): PolicyInput {
  const stackResource = r as PolicyResource;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props,
    protect: r.opts.protect,
    parent: stackResource.parent?.urn,
    dependencies: (stackResource.dependencies ?? []).map((d) => d.urn),
  };
}

new PolicyPack("zenml-platform", {
  policies: [
    ...RESOURCE_RULES.map((rule) => ({
      name: rule.name,
      description: `${rule.description} Remediation: ${rule.remediation}`,
      enforcementLevel: rule.enforcement,
      validateResource: (args: ResourceValidationArgs, reportViolation: (message: string) => void) => {
        if (!rule.types.includes(args.type)) return;
        for (const message of rule.check(fromResource(args), contextFor(args.urn, PROD_STACKS))) reportViolation(`${message}. ${rule.remediation}`);
      },
    })),
    ...STACK_RULES.map((rule) => ({
      name: rule.name,
      description: `${rule.description} Remediation: ${rule.remediation}`,
      enforcementLevel: rule.enforcement,
      validateStack: (args: { resources: PolicyResource[] }, reportViolation: (message: string, urn?: string) => void) => {
        const resources = args.resources.map(fromResource);
        const ctx = contextFor(resources[0]?.urn ?? "", PROD_STACKS);
        for (const v of rule.check(resources, ctx)) reportViolation(`${v.message}. ${rule.remediation}`, v.urn);
      },
    })),
  ],
});
