// What the policies are written against: the plain view of a resource and a stack that both
// CrossGuard (index.ts) and the offline plan map to, the rule shapes, and small readers of props.
import type { EnvironmentKind } from "../components/config";

export type Enforcement = "mandatory" | "advisory";

/** What a policy sees of a resource: CrossGuard's view and the offline plan both map to this. */
export interface PolicyInput {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  protect: boolean;
  parent?: string;
  /** URNs this resource depends on. */
  dependencies: string[];
}

export interface PolicyContext {
  stack: string;
  /** The environment kind whose floors apply (ENVIRONMENT_MINIMUMS). */
  environment: EnvironmentKind;
  isProd: boolean;
  /** zenmlVersion pinned in the stack file, when the pack can read it. */
  pinnedVersion?: string;
  /** Set when the stack file declares a kind its name does not give: the stricter kind applies. */
  declaredMismatch?: string;
}

export interface ContextSources {
  /** Stack names treated as prod when the stack file gives no environment kind; default ["prod"]. */
  prodStacks?: readonly string[];
  /** The `config:` map of the stack's Pulumi.<stack>.yaml, when readable. */
  stackConfig?: Record<string, unknown>;
}

export interface Violation {
  policy: string;
  enforcement: Enforcement;
  message: string;
  urn?: string;
}

interface Rule {
  name: string;
  description: string;
  enforcement: Enforcement;
  remediation: string;
}

export interface ResourceRule extends Rule {
  types: string[];
  check(r: PolicyInput, ctx: PolicyContext): string[];
}

export interface StackRule extends Rule {
  check(resources: PolicyInput[], ctx: PolicyContext): { message: string; urn?: string }[];
}

// The resource types the rules read.
export const RDS = "aws:rds/instance:Instance";
export const BUCKET = "aws:s3/bucket:Bucket";
export const ECR = "aws:ecr/repository:Repository";
export const EKS = "eks:index:Cluster";
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const SNAPSHOT = "aws:rds/snapshot:Snapshot";
export const PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup";

export const get = (value: unknown, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), value);
export const when = (failed: boolean, message: string) => (failed ? [message] : []);
/** The ZenML chart's release (a resource rule's types also admit other Helm releases). */
export const isZenmlRelease = (r: PolicyInput): boolean => r.type === RELEASE && String(r.props.chart ?? "").includes("zenml");
/** Findings about one resource: each message at its URN. */
export const findingsAt = (urn: string, messages: string[]): { message: string; urn: string }[] => messages.map((message) => ({ message, urn }));
