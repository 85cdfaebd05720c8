import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { INGRESS_CLASS } from "../cluster";
import { DB_PORT, DB_USER } from "../database";
import { irsaTrustPolicy } from "../irsa";
import { MLFLOW_ADMIN_USER } from "./mlflow-policy";
import { rdsCaBundle } from "../rds-ca";
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from "../zenml-server";
import { baseTags } from "../tags";

export { MLFLOW_ADMIN_USER };

export const MLFLOW_NAMESPACE = "mlflow";
/** Fixed names: the scale-down before an upgrade and the registration job refer to them. */
export const MLFLOW_DEPLOYMENT = "mlflow";
export const MLFLOW_SERVICE_ACCOUNT = "mlflow";
/** Holds the MLflow admin's generated credentials; the ZenML registration job reads it. */
export const MLFLOW_CREDENTIALS_SECRET = "mlflow-credentials";
/** Its own databases on the environment's RDS instance: tracking data and basic-auth users. */
export const MLFLOW_DB_NAME = "mlflow";
export const MLFLOW_AUTH_DB_NAME = "mlflow_auth";
export const MLFLOW_DB_USER = "mlflow";
/** Artifacts live under this prefix of the environment's artifact bucket. */
export const MLFLOW_ARTIFACT_PREFIX = "mlflow";
export const MLFLOW_IN_CLUSTER_URL = `http://${MLFLOW_DEPLOYMENT}.${MLFLOW_NAMESPACE}.svc.cluster.local`;
const PORT = 5000;
/** Run by the Jobs, from a ConfigMap named by their digest. */
export const MLFLOW_SCRIPTS_DIR = path.join(__dirname, "image");
const SCRIPTS = ["bootstrap_db.py", "migrate.py"] as const;
/** How the server starts (workers, features off), shared with the upgrade rehearsal. */
const MLFLOW_SERVE_SCRIPT = "serve.sh";
const SERVE_MOUNT = "/opt/mlflow-serve";
/** The server container's requests and limits; the rehearsal measures real servers against them. */
const MLFLOW_SERVER_RESOURCES_FILE = "server-resources.json";

export interface MlflowServerArgs {
  environmentName: string;
  /** Exact MLflow release; the migration Job and the server run the same image. */
  mlflowVersion: string;
  /** Digest-pinned image carrying mlflowVersion, PyMySQL and boto3: ours from the environment's ECR, or mlflowImage (validated in config). */
  image: pulumi.Input<string>;
  /** The image without its registry host, which names the Jobs and their scripts (a new image is a new Job). */
  imageId: string;
  provider: k8s.Provider;
  oidcProviderArn: pulumi.Input<string>;
  oidcProviderUrl: pulumi.Input<string>;
  databaseAddress: pulumi.Input<string>;
  /** RDS master password: only the bootstrap Job uses it, to create MLflow's own user and databases. */
  databaseMasterPassword: pulumi.Input<string>;
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  bucketKmsKeyArn: pulumi.Input<string>;
  hostname: string;
  certificateArn: string;
  /** Who may reach the load balancer and how it is exposed: the ZenML server's settings, so both are equally reachable. */
  ingressCidrs: string[];
  ingressScheme: "internet-facing" | "internal";
  /** Region of the RDS instance, whose CAs verify its certificate. */
  region: string;
  replicas: number;
  /** Protects the generated credentials (prod). */
  protect: boolean;
  /** On an upgrade: the scale-down and the pre-upgrade snapshot; the migration Job waits for both. Default: none. */
  migrationDependsOn?: pulumi.Resource[];
}

/** Names a Kubernetes object after what it runs, so a new version or script is a new object. */
function digestOf(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 10);
}

/**
 * Sets the running MLflow Deployment to zero replicas: the first step of an upgrade, before the
 * snapshot, so no old server writes while the database is copied and migrated. Registered only
 * on an upgrade of a running server; the Deployment takes its replicas back after the migration.
 */
export function scaleMlflowToZero(name: string, args: { provider: k8s.Provider; from: string; to: string }, opts: pulumi.CustomResourceOptions = {}): k8s.apps.v1.DeploymentPatch {
  return new k8s.apps.v1.DeploymentPatch(
    `${name}-scale-to-zero-${args.from.replace(/\./g, "-")}-to-${args.to.replace(/\./g, "-")}`,
    {
      metadata: { name: MLFLOW_DEPLOYMENT, namespace: MLFLOW_NAMESPACE, annotations: { "pulumi.com/patchForce": "true", "zenml-platform/upgrade": `${args.from}->${args.to}` } },
      spec: { replicas: 0 },
    },
    { ...opts, provider: args.provider },
  );
}

/**
 * The optional MLflow tracking server: its own databases on the environment's RDS instance (TLS),
 * artifacts under the artifact bucket through IRSA (no keys), basic-auth on with generated
 * credentials, HTTPS through an ALB next to ZenML. Schema changes only happen in a migration Job
 * (`mlflow db upgrade`) that the server's Deployment waits for.
 */
export class MlflowServer extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly adminPassword: pulumi.Output<string>;
  public readonly migrationJobName: pulumi.Output<string>;
  public readonly serviceAccountRoleArn: pulumi.Output<string>;
  /** The server's Deployment: anything that talks to MLflow waits for it. */
  public readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: MlflowServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:MlflowServer", name, {}, opts);
    const tags = baseTags(args.environmentName, "mlflow-server");
    const k8sOpts = { parent: this, provider: args.provider };
    const keyOpts = { parent: this, protect: args.protect };
    const labels = { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/managed-by": "zenml-platform" };

    const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: MLFLOW_NAMESPACE } }, k8sOpts);
    const inNamespace = { ...k8sOpts, dependsOn: [namespace] };
    // URL-safe alphabets: these go into database URIs and the basic-auth ini file.
    const dbPassword = pulumi.secret(new random.RandomPassword(`${name}-db-password`, { length: 32, special: false }, keyOpts).result);
    const adminPassword = pulumi.secret(new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, keyOpts).result);
    // Shared by every replica: the basic-auth app signs its CSRF tokens with it.
    const flaskKey = pulumi.secret(new random.RandomPassword(`${name}-flask-secret-key`, { length: 64, special: false }, keyOpts).result);

    // Verified TLS, like the ZenML server's: the region's RDS CAs from a Secret (PyMySQL then checks
    // the certificate and the hostname); the instance refuses plaintext anyway.
    const caBundle = new k8s.core.v1.Secret(`${name}-db-ca`, { metadata: { name: "mlflow-db-ca", namespace: MLFLOW_NAMESPACE }, type: "Opaque", stringData: { "rds-ca.pem": rdsCaBundle(args.region) } }, inNamespace);
    const caVolume = { name: "db-ca", secret: { secretName: "mlflow-db-ca" } };
    const caMount = { name: "db-ca", mountPath: "/etc/mlflow-db-ca", readOnly: true };
    const dbUri = (db: string) => pulumi.interpolate`mysql+pymysql://${MLFLOW_DB_USER}:${dbPassword}@${args.databaseAddress}:${DB_PORT}/${db}?ssl_ca=${caMount.mountPath}/rds-ca.pem`;
    const authIni = pulumi.interpolate`[mlflow]
default_permission = READ
database_uri = ${dbUri(MLFLOW_AUTH_DB_NAME)}
admin_username = ${MLFLOW_ADMIN_USER}
admin_password = ${adminPassword}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
`;
    const credentials = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: MLFLOW_CREDENTIALS_SECRET, namespace: MLFLOW_NAMESPACE },
        type: "Opaque",
        stringData: {
          username: MLFLOW_ADMIN_USER,
          password: adminPassword,
          "backend-store-uri": pulumi.secret(dbUri(MLFLOW_DB_NAME)),
          "auth-database-uri": pulumi.secret(dbUri(MLFLOW_AUTH_DB_NAME)),
          "basic_auth.ini": pulumi.secret(authIni),
          "flask-secret-key": flaskKey,
        },
      },
      inNamespace,
    );
    const secretEnv = (envName: string, key: string) => ({ name: envName, valueFrom: { secretKeyRef: { name: MLFLOW_CREDENTIALS_SECRET, key } } });

    // Creates MLflow's user and databases with the master user, idempotently (and resets the
    // user's password to the generated one), so MLflow never holds the master credentials.
    const scripts = readScripts();
    const scriptsDigest = digestOf(args.imageId, ...SCRIPTS.map((f) => scripts[f]));
    const scriptsMap = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      { metadata: { name: `mlflow-scripts-${scriptsDigest}`, namespace: MLFLOW_NAMESPACE, labels }, immutable: true, data: scripts },
      inNamespace,
    );
    const scriptsVolume = { name: "scripts", configMap: { name: scriptsMap.metadata.name } };
    const scriptsMount = [{ name: "scripts", mountPath: "/opt/mlflow-platform", readOnly: true }];
    const bootstrapSecret = new k8s.core.v1.Secret(
      `${name}-db-bootstrap`,
      {
        metadata: { name: "mlflow-db-bootstrap", namespace: MLFLOW_NAMESPACE },
        type: "Opaque",
        stringData: { "master-password": pulumi.secret(args.databaseMasterPassword), "mlflow-password": dbPassword },
      },
      inNamespace,
    );
    const jobPod = (command: string[], env: k8s.types.input.core.v1.EnvVar[], volumeMounts: k8s.types.input.core.v1.VolumeMount[] = []) => ({
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      securityContext: RESTRICTED_POD,
      containers: [{ name: "run", image: args.image, command, env, volumeMounts: [...volumeMounts, caMount], securityContext: RESTRICTED_CONTAINER, resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } } }],
    });
    const bootstrap = new k8s.batch.v1.Job(
      `${name}-db-bootstrap-job`,
      {
        metadata: { name: `mlflow-db-bootstrap-${scriptsDigest}`, namespace: MLFLOW_NAMESPACE, labels },
        spec: {
          backoffLimit: 2,
          template: {
            metadata: { labels },
            spec: {
              ...jobPod(
                ["python", "/opt/mlflow-platform/bootstrap_db.py"],
                [
                  { name: "DB_HOST", value: args.databaseAddress },
                  { name: "DB_PORT", value: String(DB_PORT) },
                  { name: "DB_MASTER_USER", value: DB_USER },
                  { name: "DB_MASTER_PASSWORD", valueFrom: { secretKeyRef: { name: "mlflow-db-bootstrap", key: "master-password" } } },
                  { name: "MLFLOW_DB_USER", value: MLFLOW_DB_USER },
                  { name: "MLFLOW_DB_PASSWORD", valueFrom: { secretKeyRef: { name: "mlflow-db-bootstrap", key: "mlflow-password" } } },
                  { name: "MLFLOW_DATABASES", value: `${MLFLOW_DB_NAME},${MLFLOW_AUTH_DB_NAME}` },
                  { name: "DB_SSL_CA", value: `${caMount.mountPath}/rds-ca.pem` },
                ],
                scriptsMount,
              ),
              volumes: [scriptsVolume, caVolume],
            },
          },
        },
      },
      { ...k8sOpts, dependsOn: [bootstrapSecret, scriptsMap, caBundle] },
    );

    // The only place the schema changes (components/mlflow/image/migrate.py: `mlflow db upgrade`, then the
    // basic-auth store), with the new version's image. backoffLimit 0 like ZenML's hook: a failed
    // migration is looked at, not retried blind. Named by version and scripts, so an upgrade is a
    // new Job the new server waits for.
    const migration = new k8s.batch.v1.Job(
      `${name}-db-upgrade`,
      {
        metadata: { name: `mlflow-db-upgrade-${args.mlflowVersion.replace(/\./g, "-")}-${scriptsDigest}`, namespace: MLFLOW_NAMESPACE, labels: { ...labels, "app.kubernetes.io/version": args.mlflowVersion } },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels },
            spec: {
              ...jobPod(["python", "/opt/mlflow-platform/migrate.py"], [secretEnv("MLFLOW_BACKEND_STORE_URI", "backend-store-uri"), secretEnv("MLFLOW_AUTH_DATABASE_URI", "auth-database-uri")], scriptsMount),
              volumes: [scriptsVolume, caVolume],
            },
          },
        },
      },
      { ...k8sOpts, dependsOn: [bootstrap, credentials, ...(args.migrationDependsOn ?? [])] },
    );

    // Artifacts: the bucket's mlflow/ prefix and its key, nothing else.
    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: irsaTrustPolicy(args.oidcProviderArn, args.oidcProviderUrl, [{ namespace: MLFLOW_NAMESPACE, name: MLFLOW_SERVICE_ACCOUNT }]), tags },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-artifact-access`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "ListMlflowArtifacts", Effect: "Allow", Action: ["s3:ListBucket"], Resource: args.bucketArn, Condition: { StringLike: { "s3:prefix": [`${MLFLOW_ARTIFACT_PREFIX}/*`, MLFLOW_ARTIFACT_PREFIX] } } },
            { Sid: "LocateBucket", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: args.bucketArn },
            { Sid: "ReadWriteMlflowArtifacts", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: pulumi.interpolate`${args.bucketArn}/${MLFLOW_ARTIFACT_PREFIX}/*` },
            { Sid: "UseArtifactKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.bucketKmsKeyArn },
          ],
        }),
      },
      { parent: this },
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: MLFLOW_SERVICE_ACCOUNT, namespace: MLFLOW_NAMESPACE, annotations: { "eks.amazonaws.com/role-arn": role.arn } } },
      inNamespace,
    );

    // Its own ConfigMap, not the Jobs': a change to how the server starts restarts the server only.
    const serve = readImageFile(MLFLOW_SERVE_SCRIPT);
    const serveMap = new k8s.core.v1.ConfigMap(
      `${name}-serve`,
      { metadata: { name: `mlflow-serve-${digestOf(serve)}`, namespace: MLFLOW_NAMESPACE, labels }, immutable: true, data: { [MLFLOW_SERVE_SCRIPT]: serve } },
      inNamespace,
    );

    const serverUrl = `https://${args.hostname}`;
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: MLFLOW_DEPLOYMENT, namespace: MLFLOW_NAMESPACE, labels: { ...labels, "app.kubernetes.io/version": args.mlflowVersion } },
        spec: {
          replicas: args.replicas,
          selector: { matchLabels: labels },
          // Old and new versions never serve side by side.
          strategy: { type: "Recreate" },
          template: {
            metadata: { labels: { ...labels, "app.kubernetes.io/version": args.mlflowVersion } },
            spec: {
              serviceAccountName: MLFLOW_SERVICE_ACCOUNT,
              securityContext: RESTRICTED_POD,
              containers: [
                {
                  name: "mlflow",
                  image: args.image,
                  command: ["sh", `${SERVE_MOUNT}/${MLFLOW_SERVE_SCRIPT}`, "0.0.0.0", String(PORT)],
                  ports: [{ name: "http", containerPort: PORT }],
                  env: [
                    secretEnv("MLFLOW_BACKEND_STORE_URI", "backend-store-uri"),
                    secretEnv("MLFLOW_FLASK_SERVER_SECRET_KEY", "flask-secret-key"),
                    { name: "MLFLOW_ARTIFACTS_DESTINATION", value: pulumi.interpolate`s3://${args.bucketName}/${MLFLOW_ARTIFACT_PREFIX}` },
                    { name: "MLFLOW_AUTH_CONFIG_PATH", value: "/etc/mlflow/basic_auth.ini" },
                    // Newer servers check Host and Origin; older ones ignore these.
                    { name: "MLFLOW_SERVER_ALLOWED_HOSTS", value: `${args.hostname},${MLFLOW_DEPLOYMENT}.${MLFLOW_NAMESPACE}.svc.cluster.local,${MLFLOW_DEPLOYMENT}.${MLFLOW_NAMESPACE}.svc` },
                    { name: "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", value: serverUrl },
                  ],
                  volumeMounts: [{ name: "auth-config", mountPath: "/etc/mlflow", readOnly: true }, caMount, { name: "serve", mountPath: SERVE_MOUNT, readOnly: true }],
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
                caVolume,
                { name: "serve", configMap: { name: serveMap.metadata.name } },
              ],
            },
          },
        },
      },
      // The new server starts only after its migration Job succeeded.
      { ...k8sOpts, dependsOn: [migration, serviceAccount, credentials, caBundle, serveMap] },
    );
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: { name: MLFLOW_DEPLOYMENT, namespace: MLFLOW_NAMESPACE, labels }, spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] } },
      inNamespace,
    );
    new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: {
          name: MLFLOW_DEPLOYMENT,
          namespace: MLFLOW_NAMESPACE,
          // TLS ends at the ALB with the ACM certificate, like ZenML's; plain HTTP is redirected.
          annotations: {
            "alb.ingress.kubernetes.io/scheme": args.ingressScheme,
            "alb.ingress.kubernetes.io/inbound-cidrs": args.ingressCidrs.join(","),
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
            "alb.ingress.kubernetes.io/ssl-redirect": "443",
            "alb.ingress.kubernetes.io/certificate-arn": args.certificateArn,
            "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "alb.ingress.kubernetes.io/healthcheck-path": "/health",
          },
        },
        spec: {
          ingressClassName: INGRESS_CLASS,
          rules: [{ host: args.hostname, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: MLFLOW_DEPLOYMENT, port: { name: "http" } } } }] } }],
        },
      },
      { ...k8sOpts, dependsOn: [service] },
    );

    this.url = pulumi.output(serverUrl);
    this.adminPassword = adminPassword;
    this.migrationJobName = migration.metadata.name;
    this.serviceAccountRoleArn = role.arn;
    this.deployment = deployment;
    this.registerOutputs({ url: this.url, migrationJobName: this.migrationJobName, serviceAccountRoleArn: this.serviceAccountRoleArn });
  }
}

function readImageFile(file: string): string {
  try {
    return fs.readFileSync(path.join(MLFLOW_SCRIPTS_DIR, file), "utf8");
  } catch {
    throw new Error(`The MLflow file ${path.join(MLFLOW_SCRIPTS_DIR, file)} is missing from this checkout.`);
  }
}

function readScripts(): Record<(typeof SCRIPTS)[number], string> {
  const out = {} as Record<(typeof SCRIPTS)[number], string>;
  for (const file of SCRIPTS) out[file] = readImageFile(file);
  return out;
}

function serverResources(): { requests: Record<string, string>; limits: Record<string, string> } {
  const { requests, limits } = JSON.parse(readImageFile(MLFLOW_SERVER_RESOURCES_FILE)) as { requests?: Record<string, string>; limits?: Record<string, string> };
  if (!requests?.memory || !limits?.memory) throw new Error(`${path.join(MLFLOW_SCRIPTS_DIR, MLFLOW_SERVER_RESOURCES_FILE)} must set requests.memory and limits.memory.`);
  return { requests, limits };
}
