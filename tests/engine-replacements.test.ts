// The replacement table the engine suite's plugins diff with (tools/engine/replacements.ts): read
// for the pinned providers, covering every type the program registers, naming real SDK inputs.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { AWS_RULES, AWS_SOURCE, KUBERNETES_SOURCE, RANDOM_SOURCE, awsReplacePaths, kubernetesKind, replacePaths } from "../tools/engine/replacements";
import { PROJECT_DIR } from "./helpers/plan";

const pins = (JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;

/** Types the goldens plan, plus the children the local eks/awsx plugins construct. */
function registeredTypes(): Set<string> {
  const types = new Set(["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:eks/cluster:Cluster", "aws:iam/openIdConnectProvider:OpenIdConnectProvider"]);
  const dir = path.join(PROJECT_DIR, "tests", "golden", "plans");
  for (const file of fs.readdirSync(dir)) {
    const golden = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as { plan?: { resources: { type: string; custom: boolean }[] } };
    for (const r of golden.plan?.resources ?? []) if (r.custom && !r.type.startsWith("pulumi:")) types.add(r.type);
  }
  return types;
}

/** The input names of an @pulumi/aws resource, from its `<Name>Args` interface. */
function sdkInputs(type: string): string[] {
  const [, module, name] = type.split(":");
  const file = path.join(PROJECT_DIR, "node_modules", "@pulumi", "aws", `${module}.d.ts`);
  const text = fs.readFileSync(file, "utf8");
  const start = text.indexOf(`export interface ${name}Args {`);
  const body = text.slice(start, text.indexOf("\n}", start));
  return [...body.matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1]);
}

describe("the replacement table", () => {
  it("was read for the provider versions package.json pins (re-read it when a pin moves)", () => {
    const why = "a provider pin moved: re-read tools/engine/replacements.ts from that version's source, then update its pin";
    expect(AWS_SOURCE.pulumiAws, why).toBe(pins["@pulumi/aws"]);
    expect(KUBERNETES_SOURCE.pulumiKubernetes, why).toBe(pins["@pulumi/kubernetes"]);
    expect(RANDOM_SOURCE.pulumiRandom, why).toBe(pins["@pulumi/random"]);
  });

  it("covers every custom resource type the program registers", () => {
    const missing = [...registeredTypes()].filter((t) => replacePaths(t) === undefined);
    expect(missing).toEqual([]);
  });

  it("names, for each AWS type, the upstream file it was read from and only inputs the SDK has", () => {
    for (const rule of AWS_RULES) {
      expect(rule.file, rule.type).toMatch(/^internal\/service\/[a-z0-9]+\/[a-z0-9_]+\.go$/);
      const inputs = sdkInputs(rule.type);
      expect(inputs.length, `${rule.type}: no Args interface found`).toBeGreaterThan(0);
      for (const p of awsReplacePaths(rule)) expect(inputs, `${rule.type} has no input ${p.split(".")[0]}`).toContain(p.split(".")[0]);
    }
  });

  it("replaces a database on what RDS cannot change in place, and updates it on what it can", () => {
    const rds = replacePaths("aws:rds/instance:Instance")!;
    expect(rds).toEqual(expect.arrayContaining(["dbName", "username", "storageEncrypted", "kmsKeyId", "snapshotIdentifier", "engine"]));
    for (const inPlace of ["identifier", "engineVersion", "instanceClass", "multiAz", "dbSubnetGroupName", "parameterGroupName"]) expect(rds).not.toContain(inPlace);
  });

  it("maps Kubernetes types to their kinds, patches to what they patch", () => {
    expect(kubernetesKind("kubernetes:apps/v1:DeploymentPatch")).toBe("apps/v1/Deployment");
    expect(kubernetesKind("kubernetes:core/v1:Secret")).toBe("v1/Secret");
    expect(replacePaths("kubernetes:batch/v1:Job")).toEqual(expect.arrayContaining(["metadata.name", "metadata.namespace", "spec.template", "spec.selector"]));
    expect(replacePaths("kubernetes:helm.sh/v3:Release")).toEqual(["name", "namespace"]);
  });
});
