// MLflow's side of the RDS instance: its generated credentials, and the two Jobs that prepare the
// databases (bootstrap: user and databases; migration: the schema), run from the image's scripts.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { DB_PORT, DB_USER } from "../database";
import { digestOf } from "../kit/digest";
import { readPayload } from "../kit/payload";
import { RESTRICTED_CONTAINER, type RestrictedContainer } from "../kit/pod-security";
import { scriptJob, shipPayload } from "../kit/script-job";
import { generatedPassword, opaqueSecret } from "../kit/secrets";
import { rdsCaBundle } from "../rds-ca";
import { MLFLOW_ADMIN_USER } from "./mlflow-policy";
import type { MlflowServerArgs } from "./mlflow-server";
import {
  DB_CA_FILE,
  DB_CA_MOUNT,
  DB_CA_SECRET,
  DB_CA_VOLUME,
  MLFLOW_AUTH_DB_NAME,
  MLFLOW_CREDENTIALS_SECRET,
  MLFLOW_DB_NAME,
  MLFLOW_DB_USER,
  MLFLOW_IMAGE_DIR,
  MLFLOW_LABELS,
  MLFLOW_NAMESPACE,
  credentialEnv,
} from "./mlflow-names";

/** Run by the Jobs, from a ConfigMap named by their digest. */
const SCRIPTS = ["bootstrap_db.py", "migrate.py"] as const;
const BOOTSTRAP_SECRET = "mlflow-db-bootstrap";

export interface MlflowCredentials {
  /** MLflow's own database user's password. */
  dbPassword: pulumi.Output<string>;
  adminPassword: pulumi.Output<string>;
  caBundle: k8s.core.v1.Secret;
  /** The credentials Secret: admin login, database URIs, basic-auth config, Flask key. */
  secret: k8s.core.v1.Secret;
}

/** Generated passwords and key (protected in prod), the RDS CA bundle and the credentials Secret. */
export function mlflowCredentials(name: string, args: MlflowServerArgs, opts: { keyOpts: pulumi.CustomResourceOptions; inNamespace: pulumi.CustomResourceOptions }): MlflowCredentials {
  // URL-safe alphabets: these go into database URIs and the basic-auth ini file.
  const dbPassword = generatedPassword(`${name}-db-password`, 32, opts.keyOpts);
  const adminPassword = generatedPassword(`${name}-admin-password`, 32, opts.keyOpts);
  // Shared by every replica: the basic-auth app signs its CSRF tokens with it.
  const flaskKey = generatedPassword(`${name}-flask-secret-key`, 64, opts.keyOpts);

  // Verified TLS, like the ZenML server's: the region's RDS CAs from a Secret (PyMySQL then checks
  // the certificate and the hostname); the instance refuses plaintext anyway.
  const caBundle = opaqueSecret(`${name}-db-ca`, { secretName: DB_CA_SECRET, namespace: MLFLOW_NAMESPACE, values: { "rds-ca.pem": rdsCaBundle(args.region) } }, opts.inNamespace);
  const dbUri = (db: string) => pulumi.interpolate`mysql+pymysql://${MLFLOW_DB_USER}:${dbPassword}@${args.database.address}:${DB_PORT}/${db}?ssl_ca=${DB_CA_FILE}`;
  const authIni = pulumi.interpolate`[mlflow]
default_permission = READ
database_uri = ${dbUri(MLFLOW_AUTH_DB_NAME)}
admin_username = ${MLFLOW_ADMIN_USER}
admin_password = ${adminPassword}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
`;
  const values = {
    username: MLFLOW_ADMIN_USER,
    password: adminPassword,
    "backend-store-uri": pulumi.secret(dbUri(MLFLOW_DB_NAME)),
    "auth-database-uri": pulumi.secret(dbUri(MLFLOW_AUTH_DB_NAME)),
    "basic_auth.ini": pulumi.secret(authIni),
    "flask-secret-key": flaskKey,
  };
  const secret = opaqueSecret(`${name}-credentials`, { secretName: MLFLOW_CREDENTIALS_SECRET, namespace: MLFLOW_NAMESPACE, values }, opts.inNamespace);
  return { dbPassword, adminPassword, caBundle, secret };
}

/**
 * The bootstrap Job (MLflow's user and databases, created with the master user) and the migration
 * Job after it; returns the migration, which the server waits for.
 */
export function mlflowDatabaseJobs(name: string, args: MlflowServerArgs, credentials: MlflowCredentials, opts: { k8sOpts: pulumi.CustomResourceOptions; inNamespace: pulumi.CustomResourceOptions }): k8s.batch.v1.Job {
  const scripts = Object.fromEntries(SCRIPTS.map((file) => [file, readPayload(MLFLOW_IMAGE_DIR, file, "MLflow file")]));
  const scriptsDigest = digestOf(args.imageId, ...SCRIPTS.map((f) => scripts[f]));
  const payload = shipPayload(
    `${name}-scripts`,
    { name: `mlflow-scripts-${scriptsDigest}`, namespace: MLFLOW_NAMESPACE, labels: MLFLOW_LABELS, files: scripts, volumeName: "scripts", mountPath: "/opt/mlflow-platform" },
    opts.inNamespace,
  );
  const container = (script: string, env: k8s.types.input.core.v1.EnvVar[]): RestrictedContainer => ({
    name: "run",
    image: args.image,
    command: ["python", `/opt/mlflow-platform/${script}`],
    env,
    volumeMounts: [payload.mount, DB_CA_MOUNT],
    securityContext: RESTRICTED_CONTAINER,
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
  });

  // Creates MLflow's user and databases with the master user, idempotently (and resets the
  // user's password to the generated one), so MLflow never holds the master credentials.
  const bootstrapValues = { "master-password": pulumi.secret(args.database.password), "mlflow-password": credentials.dbPassword };
  const bootstrapSecret = opaqueSecret(`${name}-db-bootstrap`, { secretName: BOOTSTRAP_SECRET, namespace: MLFLOW_NAMESPACE, values: bootstrapValues }, opts.inNamespace);
  const fromBootstrapSecret = (envName: string, key: string) => ({ name: envName, valueFrom: { secretKeyRef: { name: BOOTSTRAP_SECRET, key } } });
  const bootstrapEnv = [
    { name: "DB_HOST", value: args.database.address },
    { name: "DB_PORT", value: String(DB_PORT) },
    { name: "DB_MASTER_USER", value: DB_USER },
    fromBootstrapSecret("DB_MASTER_PASSWORD", "master-password"),
    { name: "MLFLOW_DB_USER", value: MLFLOW_DB_USER },
    fromBootstrapSecret("MLFLOW_DB_PASSWORD", "mlflow-password"),
    { name: "MLFLOW_DATABASES", value: `${MLFLOW_DB_NAME},${MLFLOW_AUTH_DB_NAME}` },
    { name: "DB_SSL_CA", value: DB_CA_FILE },
  ];
  const bootstrap = scriptJob(
    `${name}-db-bootstrap-job`,
    { name: `mlflow-db-bootstrap-${scriptsDigest}`, namespace: MLFLOW_NAMESPACE, labels: MLFLOW_LABELS, backoffLimit: 2, payload, container: container("bootstrap_db.py", bootstrapEnv), volumes: [DB_CA_VOLUME] },
    { ...opts.k8sOpts, dependsOn: [bootstrapSecret, payload.configMap, credentials.caBundle] },
  );

  // The only place the schema changes (components/mlflow/image/migrate.py: `mlflow db upgrade`, then the
  // basic-auth store), with the new version's image. backoffLimit 0 like ZenML's hook: a failed
  // migration is looked at, not retried blind. Named by version and scripts, so an upgrade is a
  // new Job the new server waits for.
  const migrationEnv = [credentialEnv("MLFLOW_BACKEND_STORE_URI", "backend-store-uri"), credentialEnv("MLFLOW_AUTH_DATABASE_URI", "auth-database-uri")];
  return scriptJob(
    `${name}-db-upgrade`,
    {
      name: `mlflow-db-upgrade-${args.mlflowVersion.replace(/\./g, "-")}-${scriptsDigest}`,
      namespace: MLFLOW_NAMESPACE,
      labels: MLFLOW_LABELS,
      jobLabels: { "app.kubernetes.io/version": args.mlflowVersion },
      backoffLimit: 0,
      payload,
      container: container("migrate.py", migrationEnv),
      volumes: [DB_CA_VOLUME],
    },
    { ...opts.k8sOpts, dependsOn: [bootstrap, credentials.secret, ...(args.migrationDependsOn ?? [])] },
  );
}
