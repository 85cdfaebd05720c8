import * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT = "123456789012";

/**
 * Stand-in for AWS's default version of an EKS add-on for a Kubernetes version (a real preview asks
 * AWS): deterministic and rising with the cluster version, like the real defaults.
 */
export function mockAddonVersion(addon: string, kubernetesVersion: string): string {
  const minor = Number(kubernetesVersion.split(".")[1] ?? 0);
  return `v${addon.length % 5}.${minor}.0-eksbuild.1`;
}

/** Outputs of StackReferences, by fully qualified stack name. */
export type StackOutputsByName = Record<string, Record<string, unknown>>;

function shortHash(text: string): string {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, "0").slice(0, 7);
}

/**
 * Stand-ins for AWS and the remote components: each returns the outputs our code reads, derived
 * from the inputs so the plan stays deterministic.
 */
export class PlatformMocks implements pulumi.runtime.Mocks {
  /**
   * @param live what AWS runs for the planned stack, by part (kubernetes, mysql, addon:<name>): the
   *   answers of the program's live reads. A part not given cannot be read (like a cluster not found).
   */
  constructor(
    private readonly region: string,
    private readonly stackOutputs: StackOutputsByName,
    private readonly live: Record<string, string> = {},
  ) {}

  /** What AWS answers for the live reads (components/live-versions.ts); undefined: not found. */
  private liveRead(token: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined {
    const found = (value: string | undefined, fields: Record<string, unknown>) => {
      if (value === undefined) throw new Error(`mock AWS: ${token} found nothing for ${JSON.stringify(inputs)}`);
      return { ...inputs, ...fields };
    };
    switch (token) {
      case "aws:eks/getCluster:getCluster":
        return found(this.live.kubernetes, { id: inputs.name, version: this.live.kubernetes });
      case "aws:eks/getAddon:getAddon": {
        const version = this.live[`addon:${String(inputs.addonName)}`];
        return found(version, { id: `${String(inputs.clusterName)}:${String(inputs.addonName)}`, addonVersion: version });
      }
      case "aws:rds/getInstance:getInstance":
        // RDS reports the full engine version; the pin is the major.
        return found(this.live.mysql, { id: inputs.dbInstanceIdentifier, engine: "mysql", engineVersion: `${this.live.mysql}.7` });
    }
    return undefined;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const { type, name, inputs } = args;
    // IAM is global: its ARNs carry no region.
    const arn = (service: string, resource: string) => `arn:aws:${service}:${service === "iam" ? "" : this.region}:${MOCK_ACCOUNT}:${resource}`;
    switch (type) {
      case "pulumi:pulumi:StackReference": {
        const stackName = String(inputs.name ?? args.id ?? name);
        return { id: stackName, state: { name: stackName, outputs: this.stackOutputs[stackName] ?? {}, secretOutputNames: [] } };
      }
      case "awsx:ec2:Vpc": {
        const azs = Number(inputs.numberOfAvailabilityZones ?? 2);
        const ids = (kind: string) => Array.from({ length: azs }, (_, i) => `subnet-${kind}${i}-${shortHash(name)}`);
        return { id: `vpc-${shortHash(name)}`, state: { ...inputs, vpcId: `vpc-${shortHash(name)}`, publicSubnetIds: ids("pub"), privateSubnetIds: ids("prv") } };
      }
      case "eks:index:Cluster": {
        const clusterName = String(inputs.name ?? name);
        // Hashes come from logical names, so mirrored stacks get look-alike IDs (the mirror check compares them).
        const issuer = `https://oidc.eks.${this.region}.amazonaws.com/id/${shortHash(name).toUpperCase()}`;
        return {
          id: clusterName,
          state: {
            ...inputs,
            kubeconfigJson: JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: clusterName, cluster: { server: `https://${shortHash(name)}.eks.amazonaws.com` } }] }),
            oidcProviderArn: arn("iam", `oidc-provider/${issuer.replace("https://", "")}`),
            oidcProviderUrl: issuer,
            oidcIssuer: issuer.replace("https://", ""),
            clusterSecurityGroupId: `sg-cluster-${shortHash(name)}`,
            autoModeNodeRoleName: `${clusterName}-auto-mode-node`,
          },
        };
      }
      case "aws:s3/bucket:Bucket": {
        const bucket = String(inputs.bucket ?? `${name}-${shortHash(name)}`);
        return { id: bucket, state: { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}` } };
      }
      case "aws:ecr/repository:Repository": {
        const repo = String(inputs.name ?? name);
        return { id: repo, state: { ...inputs, name: repo, arn: arn("ecr", `repository/${repo}`), repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${this.region}.amazonaws.com/${repo}` } };
      }
      case "aws:rds/instance:Instance": {
        const identifier = String(inputs.identifier ?? name);
        const address = `${identifier}.c${shortHash(name)}.${this.region}.rds.amazonaws.com`;
        return { id: identifier, state: { ...inputs, identifier, address, endpoint: `${address}:3306`, port: 3306, arn: arn("rds", `db:${identifier}`) } };
      }
      case "aws:rds/snapshot:Snapshot":
        return { id: String(inputs.dbSnapshotIdentifier), state: { ...inputs, dbSnapshotArn: arn("rds", `snapshot:${inputs.dbSnapshotIdentifier}`), status: "available" } };
      case "random:index/randomPassword:RandomPassword":
        return { id: name, state: { ...inputs, result: "x".repeat(Number(inputs.length ?? 16)) } };
      case "kubernetes:helm.sh/v3:Release":
        return { id: `${inputs.namespace}/${inputs.name}`, state: { ...inputs, status: { status: "deployed", version: inputs.version } } };
      default: {
        // Physical name: the one the program set, else Pulumi's auto-name stand-in (the logical name).
        const physical = typeof inputs.name === "string" ? inputs.name : name;
        const id = `${physical}-id`;
        const service = type.split(":")[1]?.split("/")[0] ?? "mock";
        const kind = type.split("/").pop()?.split(":")[0] ?? "resource";
        return { id, state: { ...inputs, id, arn: arn(service, `${kind}/${physical}`), name: physical } };
      }
    }
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const live = this.liveRead(args.token, args.inputs as Record<string, unknown>);
    if (live) return live;
    if (args.token === "aws:eks/getAddonVersion:getAddonVersion") {
      const { addonName, kubernetesVersion } = args.inputs as { addonName: string; kubernetesVersion: string };
      return { ...args.inputs, id: addonName, version: mockAddonVersion(addonName, kubernetesVersion) };
    }
    if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") {
      return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/ci-deployer`, userId: "AROAMOCK", id: MOCK_ACCOUNT };
    }
    // The load balancer the ingress controller creates, looked up by the alarms.
    if (args.token === "aws:lb/getLoadBalancer:getLoadBalancer") {
      const lb = String(args.inputs.name ?? "alb");
      return { ...args.inputs, name: lb, arn: `arn:aws:elasticloadbalancing:${this.region}:${MOCK_ACCOUNT}:loadbalancer/app/${lb}/mock`, arnSuffix: `app/${lb}/mock` };
    }
    if (args.token === "aws:lb/getTargetGroup:getTargetGroup") {
      return { ...args.inputs, arn: `arn:aws:elasticloadbalancing:${this.region}:${MOCK_ACCOUNT}:targetgroup/k8s-zenml/mock`, arnSuffix: "targetgroup/k8s-zenml/mock" };
    }
    return args.inputs;
  }
}
