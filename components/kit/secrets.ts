// Secrets the program generates and hands to workloads.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";

/** A generated password of letters and digits (safe in URIs and ini files), a Pulumi secret. Protect it where losing it loses data. */
export function generatedPassword(name: string, length: number, opts: pulumi.CustomResourceOptions): pulumi.Output<string> {
  return pulumi.secret(new random.RandomPassword(name, { length, special: false }, opts).result);
}

/** A Kubernetes Secret of these string values, named `secretName` in `namespace`. */
export function opaqueSecret(name: string, secret: { secretName: string; namespace: string; values: Record<string, pulumi.Input<string>> }, opts: pulumi.CustomResourceOptions): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(name, { metadata: { name: secret.secretName, namespace: secret.namespace }, type: "Opaque", stringData: secret.values }, opts);
}
