// What a stolen token, a pipeline pod running user code or an open load balancer could reach.
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ipaddr from "ipaddr.js";
import { beforeAll, describe, expect, it } from "vitest";
import type { Plan, PlannedResource } from "../tools/offline/plan";
import { rdsCaBundle } from "../components/rds-ca";
import { PROJECT_DIR, STACKS, at, named, ofType, one, plan } from "./helpers/plan";

const plans: Record<string, Plan> = {};
beforeAll(async () => {
  for (const stack of STACKS) plans[stack] = await plan(stack);
});
const RELEASE = "kubernetes:helm.sh/v3:Release";
const zenmlValues = (p: Plan) => at(one(p, RELEASE).inputs, "values") as Record<string, unknown>;

interface Rule { to?: { ipBlock?: { cidr: string; except?: string[] } }[]; ports?: { protocol?: string; port?: number; endPort?: number }[] }
interface Policy { metadata: { namespace: string }; spec: { podSelector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values: string[] }[] }; policyTypes: string[]; egress: Rule[] } }

/** Kubernetes NetworkPolicy semantics for one pod's egress: isolated pods may send only what a rule admits. */
function selects(policy: Policy, namespace: string, labels: Record<string, string>): boolean {
  if (policy.metadata.namespace !== namespace) return false;
  const { matchLabels = {}, matchExpressions = [] } = policy.spec.podSelector;
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v) && matchExpressions.every((e) => (e.operator === "NotIn" ? !e.values.includes(labels[e.key]) : e.values.includes(labels[e.key])));
}
function egressAllowed(policies: Policy[], namespace: string, labels: Record<string, string>, ip: string, port: number, protocol = "TCP"): boolean {
  const applying = policies.filter((p) => p.spec.policyTypes.includes("Egress") && selects(p, namespace, labels));
  if (applying.length === 0) return true;
  const inBlock = (b: { cidr: string; except?: string[] }) => ipaddr.parse(ip).match(ipaddr.parseCIDR(b.cidr)) && !(b.except ?? []).some((e) => ipaddr.parse(ip).match(ipaddr.parseCIDR(e)));
  return applying.some((p) =>
    p.spec.egress.some((rule) => (rule.to ?? []).some((t) => t.ipBlock && inBlock(t.ipBlock)) && (!rule.ports || rule.ports.some((r) => (r.protocol ?? "TCP") === protocol && port >= (r.port ?? 0) && port <= (r.endPort ?? r.port ?? 65535)))),
  );
}

/** The rules of the Kubernetes "restricted" Pod Security Standard that a pod spec can break. */
function restrictedViolations(pod: Record<string, unknown> | undefined, container: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  const seccomp = (at(container, "seccompProfile.type") ?? at(pod, "seccompProfile.type")) as string | undefined;
  if (at(container, "allowPrivilegeEscalation") !== false) out.push("allowPrivilegeEscalation is not false");
  if (!((at(container, "capabilities.drop") as string[] | undefined) ?? []).includes("ALL")) out.push("capabilities do not drop ALL");
  if ((at(container, "runAsNonRoot") ?? at(pod, "runAsNonRoot")) !== true) out.push("runAsNonRoot is not true");
  if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") out.push("no seccomp profile");
  if (at(container, "privileged") === true) out.push("privileged");
  return out;
}

describe.each(STACKS)("%s exposure", (stack) => {
  const p = () => plans[stack];

  it("limits who reaches the load balancer to the configured sources, with the configured scheme", () => {
    const annotations = at(zenmlValues(p()), "zenml.ingress.annotations") as Record<string, string>;
    expect(annotations["alb.ingress.kubernetes.io/inbound-cidrs"]).toBe("203.0.113.0/24");
    expect(annotations["alb.ingress.kubernetes.io/scheme"]).toBe("internet-facing");
    expect(at(named(p(), "zenml-cluster-alb-params").inputs, "spec.scheme")).toBe("internet-facing");
  });

  it("lets login tokens expire", () => {
    expect(at(zenmlValues(p()), "zenml.auth.jwtTokenExpireMinutes")).toBe(60);
  });

  it("verifies the database's certificate against the region's RDS CAs, from a Secret the cluster has", () => {
    const db = at(zenmlValues(p()), "zenml.database") as Record<string, unknown>;
    expect(db.sslVerifyServerCert).toBe(true);
    expect(db.sslCa).toEqual({ secretRef: { name: "zenml-db-ca", key: "rds-ca.pem" } });
    const secret = named(p(), "zenml-server-db-ca");
    expect(secret.inputs).toMatchObject({ metadata: { name: "zenml-db-ca", namespace: "zenml" } });
    expect(one(p(), RELEASE).options.dependsOn).toContain(secret.urn);
  });

  it("lets only the server and its migration hook open a connection to the database", () => {
    const policies = ofType(p(), "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => r.inputs as unknown as Policy);
    const dbIp = "10.20.5.17".replace("10.20", stack === "prod" ? "10.30" : "10.20");
    const server = { "app.kubernetes.io/name": "zenml", "app.kubernetes.io/instance": "zenml" };
    const registration = { "app.kubernetes.io/managed-by": "zenml-platform", "app.kubernetes.io/component": "stack-registration" };
    expect(egressAllowed(policies, "zenml", server, dbIp, 3306)).toBe(true);
    expect(egressAllowed(policies, "zenml", registration, dbIp, 3306)).toBe(false);
    expect(egressAllowed(policies, "zenml-pipelines", {}, dbIp, 3306)).toBe(false);
    // everything else a pipeline needs stays open
    expect(egressAllowed(policies, "zenml-pipelines", {}, dbIp, 443)).toBe(true);
    expect(egressAllowed(policies, "zenml-pipelines", {}, dbIp, 53, "UDP")).toBe(true);
    expect(egressAllowed(policies, "zenml-pipelines", {}, "52.95.1.1", 443)).toBe(true);
    expect(egressAllowed(policies, "zenml", registration, dbIp, 80)).toBe(true);
  });

  it("turns on what EKS Auto Mode needs to enforce NetworkPolicies", () => {
    const cni = named(p(), "zenml-network-policies-controller").inputs;
    expect(cni).toMatchObject({ metadata: { name: "amazon-vpc-cni", namespace: "kube-system" }, data: { "enable-network-policy-controller": "true" } });
    expect(at(named(p(), "zenml-cluster-node-class").inputs, "spec.networkPolicy")).toBe("DefaultAllow");
  });

  it("runs the server, its migration hook and the registration Job under the restricted pod security standard", () => {
    const values = zenmlValues(p());
    // the chart applies podSecurityContext/securityContext to the server and the migration hook alike
    expect(restrictedViolations(values.podSecurityContext as Record<string, unknown>, values.securityContext as Record<string, unknown>)).toEqual([]);
    const job = named(p(), "zenml-stack-registration");
    const podSpec = at(job.inputs, "spec.template.spec") as { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] };
    for (const c of podSpec.containers) expect(restrictedViolations(podSpec.securityContext, c.securityContext)).toEqual([]);
  });

  it("pulls every server image from our own ECR cache, which keeps every tag", () => {
    const repo = named(p(), "zenml-images-zenml-server");
    const url = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub-${stack}/zenmldocker/zenml-server`;
    expect(at(zenmlValues(p()), "zenml.image.repository")).toBe(url);
    expect(String((at(named(p(), "zenml-stack-registration").inputs, "spec.template.spec.containers") as { image: string }[])[0].image)).toMatch(new RegExp(`^${url}:`));
    expect(repo.inputs).toMatchObject({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
    expect(repo.options.protect).toBe(stack === "prod");
    // no lifecycle policy on the cache: old tags stay for a rollback
    expect(ofType(p(), "aws:ecr/lifecyclePolicy:LifecyclePolicy").map((l) => l.inputs.repository)).not.toContain(`docker-hub-${stack}/zenmldocker/zenml-server`);
    expect(named(p(), "zenml-images-docker-hub").inputs).toMatchObject({ upstreamRegistryUrl: "registry-1.docker.io", credentialArn: expect.stringMatching(/:secret:ecr-pullthroughcache\//) });
    expect(JSON.parse(String(named(p(), "zenml-images-node-pull").inputs.policy)).Statement[0].Action).toContain("ecr:BatchImportUpstreamImage");
  });

  it("narrows every connector session to what pipelines use, never allow-everything", () => {
    const cm = named(p(), "zenml-stack-registration-files");
    const spec = JSON.parse(String(at(cm.inputs, "data")?.["spec.json" as never]));
    const session = JSON.parse(spec.connector.configuration.policy) as { Statement: { Action: string | string[]; Resource: string | string[] }[] };
    const role = JSON.parse(String(named(p(), "zenml-stack-connector-policy").inputs.policy)) as { Statement: { Sid: string; Action: string[]; Resource: string }[] };
    expect(session.Statement.flatMap((s) => [s.Action].flat())).not.toContain("*");
    expect(session.Statement).toEqual(role.Statement.map(({ Sid: _sid, ...rest }) => rest));
    expect(spec.connector.configuration.policy.length).toBeLessThanOrEqual(2048);
  });

  it("builds images inside the VPC's private subnets", () => {
    const project = named(p(), "zenml-stack-codebuild").inputs;
    expect(at(project, "vpcConfig.subnets")).toEqual(at(one(p(), "eks:index:Cluster").inputs, "privateSubnetIds"));
    expect((at(project, "vpcConfig.securityGroupIds") as string[]).length).toBe(1);
  });

  it("alarms on-call about 5xx, unhealthy targets and a saturated, full or crowded database", () => {
    const alarms = ofType(p(), "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.map((a) => a.inputs.name).sort()).toEqual(
      ["alb-5xx", "alb-no-healthy-targets", "alb-unhealthy-targets", "rds-connections", "rds-cpu", "rds-free-storage"].map((s) => `zenml-${stack}-${s}`),
    );
    for (const a of alarms) expect(a.inputs.alarmActions).toEqual(["arn:aws:sns:eu-west-1:123456789012:zenml-platform-oncall"]);
    const metric = (a: PlannedResource) => [a.inputs.metricName, ...((a.inputs.metricQueries as { metric?: { metricName: string } }[] | undefined) ?? []).map((q) => q.metric?.metricName)].filter(Boolean);
    expect(alarms.flatMap(metric)).toEqual(expect.arrayContaining(["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "UnHealthyHostCount", "HealthyHostCount", "CPUUtilization", "FreeStorageSpace", "DatabaseConnections"]));
    const cpu = alarms.find((a) => a.inputs.metricName === "CPUUtilization")!;
    expect(at(cpu.inputs, "dimensions.DBInstanceIdentifier")).toBe(`zenml-${stack}`);
    expect(at(alarms.find((a) => a.inputs.metricName === "UnHealthyHostCount")!.inputs, "dimensions.LoadBalancer")).toBe(`app/zenml-${stack}/mock`);
  });
});

describe("the RDS CA bundle", () => {
  it("holds the region's own RDS CAs only, currently valid", () => {
    const certs = (region: string) => rdsCaBundle(region).split(/(?=-----BEGIN CERTIFICATE-----)/).filter((c) => c.includes("BEGIN")).map((c) => new X509Certificate(c));
    for (const region of ["eu-west-1", "us-east-1"]) {
      expect(certs(region).length, region).toBeGreaterThanOrEqual(3);
      for (const cert of certs(region)) {
        expect(cert.subject).toMatch(new RegExp(`CN=Amazon RDS ${region} `));
        expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now());
      }
    }
    expect(rdsCaBundle("xx-nowhere-1")).toBe("");
  });
});

describe("exposure follows the config", () => {
  it("puts the load balancer on the internal scheme when asked", async () => {
    const p = await plan("staging", { overrides: { serverIngressScheme: "internal", serverIngressCidrs: JSON.stringify(["10.0.0.0/8"]) } });
    expect(at(named(p, "zenml-cluster-alb-params").inputs, "spec.scheme")).toBe("internal");
    const annotations = at(zenmlValues(p), "zenml.ingress.annotations") as Record<string, string>;
    expect(annotations).toMatchObject({ "alb.ingress.kubernetes.io/scheme": "internal", "alb.ingress.kubernetes.io/inbound-cidrs": "10.0.0.0/8" });
  });

  it("hard-codes no ARN partition in any component", () => {
    for (const file of fs.readdirSync(path.join(PROJECT_DIR, "components")).filter((f) => f.endsWith(".ts"))) {
      const code = fs.readFileSync(path.join(PROJECT_DIR, "components", file), "utf8").split("\n").filter((l) => !l.trim().startsWith("//") && !l.trim().startsWith("*") && !l.trim().startsWith("/*") && !l.includes("allowed:"));
      expect(code.filter((l) => /["`]arn:aws:/.test(l)), file).toEqual([]);
    }
  });
});
