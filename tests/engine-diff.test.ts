// How the engine suite's local plugins answer Diff and DiffConfig (tools/engine/diff.ts), and that
// they answer Create and Invoke with exactly the offline plan's mock outputs (one source for both).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { UNKNOWN, diffInputs, diffKubernetesProvider } from "../tools/engine/diff";
import { LIVE_FILE_ENV, providerFor } from "../tools/engine/provider/serve";
import { subnetLayout } from "../tools/engine/provider/components";
import { replacePaths } from "../tools/engine/replacements";
import { PlatformMocks } from "../tools/offline/mocks";
import { withEnv } from "./helpers/env";

const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
const rds = replacePaths("aws:rds/instance:Instance")!;

describe("diff of a resource's inputs", () => {
  it("updates in place what the provider can change, replaces on what it cannot", () => {
    const old = { identifier: "zenml-prod", instanceClass: "db.m7g.large", dbName: "zenml", password: secret("p") };
    expect(diffInputs(old, { ...old, instanceClass: "db.m7g.xlarge" }, rds)).toEqual({ changed: ["instanceClass"], replaces: [] });
    expect(diffInputs(old, { ...old, dbName: "zenml2" }, rds)).toEqual({ changed: ["dbName"], replaces: ["dbName"] });
  });

  it("tells no difference between a value and the same value as a secret", () => {
    expect(diffInputs({ password: "p" }, { password: secret("p") }, rds).changed).toEqual([]);
    expect(diffInputs({ password: secret("p") }, { password: secret("q") }, rds).changed).toEqual(["password"]);
  });

  it("replaces when a replacing input becomes unknown (its source is being replaced)", () => {
    expect(diffInputs({ vpcId: "vpc-1" }, { vpcId: UNKNOWN }, replacePaths("aws:ec2/securityGroup:SecurityGroup")!).replaces).toEqual(["vpcId"]);
  });

  it("follows nested paths and lists: an access scope's type replaces, a cluster's subnets update", () => {
    const association = replacePaths("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")!;
    const scope = (type: string) => ({ accessScope: { type, namespaces: ["zenml"] } });
    expect(diffInputs(scope("namespace"), scope("cluster"), association).replaces).toContain("accessScope.type");
    const cluster = replacePaths("aws:eks/cluster:Cluster")!;
    expect(diffInputs({ vpcConfig: { subnetIds: ["a"] } }, { vpcConfig: { subnetIds: ["b"] } }, cluster)).toEqual({ changed: ["vpcConfig"], replaces: [] });
  });

  it("replaces a Job whose pod template changes, and a Secret whose data changes (immutable by default)", () => {
    const job = (image: string) => ({ metadata: { name: "j" }, spec: { template: { spec: { containers: [{ image }] } } } });
    expect(diffInputs(job("a"), job("b"), replacePaths("kubernetes:batch/v1:Job")!).replaces).toEqual(["spec.template"]);
    expect(diffInputs({ stringData: { k: "a" } }, { stringData: { k: "b" } }, replacePaths("kubernetes:core/v1:Secret")!).replaces).toEqual(["stringData"]);
    expect(diffInputs({ spec: { replicas: 1 } }, { spec: { replicas: 2 } }, replacePaths("kubernetes:apps/v1:Deployment")!).replaces).toEqual([]);
  });

  it("reports nothing when nothing differs, absent and null alike", () => {
    expect(diffInputs({ a: 1, b: null, c: { x: [1, 2] } }, { a: 1, c: { x: [1, 2] } }, rds)).toEqual({ changed: [], replaces: [] });
  });
});

describe("a Kubernetes provider's DiffConfig", () => {
  const kubeconfig = (server: string, user = "u") => JSON.stringify({ clusters: [{ cluster: { server } }], users: [{ name: user }] });

  it("replaces the provider (and so every object) when its cluster is replaced or changes", () => {
    expect(diffKubernetesProvider({ kubeconfig: kubeconfig("https://a") }, { kubeconfig: UNKNOWN }).replaces).toEqual(["kubeconfig"]);
    expect(diffKubernetesProvider({ kubeconfig: kubeconfig("https://a") }, { kubeconfig: kubeconfig("https://b") }).replaces).toEqual(["kubeconfig"]);
  });

  it("only updates it when the same cluster is reached another way", () => {
    expect(diffKubernetesProvider({ kubeconfig: kubeconfig("https://a", "u") }, { kubeconfig: secret(kubeconfig("https://a", "v")) })).toEqual({ changed: ["kubeconfig"], replaces: [] });
  });
});

describe("the plugins answer like the offline plan's mocks", () => {
  const mocks = new PlatformMocks("us-east-1", {});
  const urn = (type: string, name: string) => `urn:pulumi:prod::zenml-platform::zenml-platform:index:ZenmlEnvironment$${type}::${name}`;
  const cases: [string, string, string, Record<string, unknown>][] = [
    ["aws", "aws:rds/instance:Instance", "zenml-database-instance", { identifier: "zenml-prod", engine: "mysql" }],
    ["aws", "aws:s3/bucket:Bucket", "zenml-artifacts-bucket", { forceDestroy: false }],
    ["aws", "aws:ecr/repository:Repository", "zenml-registry-repository", { name: "zenml-prod/zenml" }],
    ["aws", "aws:iam/role:Role", "zenml-server-role", { assumeRolePolicy: "{}" }],
    ["random", "random:index/randomPassword:RandomPassword", "zenml-database-password", { length: 32 }],
    ["kubernetes", "kubernetes:helm.sh/v3:Release", "zenml-server-release", { name: "zenml", namespace: "zenml", version: "0.98.0" }],
  ];

  it.each(cases)("%s creates %s %s with the mocks' ID and state", async (pkg, type, name, inputs) => {
    const created = await providerFor(pkg as "aws").create!(urn(type, name), inputs);
    const mocked = mocks.newResource({ type, name, inputs, provider: "", custom: true } as never);
    expect(created).toEqual({ id: mocked.id, outs: mocked.state });
  });

  it("answers invokes (data sources) with the mocks' values", async () => {
    const inputs = { addonName: "amazon-cloudwatch-observability", kubernetesVersion: "1.34", mostRecent: false };
    const invoked = await providerFor("aws").invoke!("aws:eks/getAddonVersion:getAddonVersion", inputs);
    expect(invoked.outputs).toEqual(mocks.call({ token: "aws:eks/getAddonVersion:getAddonVersion", inputs } as never));
  });

  // The suite writes what AWS runs before each operation (tools/engine/world.ts); the plan gets it as a map.
  const liveReads: [string, Record<string, unknown>][] = [
    ["aws:eks/getCluster:getCluster", { name: "zenml-prod" }],
    ["aws:eks/getAddon:getAddon", { clusterName: "zenml-prod", addonName: "amazon-cloudwatch-observability" }],
    ["aws:rds/getInstance:getInstance", { dbInstanceIdentifier: "zenml-prod" }],
  ];

  it("answers the live reads from the file the suite wrote, as the mocks answer from their map", async () => {
    const live = { kubernetes: "1.35", mysql: "8.4", "addon:amazon-cloudwatch-observability": "v1.35.0-eksbuild.1" };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "engine-live-")), "live.json");
    fs.writeFileSync(file, JSON.stringify(live));
    const withLive = new PlatformMocks("us-east-1", {}, live);
    for (const [token, inputs] of liveReads) {
      const invoked = await withEnv({ [LIVE_FILE_ENV]: file }, () => providerFor("aws").invoke!(token, inputs));
      expect(invoked.outputs, token).toEqual(withLive.call({ token, inputs } as never));
    }
  });

  it("finds nothing for a live read when nothing was written, like the mocks without a map", async () => {
    for (const [token, inputs] of liveReads) {
      await expect(withEnv({ [LIVE_FILE_ENV]: "" }, () => providerFor("aws").invoke!(token, inputs)), token).rejects.toThrow(/found nothing/);
      expect(() => mocks.call({ token, inputs } as never), token).toThrow(/found nothing/);
    }
  });
});

describe("the awsx VPC's subnets as the local awsx plugin lays them out", () => {
  it("moves every subnet when the VPC's range or its number of zones changes, never overlapping", () => {
    const two = subnetLayout("10.30.0.0/16", 2);
    const three = subnetLayout("10.30.0.0/16", 3);
    expect(two.public).toEqual(["10.30.0.0/22", "10.30.128.0/22"]);
    expect(three.private.slice(0, 2)).not.toEqual(two.private);
    expect(subnetLayout("10.40.0.0/16", 2).public).not.toEqual(two.public);
    expect(new Set([...three.public, ...three.private]).size).toBe(6);
  });
});
