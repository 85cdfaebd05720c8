import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { DB_PORT } from "./database";
// The chart puts these labels on the server's pods and on its migration hook's pods alike.
import { SERVER_POD_LABELS } from "./zenml-server";

export interface NetworkPoliciesArgs {
  provider: k8s.Provider;
  /** The VPC's range: the database lives inside it, and nothing else on its port. */
  vpcCidr: string;
  /** The server's namespace: everything there except the release's own pods is cut off. */
  serverNamespace: string;
  /** Namespaces running user code (pipelines): every pod there is cut off. */
  workloadNamespaces: string[];
  /** Namespaces must exist before their policies. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * Only the ZenML server and its migration hook may open a connection to the database port. The
 * database is outside the cluster (RDS), so the policies are egress rules: every other pod we run
 * may reach anything except TCP 3306 inside the VPC. EKS Auto Mode enforces NetworkPolicies once
 * the VPC CNI's policy controller is on (this ConfigMap) and the NodeClass enables them (cluster.ts).
 */
export class NetworkPolicies extends pulumi.ComponentResource {
  constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:NetworkPolicies", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };

    const controller = new k8s.core.v1.ConfigMap(
      `${name}-controller`,
      { metadata: { name: "amazon-vpc-cni", namespace: "kube-system" }, data: { "enable-network-policy-controller": "true" } },
      k8sOpts,
    );

    const egress = databaseClosedEgress(args.vpcCidr);
    const policy = (suffix: string, namespace: string, podSelector: k8s.types.input.meta.v1.LabelSelector) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${suffix}`,
        { metadata: { name: "no-database-access", namespace }, spec: { podSelector, policyTypes: ["Egress"], egress } },
        { ...k8sOpts, dependsOn: [controller, ...args.dependsOn] },
      );
    // Every pod in the server's namespace except the release's (server and migration hook).
    policy("server-namespace", args.serverNamespace, { matchExpressions: [{ key: "app.kubernetes.io/instance", operator: "NotIn", values: [SERVER_POD_LABELS["app.kubernetes.io/instance"]] }] });
    for (const ns of args.workloadNamespaces) policy(`ns-${ns}`, ns, {});
    this.registerOutputs({});
  }
}

/** Egress to anywhere, except the database port inside the VPC. */
export function databaseClosedEgress(vpcCidr: string): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
  return [
    { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpcCidr] } }] },
    {
      to: [{ ipBlock: { cidr: vpcCidr } }],
      ports: [
        { protocol: "TCP", port: 1, endPort: DB_PORT - 1 },
        { protocol: "TCP", port: DB_PORT + 1, endPort: 65535 },
        { protocol: "UDP", port: 1, endPort: 65535 },
      ],
    },
  ];
}
