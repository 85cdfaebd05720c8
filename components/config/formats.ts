// Building blocks of the config schema: patterns, ranges and the checks that explain a refusal.
import { z } from "zod";
import { boundedText, parseCidr } from "../cidr";

/** CloudWatch Logs accepts only these retention lengths. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Namespaces pipelines may not use: the cluster's, the server's, and the add-ons'. */
export const RESERVED_NAMESPACES = ["default", "zenml", "amazon-cloudwatch", "karpenter", "cert-manager"];
export const RESERVED_NAMESPACE_PREFIXES = ["kube-", "amazon-", "aws-", "eks-"];

export const int = (min: number, max: number) => z.number().int().min(min).max(max);
export const text = (pattern: RegExp) => z.string().regex(pattern);

export const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(\d|[12]\d|3[0-2])$/;
export const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const K8S_CPU = /^(\d+m|\d+(\.\d+)?)$/;
export const K8S_MEMORY = /^\d+(Mi|Gi)$/;
export const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
export const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/;

/** CPU in millicores of a Kubernetes quantity the K8S_CPU pattern accepts. */
export const millicores = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
export const mebibytes = (q: string) => Number(q.slice(0, -2)) * (q.endsWith("Gi") ? 1024 : 1);

/** A zod refinement that reports every message a check returns. */
export const check =
  <T>(explain: (v: T) => string[] | string | undefined) =>
  (v: T, ctx: z.RefinementCtx) => {
    const found = explain(v);
    for (const message of typeof found === "string" ? [found] : (found ?? []))
      ctx.addIssue({ code: "custom", message });
  };

/**
 * A list of CIDRs whose entries a rule of cidr.ts checks one by one, naming each bad entry (zod's
 * element errors would not). It parses any list; the config is only handed out once the rule
 * passed, so its entries are strings by then, which is what the type says.
 */
export const cidrList = (rule?: (list: unknown[]) => string[]) =>
  (rule ? z.array(z.unknown()).min(1).superRefine(check(rule)) : z.array(z.unknown()).min(1)) as unknown as z.ZodType<
    string[],
    unknown[]
  >;

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

export const explainVpcCidr = (v: string) => {
  const parsed = parseCidr(v);
  if ("error" in parsed) return `${JSON.stringify(boundedText(v))} ${parsed.error}`;
  const inPrivate = PRIVATE_RANGES.some((r) => {
    const p = parseCidr(r);
    return "range" in p && parsed.range.first >= p.range.first && parsed.range.end <= p.range.end;
  });
  if (!inPrivate) return `${JSON.stringify(v)} is not inside a private range (${PRIVATE_RANGES.join(", ")})`;
  if (parsed.prefix < 16 || parsed.prefix > 20) {
    return `${JSON.stringify(v)} has prefix /${parsed.prefix}; AWS allows a VPC of /16../28 and the subnet layout needs /16../20`;
  }
  return undefined;
};

export const explainNamespace = (n: string) =>
  RESERVED_NAMESPACES.includes(n) || RESERVED_NAMESPACE_PREFIXES.some((p) => n.startsWith(p))
    ? `"${n}" is not the program's to give away: pipelines would get edit rights next to the cluster, the server or an add-on`
    : undefined;
