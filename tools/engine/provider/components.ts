// The remote components (awsx:ec2:Vpc, eks:index:Cluster) as the local eks/awsx plugins construct
// them: the children whose replacement a config edit can cause (the VPC, its subnets and NAT
// gateways; the EKS cluster, its OIDC provider and access entries), registered with the engine
// like the real components' children, and the component's outputs from tools/offline/outputs.ts.
// Each output waits on the children it stands for, so a child being replaced makes it unknown in a
// preview, and everything downstream sees that, as with the real components.
// The SDK's parts, not its index: the index loads ~0.45 s of CPU more, at every plugin start.
import { Config } from "@pulumi/pulumi/config";
import { all, type Input, type Output } from "@pulumi/pulumi/output";
import type { ConstructResult } from "@pulumi/pulumi/provider";
import { ComponentResource, CustomResource, type ComponentResourceOptions, type CustomResourceOptions } from "@pulumi/pulumi/resource";
import { parseCidr } from "../../../components/cidr";
import { resourceOutputs } from "../../offline/outputs";

type Inputs = Record<string, unknown>;

/** A child of the AWS provider this package pins, as the real component registers it through @pulumi/aws. */
class AwsChild extends CustomResource {
  declare readonly arn: Output<string>;
  constructor(type: string, name: string, props: Inputs, opts: CustomResourceOptions, awsVersion: string) {
    // `arn: undefined` asks for the output back.
    super(type, name, { arn: undefined, ...props }, { ...opts, version: awsVersion });
  }
}

const awsChild = (type: string, name: string, props: Inputs, opts: CustomResourceOptions, awsVersion: string) => new AwsChild(type, name, props, opts, awsVersion);

class Component extends ComponentResource {
  finish(outputs: Inputs): void {
    this.registerOutputs(outputs);
  }
}

const ip = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

/**
 * awsx's "Auto" layout for one public /22 and one private /19 per AZ: the VPC is split into a
 * power-of-two number of equal slots, one per AZ, each subnet aligned to its own size in its slot.
 * (Only the property that matters here is faithful: the CIDRs move when the VPC or the AZ count does.)
 */
export function subnetLayout(vpcCidr: string, azs: number): { public: string[]; private: string[] } {
  const parsed = parseCidr(vpcCidr);
  if ("error" in parsed) return { public: [], private: [] };
  const slots = 2 ** Math.ceil(Math.log2(azs));
  const slotSize = (parsed.range.end - parsed.range.first) / slots;
  const out = { public: [] as string[], private: [] as string[] };
  for (let i = 0; i < azs; i++) {
    const start = parsed.range.first + i * slotSize;
    out.public.push(`${ip(start)}/22`);
    const privateSize = 2 ** (32 - 19);
    out.private.push(`${ip(Math.ceil((start + 2 ** (32 - 22)) / privateSize) * privateSize)}/19`);
  }
  return out;
}

/** An output holding `value` once every child has its ID. */
const after = (children: CustomResource[], value: unknown) => all([...children.map((c) => c.id), value]).apply((all) => all[all.length - 1]);

function vpc(component: ComponentResource, name: string, inputs: Inputs, region: string, awsVersion: string): Inputs {
  const opts = { parent: component };
  const cidr = String(inputs.cidrBlock);
  const azs = Number(inputs.numberOfAvailabilityZones ?? 2);
  const strategy = (inputs.natGateways as { strategy?: string } | undefined)?.strategy ?? "Single";
  const net = awsChild("aws:ec2/vpc:Vpc", name, { cidrBlock: cidr, enableDnsHostnames: inputs.enableDnsHostnames, enableDnsSupport: inputs.enableDnsSupport }, opts, awsVersion);
  const layout = subnetLayout(cidr, azs);
  const zone = (i: number) => `${region}${"abcdef"[i]}`;
  const subnets = (kind: "public" | "private") =>
    layout[kind].map((block, i) => awsChild("aws:ec2/subnet:Subnet", `${name}-${kind}-${i + 1}`, { vpcId: net.id, cidrBlock: block, availabilityZone: zone(i), mapPublicIpOnLaunch: kind === "public" }, opts, awsVersion));
  const publics = subnets("public");
  const privates = subnets("private");
  const nats = (strategy === "OnePerAz" ? publics : publics.slice(0, 1)).map((subnet, i) => {
    const eip = awsChild("aws:ec2/eip:Eip", `${name}-${i + 1}`, { domain: "vpc" }, opts, awsVersion);
    return awsChild("aws:ec2/natGateway:NatGateway", `${name}-${i + 1}`, { subnetId: subnet.id, allocationId: eip.id }, opts, awsVersion);
  });
  const answer = resourceOutputs("awsx:ec2:Vpc", name, inputs, region).state;
  return { ...answer, vpcId: after([net], answer.vpcId), publicSubnetIds: after([...publics, ...nats], answer.publicSubnetIds), privateSubnetIds: after(privates, answer.privateSubnetIds) };
}

type AccessEntries = Record<string, { principalArn: string; accessPolicies?: Record<string, { policyArn: string; accessScope: unknown }> }>;

function eksCluster(component: ComponentResource, name: string, inputs: Inputs, region: string, awsVersion: string): Inputs {
  const opts = { parent: component };
  const role = awsChild("aws:iam/role:Role", `${name}-eksRole`, { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }] }) }, opts, awsVersion);
  const subnetIds = all([inputs.publicSubnetIds as Input<string[]>, inputs.privateSubnetIds as Input<string[]>]).apply(([a, b]) => [...(a ?? []), ...(b ?? [])]);
  const cluster = awsChild(
    "aws:eks/cluster:Cluster",
    `${name}-eksCluster`,
    {
      name: inputs.name,
      roleArn: role.arn,
      version: inputs.version,
      vpcConfig: { subnetIds, endpointPrivateAccess: inputs.endpointPrivateAccess, endpointPublicAccess: inputs.endpointPublicAccess, publicAccessCidrs: inputs.publicAccessCidrs },
      encryptionConfig: { provider: { keyArn: inputs.encryptionConfigKeyArn }, resources: ["secrets"] },
      accessConfig: { authenticationMode: inputs.authenticationMode, bootstrapClusterCreatorAdminPermissions: true },
      upgradePolicy: inputs.upgradePolicy,
      enabledClusterLogTypes: inputs.enabledClusterLogTypes,
      tags: inputs.tags,
    },
    opts,
    awsVersion,
  );
  const answer = resourceOutputs("eks:index:Cluster", name, inputs, region).state;
  const oidc = awsChild("aws:iam/openIdConnectProvider:OpenIdConnectProvider", `${name}-oidcProvider`, { url: after([cluster], answer.oidcProviderUrl), clientIdLists: ["sts.amazonaws.com"] }, opts, awsVersion);
  const entries: CustomResource[] = [];
  for (const [key, entry] of Object.entries((inputs.accessEntries ?? {}) as AccessEntries)) {
    const accessEntry = awsChild("aws:eks/accessEntry:AccessEntry", `${name}-${key}`, { clusterName: cluster.id, principalArn: entry.principalArn, type: "STANDARD" }, opts, awsVersion);
    entries.push(accessEntry);
    for (const [policy, association] of Object.entries(entry.accessPolicies ?? {})) {
      const props = { clusterName: cluster.id, principalArn: entry.principalArn, policyArn: association.policyArn, accessScope: association.accessScope };
      entries.push(awsChild("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", `${name}-${key}-${policy}`, props, { ...opts, dependsOn: [accessEntry] }, awsVersion));
    }
  }
  const known = [cluster, oidc];
  return {
    ...answer,
    kubeconfigJson: after(known, answer.kubeconfigJson),
    oidcProviderArn: after(known, answer.oidcProviderArn),
    oidcProviderUrl: after(known, answer.oidcProviderUrl),
    oidcIssuer: after(known, answer.oidcIssuer),
    clusterSecurityGroupId: after(known, answer.clusterSecurityGroupId),
    autoModeNodeRoleName: after(known, answer.autoModeNodeRoleName),
    // Known once the access entries exist: what waits for cluster access waits for them.
    accessEntries: after(entries, inputs.accessEntries),
  };
}

/** The AWS region of the stack's config, which the engine sends along with every Construct. */
export const awsRegion = () => new Config("aws").get("region");

/** Constructs a remote component of this package; `region` is the AWS provider's. */
export async function constructComponent(name: string, type: string, inputs: Inputs, options: ComponentResourceOptions, region: string, awsVersion: string): Promise<ConstructResult> {
  const component = new Component(type, name, {}, options);
  const build = type === "awsx:ec2:Vpc" ? vpc : type === "eks:index:Cluster" ? eksCluster : undefined;
  if (!build) throw new Error(`the local ${type.split(":")[0]} plugin constructs no ${type}`);
  const state = build(component, name, inputs, region, awsVersion);
  component.finish(state);
  return { urn: component.urn, state };
}
