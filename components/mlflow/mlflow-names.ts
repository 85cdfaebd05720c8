// Fixed names of the MLflow server's objects, in the cluster and on the RDS instance.
import * as path from "node:path";

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
/** Labels of every MLflow object; the Deployment selects its pods by them. */
export const MLFLOW_LABELS = { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/managed-by": "zenml-platform" };
/** The image's folder: the Jobs' scripts, how the server starts and its resources, shared with the rehearsal. */
export const MLFLOW_IMAGE_DIR = path.join(__dirname, "image");

/** The region's RDS CAs, mounted into every pod that talks to the database. */
export const DB_CA_SECRET = "mlflow-db-ca";
export const DB_CA_VOLUME = { name: "db-ca", secret: { secretName: DB_CA_SECRET } };
export const DB_CA_MOUNT = { name: "db-ca", mountPath: "/etc/mlflow-db-ca", readOnly: true };
/** The CA bundle's path inside those pods. */
export const DB_CA_FILE = `${DB_CA_MOUNT.mountPath}/rds-ca.pem`;

/** A container env var read from the credentials Secret. */
export const credentialEnv = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: MLFLOW_CREDENTIALS_SECRET, key } } });
