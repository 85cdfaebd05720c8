import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import { baseTags } from "./kit/tags";

export interface ClusterArgs {
  environmentName: string;
  /** EKS minor version, e.g. "1.33"; pinned so upgrades are deliberate. */
  kubernetesVersion: string;
  vpcId: pulumi.Input<string>;
  publicSubnetIds: pulumi.Input<string[]>;
  privateSubnetIds: pulumi.Input<string[]>;
  /** CIDRs allowed to reach the public Kubernetes API (CI runners, the VPN). */
  publicAccessCidrs: string[];
  /** vCPUs the ZenML node pool may grow to; Auto Mode adds and removes nodes within it. */
  nodePoolCpuLimit: number;
  /** Protects the secrets encryption key from deletion (prod). */
  protect: boolean;
  /** IAM roles given cluster admin by access entry (never the cluster's creator: EKS made it admin). Default: none. */
  adminRoleArns?: string[];
  /** IAM roles given read-only access by access entry (the preview roles). Default: none. */
  viewerRoleArns?: string[];
  /** Where the Helm release lives: viewers may also read its Secrets, Helm's release records. */
  releaseNamespace: string;
  /** ARN partition of the region ("aws", "aws-cn", ...), for the EKS access policy ARNs. */
  partition: string;
  /** Scheme of the ALBs the ingress class creates. Default: internet-facing. */
  ingressScheme?: "internet-facing" | "internal";
}


/**
 * Access entries by role: admins get cluster admin; viewers get view everywhere plus AdminView
 * (which includes Secrets) in the release's namespace, because a Helm release's diff reads the
 * release records Helm stores as Secrets there.
 */
export function accessEntries(adminRoleArns: string[], viewerRoleArns: string[], releaseNamespace: string, partition: string): eks.ClusterArgs["accessEntries"] {
  const ACCESS_POLICY = (name: string) => `arn:${partition}:eks::aws:cluster-access-policy/${name}`;
  const entries: NonNullable<eks.ClusterArgs["accessEntries"]> = {};
  // Keys by position, not by role name: role names carry the stack name, and staging's entries must
  // mirror prod's. Reordering a list re-creates its entries, a brief loss of that role's access.
  for (const [i, arn] of adminRoleArns.entries()) {
    entries[`admin-${i + 1}`] = { principalArn: arn, accessPolicies: { admin: { policyArn: ACCESS_POLICY("AmazonEKSClusterAdminPolicy"), accessScope: { type: "cluster" } } } };
  }
  for (const [i, arn] of viewerRoleArns.entries()) {
    entries[`viewer-${i + 1}`] = {
      principalArn: arn,
      accessPolicies: {
        view: { policyArn: ACCESS_POLICY("AmazonEKSViewPolicy"), accessScope: { type: "cluster" } },
        release: { policyArn: ACCESS_POLICY("AmazonEKSAdminViewPolicy"), accessScope: { type: "namespace", namespaces: [releaseNamespace] } },
      },
    };
  }
  return entries;
}

/**
 * Voluntary disruption (consolidation, drift after a Kubernetes upgrade or a new Auto Mode AMI,
 * expiry) of the zenml NodePool: one node at a time, so with the server's PodDisruptionBudget a
 * node replacement never takes the last ready server pod. Shape: Karpenter v1 `spec.disruption.budgets`
 * (karpenter.sh/docs/concepts/disruption/#nodepool-disruption-budgets), as EKS Auto Mode documents it.
 */
export const NODE_DISRUPTION_BUDGETS = [{ nodes: "1" }];

/**
 * Each add-on's version for this cluster, decided on purpose: the stack's pin, else AWS's default
 * for the pinned Kubernetes version (not the most recent build), read before anything is registered.
 */
export async function resolveAddonVersions(kubernetesVersion: string, pins: readonly string[], addons: readonly string[]): Promise<Record<string, string>> {
  const pinned = new Map(pins.map((p) => p.split("=") as [string, string]));
  const out: Record<string, string> = {};
  for (const addon of addons) {
    out[addon] = pinned.get(addon) ?? (await aws.eks.getAddonVersion({ addonName: addon, kubernetesVersion, mostRecent: false })).version;
  }
  return out;
}

/** The ALB ingress class that EKS Auto Mode serves; the ZenML ingress refers to it by name. */
export const INGRESS_CLASS = "alb";

/** What workloads need of the cluster: its name, its Kubernetes provider, the OIDC issuer IRSA roles trust. */
export type ClusterAccess = Pick<Cluster, "clusterName" | "provider" | "oidcProviderArn" | "oidcProviderUrl">;

/**
 * EKS in Auto Mode: AWS runs compute, the ALB controller and EBS storage, so nothing is
 * hand-installed and node OS patching follows AWS.
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly oidcProviderArn: pulumi.Output<string>;
  public readonly oidcProviderUrl: pulumi.Output<string>;
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  /** The Auto Mode node role: it pulls images for every pod. */
  public readonly nodeRoleName: pulumi.Output<string>;
  /** The EKS cluster: add-on updates wait for its control plane. */
  public readonly controlPlane: eks.Cluster;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:Cluster", name, {}, opts);
    const tags = baseTags(args.environmentName, "cluster");
    const clusterName = `zenml-${args.environmentName}`;

    const secretsKey = new aws.kms.Key(
      `${name}-secrets-key`,
      { description: `${clusterName} Kubernetes secrets encryption`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
      { parent: this, protect: args.protect },
    );

    const cluster = new eks.Cluster(
      name,
      {
        name: clusterName,
        version: args.kubernetesVersion,
        // Standard support only: an old version is force-upgraded rather than billed as extended support.
        upgradePolicy: { supportType: "STANDARD" },
        authenticationMode: eks.AuthenticationMode.Api,
        accessEntries: accessEntries(args.adminRoleArns ?? [], args.viewerRoleArns ?? [], args.releaseNamespace, args.partition),
        // Only the "system" built-in pool: workloads land on the capped "zenml" pool below.
        autoMode: { enabled: true, computeConfig: { nodePools: ["system"] } },
        vpcId: args.vpcId,
        publicSubnetIds: args.publicSubnetIds,
        privateSubnetIds: args.privateSubnetIds,
        nodeAssociatePublicIpAddress: false,
        endpointPrivateAccess: true,
        endpointPublicAccess: true,
        publicAccessCidrs: args.publicAccessCidrs,
        createOidcProvider: true,
        enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
        encryptionConfigKeyArn: secretsKey.arn,
        tags,
      },
      { parent: this },
    );

    this.controlPlane = cluster;
    this.clusterName = pulumi.output(clusterName);
    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.oidcProviderArn = cluster.oidcProviderArn;
    this.oidcProviderUrl = cluster.oidcProviderUrl;
    this.clusterSecurityGroupId = cluster.clusterSecurityGroupId;
    this.nodeRoleName = cluster.autoModeNodeRoleName;
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { parent: this });

    const k8sOpts = { parent: this, provider: this.provider };
    // Auto Mode ships the controller but not the IngressClass: internet-facing ALBs in public subnets.
    const ingressParams = new k8s.apiextensions.CustomResource(
      `${name}-alb-params`,
      { apiVersion: "eks.amazonaws.com/v1", kind: "IngressClassParams", metadata: { name: INGRESS_CLASS }, spec: { scheme: args.ingressScheme ?? "internet-facing" } },
      k8sOpts,
    );
    new k8s.networking.v1.IngressClass(
      `${name}-alb`,
      {
        metadata: { name: INGRESS_CLASS },
        spec: {
          controller: "eks.amazonaws.com/alb",
          parameters: { apiGroup: "eks.amazonaws.com", kind: "IngressClassParams", name: INGRESS_CLASS },
        },
      },
      { ...k8sOpts, dependsOn: [ingressParams] },
    );
    // Our own NodeClass pins nodes to the private subnets (the default one may pick any cluster subnet).
    const nodeClass = new k8s.apiextensions.CustomResource(
      `${name}-node-class`,
      {
        apiVersion: "eks.amazonaws.com/v1",
        kind: "NodeClass",
        metadata: { name: "zenml-private" },
        spec: {
          role: cluster.autoModeNodeRoleName,
          subnetSelectorTerms: [{ tags: { "kubernetes.io/role/internal-elb": "1", stack: args.environmentName } }],
          securityGroupSelectorTerms: [{ id: cluster.clusterSecurityGroupId }],
          // Enforce NetworkPolicies on our nodes (with the controller the NetworkPolicies component enables).
          networkPolicy: "DefaultAllow",
          networkPolicyEventLogs: "Enabled",
        },
      },
      k8sOpts,
    );
    // A capped node pool: the built-in general-purpose pool has no limit, this one makes capacity config.
    new k8s.apiextensions.CustomResource(
      `${name}-node-pool`,
      {
        apiVersion: "karpenter.sh/v1",
        kind: "NodePool",
        metadata: { name: "zenml" },
        spec: {
          template: {
            spec: {
              nodeClassRef: { group: "eks.amazonaws.com", kind: "NodeClass", name: "zenml-private" },
              requirements: [
                { key: "eks.amazonaws.com/instance-category", operator: "In", values: ["m", "c", "r"] },
                { key: "kubernetes.io/arch", operator: "In", values: ["amd64", "arm64"] },
                { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
              ],
            },
          },
          limits: { cpu: String(args.nodePoolCpuLimit) },
          disruption: { consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "5m", budgets: NODE_DISRUPTION_BUDGETS },
        },
      },
      { ...k8sOpts, dependsOn: [nodeClass] },
    );

    this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig, oidcProviderArn: this.oidcProviderArn });
  }
}
