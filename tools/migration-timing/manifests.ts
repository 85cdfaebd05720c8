// Pure: the Kubernetes objects of one timing run in staging's cluster. A namespace of its own (the
// run deletes it, and everything in it, at the end), the copy's throw-away password and the RDS CAs
// as Secrets, the scripts as a ConfigMap, and one run-once Job under the restricted pod standard.
import * as path from "node:path";
import { readPayload } from "../../components/kit/payload";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../../components/kit/pod-security";
import { rdsCaBundle } from "../../components/rds-ca";
import type { TimingJob } from "./timing";

/** time_migration.py and what it imports, from components/pre-upgrade/. */
export const TIMING_SCRIPTS = ["time_migration.py", "inventory.py", "restore_test.py", "preflight_io.py"] as const;
const PAYLOAD_DIR = path.join(__dirname, "..", "..", "components", "pre-upgrade");
export const TIMING_JOB = "zenml-migration-timing";
const LABELS = { "app.kubernetes.io/managed-by": "zenml-platform", "app.kubernetes.io/component": "migration-timing" };

export function timingManifests(job: TimingJob, scripts: Record<string, string> = readScripts()): object[] {
  const meta = (name: string) => ({ name, namespace: job.namespace, labels: LABELS });
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: job.namespace, labels: LABELS } },
    { apiVersion: "v1", kind: "Secret", metadata: meta("copy-password"), type: "Opaque", stringData: { password: job.password } },
    { apiVersion: "v1", kind: "Secret", metadata: meta("rds-ca"), type: "Opaque", stringData: { "rds-ca.pem": rdsCaBundle(job.region) } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta("scripts"), data: scripts },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: meta(TIMING_JOB),
      spec: {
        // One attempt: a second would migrate an already migrated copy and time nothing.
        backoffLimit: 0,
        activeDeadlineSeconds: job.deadlineMinutes * 60,
        template: {
          metadata: { labels: LABELS },
          spec: {
            restartPolicy: "Never",
            automountServiceAccountToken: false,
            securityContext: RESTRICTED_POD,
            containers: [
              {
                name: "migrate",
                image: job.image,
                securityContext: RESTRICTED_CONTAINER,
                command: [
                  "python",
                  "/opt/timing/time_migration.py",
                  ...["--host", job.host, "--port", String(job.port), "--user", job.user, "--password-env", "COPY_PASSWORD", "--database", job.database],
                  ...["--to-version", job.to, "--ca", "/dbcerts/rds-ca.pem"],
                ],
                env: [
                  { name: "COPY_PASSWORD", valueFrom: { secretKeyRef: { name: "copy-password", key: "password" } } },
                  { name: "HOME", value: "/tmp" },
                ],
                volumeMounts: [
                  { name: "scripts", mountPath: "/opt/timing", readOnly: true },
                  { name: "rds-ca", mountPath: "/dbcerts", readOnly: true },
                  { name: "tmp", mountPath: "/tmp" },
                ],
                resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
              },
            ],
            volumes: [
              { name: "scripts", configMap: { name: "scripts" } },
              { name: "rds-ca", secret: { secretName: "rds-ca" } },
              { name: "tmp", emptyDir: {} },
            ],
          },
        },
      },
    },
  ];
}

function readScripts(): Record<string, string> {
  return Object.fromEntries(TIMING_SCRIPTS.map((f) => [f, readPayload(PAYLOAD_DIR, f, "migration-timing script")]));
}

/** The TO image as staging's pods pull it: its ECR pull-through cache of Docker Hub (components/image-mirror.ts). */
export function stagingImage(account: string, region: string, target: string, to: string, digest: string | undefined): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com/docker-hub-${target}/zenmldocker/zenml-server:${to}${digest ? `@${digest}` : ""}`;
}
