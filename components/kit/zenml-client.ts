// The ZenML client that in-cluster Jobs (stack registration, post-upgrade) run: the server's own
// image, logged in to the in-cluster server as the generated admin.
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { ZENML_SERVER_IMAGE } from "../image-lock";
import { ADMIN_SECRET, IN_CLUSTER_URL } from "../zenml-server";

/** The ZenML server image: the chart runs it, and every in-cluster client runs it too. */
export interface ZenmlImage {
  /** Exact ZenML release: chart version, image tag and server version at once, never different. */
  zenmlVersion: string;
  /** Where the image comes from (our ECR pull-through cache). Default: Docker Hub (the chart's). */
  repository?: pulumi.Input<string>;
  /** The tag as rendered: the version, `<version>@sha256:<digest>` when images.lock.yaml pins it. Default: the version. */
  tag?: string;
}

/** The tag a Job's name digest covers: a re-pinned digest is a new Job. */
export const zenmlImageTag = (image: ZenmlImage): string => image.tag ?? image.zenmlVersion;

/**
 * The server image as the client: the same zenml plus the libraries the AWS connector needs
 * (boto3, kubernetes), which the plain client image lacks.
 */
export function zenmlClientImage(image: ZenmlImage): pulumi.Output<string> {
  return pulumi.interpolate`${image.repository ?? ZENML_SERVER_IMAGE}:${zenmlImageTag(image)}`;
}

/** A client's environment: the in-cluster server, the admin's credentials from their Secret, no analytics. */
export function zenmlClientEnv(): k8s.types.input.core.v1.EnvVar[] {
  const credential = (key: string) => ({ valueFrom: { secretKeyRef: { name: ADMIN_SECRET, key } } });
  return [
    { name: "ZENML_STORE_URL", value: IN_CLUSTER_URL },
    { name: "ZENML_STORE_USERNAME", ...credential("username") },
    { name: "ZENML_STORE_PASSWORD", ...credential("password") },
    { name: "ZENML_ANALYTICS_OPT_IN", value: "false" },
  ];
}
