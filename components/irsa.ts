import * as pulumi from "@pulumi/pulumi";

/** A Kubernetes service account as IAM sees it in a web-identity token. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
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
