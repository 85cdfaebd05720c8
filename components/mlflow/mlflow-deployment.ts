// The MLflow server itself: its Deployment (started by the image's serve.sh), the Service and the
// ALB ingress next to ZenML's.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { INGRESS_CLASS } from "../cluster";
import { albAnnotations } from "../kit/alb-ingress";
import { digestOf } from "../kit/digest";
import { readPayload } from "../kit/payload";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../kit/pod-security";
import { shipPayload } from "../kit/script-job";
import type { MlflowServerArgs } from "./mlflow-server";
import {
  DB_CA_MOUNT,
  DB_CA_VOLUME,
  MLFLOW_ARTIFACT_PREFIX,
  MLFLOW_CREDENTIALS_SECRET,
  MLFLOW_DEPLOYMENT,
  MLFLOW_IMAGE_DIR,
  MLFLOW_LABELS,
  MLFLOW_NAMESPACE,
  MLFLOW_SERVICE_ACCOUNT,
  credentialEnv,
} from "./mlflow-names";

const PORT = 5000;
/** How the server starts (workers, features off), shared with the upgrade rehearsal. */
const SERVE_SCRIPT = "serve.sh";
const SERVE_MOUNT = "/opt/mlflow-serve";
/** The server container's requests and limits; the rehearsal measures real servers against them. */
const SERVER_RESOURCES_FILE = "server-resources.json";

/** What the server starts after: the migration Job, its service account, its Secrets. */
export interface ServingPrerequisites {
  migration: pulumi.Resource;
  serviceAccount: pulumi.Resource;
  credentials: pulumi.Resource;
  caBundle: pulumi.Resource;
}

/** The server's start-up file, Deployment, Service and Ingress; returns the Deployment. */
export function mlflowServing(name: string, args: MlflowServerArgs, after: ServingPrerequisites, opts: { k8sOpts: pulumi.CustomResourceOptions; inNamespace: pulumi.CustomResourceOptions }): k8s.apps.v1.Deployment {
  const labels = MLFLOW_LABELS;
  const versioned = { ...labels, "app.kubernetes.io/version": args.mlflowVersion };
  // Its own ConfigMap, not the Jobs': a change to how the server starts restarts the server only.
  const serve = readPayload(MLFLOW_IMAGE_DIR, SERVE_SCRIPT, "MLflow file");
  const serveFiles = shipPayload(
    `${name}-serve`,
    { name: `mlflow-serve-${digestOf(serve)}`, namespace: MLFLOW_NAMESPACE, labels, files: { [SERVE_SCRIPT]: serve }, volumeName: "serve", mountPath: SERVE_MOUNT },
    opts.inNamespace,
  );
  const deployment = new k8s.apps.v1.Deployment(
    `${name}-deployment`,
    {
      metadata: { name: MLFLOW_DEPLOYMENT, namespace: MLFLOW_NAMESPACE, labels: versioned },
      spec: {
        replicas: args.replicas,
        selector: { matchLabels: labels },
        // Old and new versions never serve side by side.
        strategy: { type: "Recreate" },
        template: {
          metadata: { labels: versioned },
          spec: {
            serviceAccountName: MLFLOW_SERVICE_ACCOUNT,
            securityContext: RESTRICTED_POD,
            containers: [
              {
                name: "mlflow",
                image: args.image,
                command: ["sh", `${SERVE_MOUNT}/${SERVE_SCRIPT}`, "0.0.0.0", String(PORT)],
                ports: [{ name: "http", containerPort: PORT }],
                env: serverEnv(args),
                volumeMounts: [{ name: "auth-config", mountPath: "/etc/mlflow", readOnly: true }, DB_CA_MOUNT, serveFiles.mount],
                securityContext: RESTRICTED_CONTAINER,
                readinessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: "/health", port: "http" }, initialDelaySeconds: 30, periodSeconds: 20 },
                resources: serverResources(),
              },
            ],
            // The Service "mlflow" would otherwise put MLFLOW_PORT=tcp://<ip>:80 (and MLFLOW_SERVICE_*)
            // into the server's environment, where MLflow reads its own settings.
            enableServiceLinks: false,
            volumes: [
              { name: "auth-config", secret: { secretName: MLFLOW_CREDENTIALS_SECRET, items: [{ key: "basic_auth.ini", path: "basic_auth.ini" }] } },
              DB_CA_VOLUME,
              serveFiles.volume,
            ],
          },
        },
      },
    },
    // The new server starts only after its migration Job succeeded.
    { ...opts.k8sOpts, dependsOn: [after.migration, after.serviceAccount, after.credentials, after.caBundle, serveFiles.configMap] },
  );
  const service = new k8s.core.v1.Service(
    `${name}-service`,
    { metadata: { name: MLFLOW_DEPLOYMENT, namespace: MLFLOW_NAMESPACE, labels }, spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] } },
    opts.inNamespace,
  );
  // TLS ends at the ALB with the ACM certificate, like ZenML's; plain HTTP is redirected.
  const alb = albAnnotations(args.exposure);
  new k8s.networking.v1.Ingress(
    `${name}-ingress`,
    {
      metadata: { name: MLFLOW_DEPLOYMENT, namespace: MLFLOW_NAMESPACE, annotations: { ...alb.reach, ...alb.routing } },
      spec: {
        ingressClassName: INGRESS_CLASS,
        rules: [{ host: args.exposure.hostname, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: MLFLOW_DEPLOYMENT, port: { name: "http" } } } }] } }],
      },
    },
    { ...opts.k8sOpts, dependsOn: [service] },
  );
  return deployment;
}

function serverEnv(args: MlflowServerArgs): k8s.types.input.core.v1.EnvVar[] {
  const hostname = args.exposure.hostname;
  return [
    credentialEnv("MLFLOW_BACKEND_STORE_URI", "backend-store-uri"),
    credentialEnv("MLFLOW_FLASK_SERVER_SECRET_KEY", "flask-secret-key"),
    { name: "MLFLOW_ARTIFACTS_DESTINATION", value: pulumi.interpolate`s3://${args.artifacts.bucketName}/${MLFLOW_ARTIFACT_PREFIX}` },
    { name: "MLFLOW_AUTH_CONFIG_PATH", value: "/etc/mlflow/basic_auth.ini" },
    // Newer servers check Host and Origin; older ones ignore these.
    { name: "MLFLOW_SERVER_ALLOWED_HOSTS", value: `${hostname},${MLFLOW_DEPLOYMENT}.${MLFLOW_NAMESPACE}.svc.cluster.local,${MLFLOW_DEPLOYMENT}.${MLFLOW_NAMESPACE}.svc` },
    { name: "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", value: `https://${hostname}` },
  ];
}

function serverResources(): { requests: Record<string, string>; limits: Record<string, string> } {
  const { requests, limits } = JSON.parse(readPayload(MLFLOW_IMAGE_DIR, SERVER_RESOURCES_FILE, "MLflow file")) as { requests?: Record<string, string>; limits?: Record<string, string> };
  if (!requests?.memory || !limits?.memory) throw new Error(`${path.join(MLFLOW_IMAGE_DIR, SERVER_RESOURCES_FILE)} must set requests.memory and limits.memory.`);
  return { requests, limits };
}
