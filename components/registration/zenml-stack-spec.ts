// Pure: what ZenML stack an environment registers, as the JSON the in-cluster registration job
// reads. Same shape for every environment; only the values differ.
import { digestOf } from "../kit/digest";

export const STACK_OWNER = "zenml-platform";

/** AWS's limit on a session policy (packed); ours lists the pipeline statements and must fit. */
export const SESSION_POLICY_LIMIT = 2048;

export interface StackSpecInputs {
  environmentName: string;
  stackName: string;
  region: string;
  connectorRoleArn: string;
  bucketName: string;
  registryUri: string;
  repositoryName: string;
  clusterName: string;
  pipelinesNamespace: string;
  pipelinesServiceAccount: string;
  codeBuildProject: string;
  /** Session policy of every connector session: the pipeline statements, never "allow *". */
  sessionPolicy: string;
  /** The environment's MLflow server, when mlflowVersion is set: registered as the experiment tracker. */
  mlflow?: { trackingUri: string };
}

/** Environment variables of the registration job that carry the MLflow credentials into a ZenML secret. */
export const MLFLOW_CREDENTIAL_ENV = { username: "MLFLOW_TRACKING_USERNAME", password: "MLFLOW_TRACKING_PASSWORD" } as const;

export interface ComponentSpec {
  name: string;
  flavor: string;
  configuration: Record<string, unknown>;
  /** Resource the component reaches through the connector; absent when it needs none. */
  connector_resource_id?: string;
}

export interface StackSpec {
  owner: string;
  environment: string;
  stack: { name: string };
  connector: { name: string; type: "aws"; auth_method: "implicit"; configuration: Record<string, string> };
  components: { artifact_store: ComponentSpec; container_registry: ComponentSpec; orchestrator: ComponentSpec; image_builder: ComponentSpec; experiment_tracker?: ComponentSpec };
  /** ZenML secrets the job creates from its own environment (values never appear in the spec). */
  secrets?: { name: string; values_from_env: Record<string, string> }[];
}

export function buildStackSpec(i: StackSpecInputs): StackSpec {
  const env = i.environmentName;
  const spec: StackSpec = {
    owner: STACK_OWNER,
    environment: env,
    stack: { name: i.stackName },
    // Implicit auth + role: the server's IRSA credentials assume the connector role; no stored keys.
    // Without a session policy ZenML narrows each session to S3-only (or ECR/EKS-only) actions,
    // which denies the KMS calls an SSE-KMS bucket needs; ours lists exactly what pipelines use.
    connector: {
      name: `aws-${env}`,
      type: "aws",
      auth_method: "implicit",
      configuration: { region: i.region, role_arn: i.connectorRoleArn, policy: i.sessionPolicy },
    },
    components: {
      artifact_store: { name: `s3-${env}`, flavor: "s3", configuration: { path: `s3://${i.bucketName}` }, connector_resource_id: `s3://${i.bucketName}` },
      container_registry: { name: `ecr-${env}`, flavor: "aws", configuration: { uri: i.registryUri, default_repository: i.repositoryName }, connector_resource_id: i.registryUri },
      orchestrator: {
        name: `k8s-${env}`,
        flavor: "kubernetes",
        configuration: { kubernetes_namespace: i.pipelinesNamespace, service_account_name: i.pipelinesServiceAccount },
        connector_resource_id: i.clusterName,
      },
      // The generic AWS resource of the connector is named by its region.
      image_builder: { name: `codebuild-${env}`, flavor: "aws", configuration: { code_build_project: i.codeBuildProject }, connector_resource_id: i.region },
    },
  };
  if (i.mlflow) {
    // Pipelines reach MLflow over HTTPS with the admin's credentials, read from a ZenML secret at run time.
    const secret = `mlflow-${env}`;
    spec.secrets = [{ name: secret, values_from_env: { ...MLFLOW_CREDENTIAL_ENV } }];
    spec.components.experiment_tracker = {
      name: `mlflow-${env}`,
      flavor: "mlflow",
      configuration: { tracking_uri: i.mlflow.trackingUri, tracking_username: `{{${secret}.username}}`, tracking_password: `{{${secret}.password}}` },
    };
  }
  return spec;
}

/** Short digest naming the registration job: a new version, spec or script means a new job. */
export function registrationDigest(zenmlVersion: string, spec: StackSpec, script: string): string {
  return digestOf(zenmlVersion, JSON.stringify(spec), script);
}
