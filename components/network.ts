import * as pulumi from "@pulumi/pulumi";
import * as awsx from "@pulumi/awsx";
import { baseTags } from "./kit/tags";

export interface NetworkArgs {
  environmentName: string;
  cidrBlock: string;
  /** 2 or 3; prod uses 3. */
  availabilityZones: number;
  /** "Single" shares one NAT gateway (cheaper, staging); "OnePerAz" survives an AZ outage (prod). */
  natGateways: "Single" | "OnePerAz";
}

/** Where private workloads outside the cluster (image builds) run: the VPC and its private subnets. */
export type PrivateSubnets = Pick<Network, "vpcId" | "privateSubnetIds">;

/** VPC with public subnets (load balancers, NAT) and private subnets (nodes, database). */
export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  public readonly privateSubnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:Network", name, {}, opts);
    const tags = baseTags(args.environmentName, "network");
    const vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidrBlock,
        numberOfAvailabilityZones: args.availabilityZones,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        natGateways: { strategy: args.natGateways },
        subnetStrategy: "Auto",
        subnetSpecs: [
          // The role tags let the EKS Auto Mode load balancer controller find the subnets.
          { type: "Public", cidrMask: 22, tags: { ...tags, "kubernetes.io/role/elb": "1" } },
          { type: "Private", cidrMask: 19, tags: { ...tags, "kubernetes.io/role/internal-elb": "1" } },
        ],
        tags,
      },
      { parent: this },
    );
    this.vpcId = vpc.vpcId;
    this.publicSubnetIds = vpc.publicSubnetIds;
    this.privateSubnetIds = vpc.privateSubnetIds;
    this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
  }
}
