// One mechanism for the work the program runs inside the cluster: files shipped in an immutable
// ConfigMap named by their digest, run by a Job under the restricted pod standard. A changed
// version, input or script is a new ConfigMap and a new Job, never an edit under a running one.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { RESTRICTED_CONTAINER, RESTRICTED_POD, type RestrictedContainer } from "./pod-security";

type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

export interface PayloadArgs {
  /** The ConfigMap's name in the cluster, ending in the digest of everything the payload depends on. */
  name: pulumi.Input<string>;
  namespace: string;
  labels: Record<string, string>;
  /** File name -> content. */
  files: Record<string, pulumi.Input<string>>;
  /** The pod volume that carries the files, and where they appear. */
  volumeName: string;
  mountPath: string;
}

/** Shipped files: the ConfigMap, the pod volume that carries them and its read-only mount. */
export interface Payload {
  configMap: k8s.core.v1.ConfigMap;
  volume: Volume;
  mount: VolumeMount;
}

export function shipPayload(name: string, args: PayloadArgs, opts: pulumi.CustomResourceOptions): Payload {
  const configMap = new k8s.core.v1.ConfigMap(name, { metadata: { name: args.name, namespace: args.namespace, labels: args.labels }, immutable: true, data: args.files }, opts);
  return {
    configMap,
    volume: { name: args.volumeName, configMap: { name: configMap.metadata.name } },
    mount: { name: args.volumeName, mountPath: args.mountPath, readOnly: true },
  };
}

export interface ScriptJobArgs {
  /** The Job's name in the cluster, ending in its payload's digest. */
  name: pulumi.Input<string>;
  namespace: string;
  /** Labels of the Job and its pod. */
  labels: Record<string, string>;
  /** Labels of the Job only, e.g. the version a migration moves to. Default: none. */
  jobLabels?: Record<string, string>;
  /** Default: none. */
  annotations?: Record<string, string>;
  /** Pods started again after a failed one. */
  backoffLimit: number;
  /** Seconds the Job may run before Kubernetes stops it. Default: no limit. */
  activeDeadlineSeconds?: number;
  /** Default: the namespace's default account. Either way no Kubernetes API token is mounted. */
  serviceAccountName?: string;
  payload: Payload;
  /** Image, command, env and mounts (the payload's among them) of the Job's one container. */
  container: RestrictedContainer;
  /** Volumes besides the payload's. Default: none. */
  volumes?: Volume[];
}

/** A run-once Job: never restarted in place, restricted pod and container, the payload mounted. */
export function scriptJob(name: string, args: ScriptJobArgs, opts: pulumi.CustomResourceOptions): k8s.batch.v1.Job {
  return new k8s.batch.v1.Job(
    name,
    {
      metadata: { name: args.name, namespace: args.namespace, labels: { ...args.labels, ...args.jobLabels }, annotations: args.annotations },
      spec: {
        backoffLimit: args.backoffLimit,
        activeDeadlineSeconds: args.activeDeadlineSeconds,
        template: {
          metadata: { labels: args.labels },
          spec: {
            restartPolicy: "Never",
            automountServiceAccountToken: false,
            serviceAccountName: args.serviceAccountName,
            securityContext: RESTRICTED_POD,
            // Always the restricted context; the key stays where the caller wrote it (manifests keep their order).
            containers: [{ ...args.container, securityContext: RESTRICTED_CONTAINER }],
            volumes: [args.payload.volume, ...(args.volumes ?? [])],
          },
        },
      },
    },
    opts,
  );
}
