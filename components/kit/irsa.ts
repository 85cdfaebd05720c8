// IAM for workloads in the cluster: IRSA roles (a service account's web-identity token assumes
// the role, no stored keys) and the policy documents every role here is written with.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** A Kubernetes service account as IAM sees it in a web-identity token. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** The cluster's OIDC issuer as IAM knows it (the Cluster component's outputs of these names). */
export interface OidcProvider {
  oidcProviderArn: pulumi.Input<string>;
  oidcProviderUrl: pulumi.Input<string>;
}

/** An IAM policy document of these statements (a list, or one output of the whole list). */
export function policyDocument(statements: pulumi.Input<pulumi.Input<object>[]>): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * Trust policy for IAM roles for service accounts: only these service accounts of this cluster's
 * OIDC issuer may assume the role, and only with the STS audience.
 */
export function irsaTrustPolicy(oidcProviderArn: pulumi.Input<string>, oidcProviderUrl: pulumi.Input<string>, accounts: ServiceAccountRef[]): pulumi.Output<string> {
  return pulumi.all([oidcProviderArn, oidcProviderUrl]).apply(([arn, url]) => {
    const issuer = url.replace(/^https:\/\//, "");
    return JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: arn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${issuer}:aud`]: "sts.amazonaws.com",
              [`${issuer}:sub`]: accounts.map((a) => `system:serviceaccount:${a.namespace}:${a.name}`),
            },
          },
        },
      ],
    });
  });
}

export interface IrsaRoleArgs {
  oidc: OidcProvider;
  /** The only service accounts that may assume the role. */
  serviceAccounts: ServiceAccountRef[];
  tags: Record<string, string>;
  /** The role's inline policy: its resource name and statements. Default: none (attach policies to the role yourself). */
  policy?: { name: string; statements: pulumi.Input<pulumi.Input<object>[]> };
}

/** An IRSA role named `name`, with its inline policy when given; both take `opts` (parent them). */
export function irsaRole(name: string, args: IrsaRoleArgs, opts: pulumi.CustomResourceOptions): aws.iam.Role {
  const role = new aws.iam.Role(name, { assumeRolePolicy: irsaTrustPolicy(args.oidc.oidcProviderArn, args.oidc.oidcProviderUrl, args.serviceAccounts), tags: args.tags }, opts);
  if (args.policy) new aws.iam.RolePolicy(args.policy.name, { role: role.id, policy: policyDocument(args.policy.statements) }, opts);
  return role;
}
