import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ClusterAccess } from "./cluster";
import { irsaRole } from "./kit/irsa";
import { baseTags } from "./kit/tags";

export interface ClusterLoggingArgs {
  environmentName: string;
  /** Days container logs (including the migration Job's) are kept in CloudWatch. */
  retentionDays: number;
  /** ARN partition of the region ("aws", "aws-cn", "aws-us-gov"). */
  partition: string;
  /** The add-on version, resolved per cluster version (resolveAddonVersions); never "latest at apply time". */
  addonVersion: string;
  /** Whose pods' logs are shipped; the agent's IRSA role trusts its OIDC issuer. */
  cluster: Omit<ClusterAccess, "provider">;
  /** Resources the add-on waits for: the control plane, so a cluster upgrade moves it after the cluster. Default: none. */
  after?: pulumi.Resource[];
}

/**
 * Ships every pod's logs to CloudWatch with the EKS CloudWatch Observability add-on. The ZenML
 * migration hook Job is deleted on success, so CloudWatch is where its logs outlive it.
 */
export class ClusterLogging extends pulumi.ComponentResource {
  public readonly applicationLogGroup: pulumi.Output<string>;

  constructor(name: string, args: ClusterLoggingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:ClusterLogging", name, {}, opts);
    const tags = baseTags(args.environmentName, "logging");
    const child = { parent: this };

    // Created ahead of the add-on so the retention is ours; Fluent Bit writes container logs here.
    const applicationLogs = new aws.cloudwatch.LogGroup(
      `${name}-application`,
      { name: pulumi.interpolate`/aws/containerinsights/${args.cluster.clusterName}/application`, retentionInDays: args.retentionDays, tags },
      child,
    );
    const role = irsaRole(`${name}-agent-role`, { oidc: args.cluster, serviceAccounts: [{ namespace: "amazon-cloudwatch", name: "cloudwatch-agent" }], tags }, child);
    new aws.iam.RolePolicyAttachment(`${name}-agent-policy`, { role: role.name, policyArn: `arn:${args.partition}:iam::aws:policy/CloudWatchAgentServerPolicy` }, child);
    new aws.eks.Addon(
      `${name}-addon`,
      {
        clusterName: args.cluster.clusterName,
        addonName: "amazon-cloudwatch-observability",
        addonVersion: args.addonVersion,
        serviceAccountRoleArn: role.arn,
        configurationValues: JSON.stringify({ containerLogs: { enabled: true } }),
        resolveConflictsOnUpdate: "OVERWRITE",
        tags,
      },
      { parent: this, dependsOn: [applicationLogs, ...(args.after ?? [])] },
    );

    this.applicationLogGroup = applicationLogs.name;
    this.registerOutputs({ applicationLogGroup: this.applicationLogGroup });
  }
}
