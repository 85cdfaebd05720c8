// What "AWS" and the remote components answer, derived from the inputs so every answer is
// deterministic. One source for both stand-ins: the offline plan's mocks (tools/offline/mocks.ts)
// and the local provider plugins the engine suite serves (tools/engine/provider). Plain data in,
// plain data out: no Pulumi runtime here, so a plugin process loads it without the SDK's mocks.

export const MOCK_ACCOUNT = "123456789012";

/**
 * Stand-in for AWS's default version of an EKS add-on for a Kubernetes version (a real preview asks
 * AWS): deterministic and rising with the cluster version, like the real defaults.
 */
export function mockAddonVersion(addon: string, kubernetesVersion: string): string {
  const minor = Number(kubernetesVersion.split(".")[1] ?? 0);
  return `v${addon.length % 5}.${minor}.0-eksbuild.1`;
}

export function shortHash(text: string): string {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, "0").slice(0, 7);
}

export interface ResourceAnswer {
  id: string;
  state: Record<string, unknown>;
}

type Inputs = Record<string, unknown>;

/** An ARN in this account; IAM is global, so its ARNs carry no region. */
export function mockArn(region: string, service: string, resource: string): string {
  return `arn:aws:${service}:${service === "iam" ? "" : region}:${MOCK_ACCOUNT}:${resource}`;
}

/** The subnet IDs an awsx VPC of `azs` zones reports, one per zone and kind. */
export function mockSubnetIds(vpcName: string, kind: "pub" | "prv", azs: number): string[] {
  return Array.from({ length: azs }, (_, i) => `subnet-${kind}${i}-${shortHash(vpcName)}`);
}

function vpc(name: string, inputs: Inputs): ResourceAnswer {
  const azs = Number(inputs.numberOfAvailabilityZones ?? 2);
  const id = `vpc-${shortHash(name)}`;
  return { id, state: { ...inputs, vpcId: id, publicSubnetIds: mockSubnetIds(name, "pub", azs), privateSubnetIds: mockSubnetIds(name, "prv", azs) } };
}

function eksCluster(name: string, inputs: Inputs, region: string): ResourceAnswer {
  const clusterName = String(inputs.name ?? name);
  // Hashes come from logical names, so mirrored stacks get look-alike IDs (the mirror check compares them).
  const issuer = `https://oidc.eks.${region}.amazonaws.com/id/${shortHash(name).toUpperCase()}`;
  return {
    id: clusterName,
    state: {
      ...inputs,
      kubeconfigJson: JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: clusterName, cluster: { server: `https://${shortHash(name)}.eks.amazonaws.com` } }] }),
      oidcProviderArn: mockArn(region, "iam", `oidc-provider/${issuer.replace("https://", "")}`),
      oidcProviderUrl: issuer,
      oidcIssuer: issuer.replace("https://", ""),
      clusterSecurityGroupId: `sg-cluster-${shortHash(name)}`,
      autoModeNodeRoleName: `${clusterName}-auto-mode-node`,
    },
  };
}

/**
 * The ID and state a resource of `type` named `name` (its logical name) reports once created with
 * `inputs`. Every input is echoed back, as the mocks always did; types not listed get an ID, an ARN
 * and a physical name (the one the program set, else the logical name as Pulumi's auto-name stand-in).
 */
export function resourceOutputs(type: string, name: string, inputs: Inputs, region: string): ResourceAnswer {
  const arn = (service: string, resource: string) => mockArn(region, service, resource);
  switch (type) {
    case "awsx:ec2:Vpc":
      return vpc(name, inputs);
    case "eks:index:Cluster":
      return eksCluster(name, inputs, region);
    case "aws:s3/bucket:Bucket": {
      const bucket = String(inputs.bucket ?? `${name}-${shortHash(name)}`);
      return { id: bucket, state: { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}` } };
    }
    case "aws:ecr/repository:Repository": {
      const repo = String(inputs.name ?? name);
      return { id: repo, state: { ...inputs, name: repo, arn: arn("ecr", `repository/${repo}`), repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${repo}` } };
    }
    case "aws:rds/instance:Instance": {
      const identifier = String(inputs.identifier ?? name);
      const address = `${identifier}.c${shortHash(name)}.${region}.rds.amazonaws.com`;
      return { id: identifier, state: { ...inputs, identifier, address, endpoint: `${address}:3306`, port: 3306, arn: arn("rds", `db:${identifier}`) } };
    }
    case "aws:rds/snapshot:Snapshot":
      return { id: String(inputs.dbSnapshotIdentifier), state: { ...inputs, dbSnapshotArn: arn("rds", `snapshot:${inputs.dbSnapshotIdentifier}`), status: "available" } };
    case "random:index/randomPassword:RandomPassword":
      return { id: name, state: { ...inputs, result: "x".repeat(Number(inputs.length ?? 16)) } };
    case "kubernetes:helm.sh/v3:Release":
      return { id: `${inputs.namespace}/${inputs.name}`, state: { ...inputs, status: { status: "deployed", version: inputs.version } } };
    default: {
      const physical = typeof inputs.name === "string" ? inputs.name : name;
      const id = `${physical}-id`;
      const service = type.split(":")[1]?.split("/")[0] ?? "mock";
      const kind = type.split("/").pop()?.split(":")[0] ?? "resource";
      return { id, state: { ...inputs, id, arn: arn(service, `${kind}/${physical}`), name: physical } };
    }
  }
}

/** What AWS runs, by part (kubernetes, mysql, addon:<name>): the versions the live reads find. */
export type LiveVersionsByPart = Record<string, string>;

/**
 * What AWS answers for the program's live reads (components/live-versions.ts), from `live`; a part
 * not given is not found (the read throws, as AWS's does for a missing cluster). Undefined: not a live read.
 */
export function liveRead(token: string, inputs: Inputs, live: LiveVersionsByPart): Inputs | undefined {
  const found = (value: string | undefined, fields: Inputs) => {
    if (value === undefined) throw new Error(`mock AWS: ${token} found nothing for ${JSON.stringify(inputs)}`);
    return { ...inputs, ...fields };
  };
  switch (token) {
    case "aws:eks/getCluster:getCluster":
      return found(live.kubernetes, { id: inputs.name, version: live.kubernetes });
    case "aws:eks/getAddon:getAddon": {
      const version = live[`addon:${String(inputs.addonName)}`];
      return found(version, { id: `${String(inputs.clusterName)}:${String(inputs.addonName)}`, addonVersion: version });
    }
    case "aws:rds/getInstance:getInstance":
      // RDS reports the full engine version; the pin is the major.
      return found(live.mysql, { id: inputs.dbInstanceIdentifier, engine: "mysql", engineVersion: `${live.mysql}.7` });
  }
  return undefined;
}

/** What a data source (invoke) answers, the live reads from `live`; anything not listed echoes its inputs. */
export function invokeOutputs(token: string, inputs: Inputs, region: string, live: LiveVersionsByPart = {}): Inputs {
  const read = liveRead(token, inputs, live);
  if (read) return read;
  switch (token) {
    case "aws:eks/getAddonVersion:getAddonVersion": {
      const { addonName, kubernetesVersion } = inputs as { addonName: string; kubernetesVersion: string };
      return { ...inputs, id: addonName, version: mockAddonVersion(addonName, kubernetesVersion) };
    }
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/ci-deployer`, userId: "AROAMOCK", id: MOCK_ACCOUNT };
    // The load balancer the ingress controller creates, looked up by the alarms.
    case "aws:lb/getLoadBalancer:getLoadBalancer": {
      const lb = String(inputs.name ?? "alb");
      return { ...inputs, name: lb, arn: `arn:aws:elasticloadbalancing:${region}:${MOCK_ACCOUNT}:loadbalancer/app/${lb}/mock`, arnSuffix: `app/${lb}/mock` };
    }
    case "aws:lb/getTargetGroup:getTargetGroup":
      return { ...inputs, arn: `arn:aws:elasticloadbalancing:${region}:${MOCK_ACCOUNT}:targetgroup/k8s-zenml/mock`, arnSuffix: "targetgroup/k8s-zenml/mock" };
    default:
      return inputs;
  }
}
