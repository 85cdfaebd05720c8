/** Tags spread into every taggable resource, so cost reports and audits can tell environments apart. */
export function baseTags(environmentName: string, component: string): Record<string, string> {
  return { project: "zenml-platform", stack: environmentName, component, "managed-by": "pulumi" };
}
