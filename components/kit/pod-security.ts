// The restricted Pod Security Standard, once: every workload the program runs (the ZenML chart's
// pods, the MLflow server, each script Job) takes these.
import type * as k8s from "@pulumi/kubernetes";

/** Restricted pod security: no escalation, no capabilities, the runtime's seccomp profile, never root. */
export const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
export const RESTRICTED_POD = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } };

/** A container that runs under the restricted standard: its securityContext is RESTRICTED_CONTAINER. */
export type RestrictedContainer = Omit<k8s.types.input.core.v1.Container, "securityContext"> & { securityContext: typeof RESTRICTED_CONTAINER };
