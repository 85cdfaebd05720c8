// The situations the golden plans hold: each pins every version through overrides and states what
// both stacks report as deployed, so a change of the repository's own pins does not move them.
import { mockAddonVersion } from "../../tools/offline/mocks";
import { deployedOutputs } from "../../tools/offline/plan-inputs";
import { stackRef } from "../helpers/plan";

const CW = "amazon-cloudwatch-observability";
const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const mlflow = (stack: string, version: string) => ({
  mlflowVersion: version,
  mlflowImage: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow-server:${version}@${DIGEST}`,
  mlflowHostname: `mlflow.${stack}.example.com`,
});

interface Parts {
  zenml: string;
  kubernetes: string;
  mysql: string;
  mlflow?: string;
}

/** Outputs of a stack that runs `parts` and ran `history` before (the format today's program writes). */
function ran(parts: Parts, history: Record<string, string[]> = {}, extra: Record<string, unknown> = {}) {
  const { mlflow: mlflowVersion, ...rest } = parts;
  const all = { ...rest, ...(mlflowVersion ? { mlflow: mlflowVersion } : {}), [`addon:${CW}`]: mockAddonVersion(CW, parts.kubernetes) };
  return { ...deployedOutputs(all, history), ...extra };
}

export interface GoldenScenario {
  name: string;
  stack: "staging" | "prod";
  overrides: Record<string, string>;
  deployed: Record<string, Record<string, unknown> | null>;
}

const pins = (p: Parts) => ({ zenmlVersion: p.zenml, kubernetesVersion: p.kubernetes, dbEngineVersion: p.mysql });
const STEADY: Parts = { zenml: "0.98.0", kubernetes: "1.33", mysql: "8.4" };
const PROD_STEADY: Parts = { zenml: "0.97.0", kubernetes: "1.33", mysql: "8.4" };
const STAGING_RAN = ran(STEADY, { zenml: ["0.96.0", "0.97.0"], kubernetes: ["1.32"], mysql: ["8.0"] });
const world = (staging: Record<string, unknown> | null, prod: Record<string, unknown> | null) => ({ [stackRef("staging")]: staging, [stackRef("prod")]: prod });

export const SCENARIOS: GoldenScenario[] = [
  { name: "staging-first-deploy", stack: "staging", overrides: pins(STEADY), deployed: world(null, null) },
  { name: "prod-first-deploy", stack: "prod", overrides: pins(PROD_STEADY), deployed: world(STAGING_RAN, null) },
  { name: "staging-steady", stack: "staging", overrides: pins(STEADY), deployed: world(STAGING_RAN, null) },
  { name: "prod-steady", stack: "prod", overrides: pins(PROD_STEADY), deployed: world(STAGING_RAN, ran(PROD_STEADY)) },
  { name: "staging-zenml-upgrade", stack: "staging", overrides: pins(STEADY), deployed: world(ran({ ...STEADY, zenml: "0.97.0" }), null) },
  { name: "prod-zenml-upgrade", stack: "prod", overrides: pins({ ...PROD_STEADY, zenml: "0.98.0" }), deployed: world(STAGING_RAN, ran(PROD_STEADY)) },
  { name: "staging-mysql-major", stack: "staging", overrides: pins(STEADY), deployed: world(ran({ ...STEADY, mysql: "8.0" }), null) },
  { name: "staging-kubernetes-minor", stack: "staging", overrides: pins({ ...STEADY, kubernetes: "1.34" }), deployed: world(STAGING_RAN, null) },
  { name: "staging-mlflow-first", stack: "staging", overrides: { ...pins(STEADY), ...mlflow("staging", "3.17.2") }, deployed: world(STAGING_RAN, null) },
  {
    name: "staging-mlflow-upgrade",
    stack: "staging",
    overrides: { ...pins(STEADY), ...mlflow("staging", "3.18.0") },
    deployed: world(ran({ ...STEADY, mlflow: "3.17.2" }), null),
  },
  {
    name: "prod-mlflow-upgrade",
    stack: "prod",
    overrides: { ...pins(PROD_STEADY), ...mlflow("prod", "3.18.0") },
    deployed: world(ran({ ...STEADY, mlflow: "3.18.0" }, { zenml: ["0.97.0"], mlflow: ["3.17.2"] }), ran({ ...PROD_STEADY, mlflow: "3.17.2" })),
  },
  {
    name: "staging-rollback",
    stack: "staging",
    overrides: { ...pins({ ...STEADY, zenml: "0.97.0" }), rollbackSnapshot: "zenml-staging-pre-upgrade-0-97-0-to-0-98-0" },
    deployed: world(ran(STEADY, { zenml: ["0.97.0"] }, { latestPreUpgradeSnapshot: "zenml-staging-pre-upgrade-0-97-0-to-0-98-0" }), null),
  },
  // Refusals: the golden holds the message, and that nothing was registered.
  { name: "refuse-zenml-downgrade", stack: "staging", overrides: pins({ ...STEADY, zenml: "0.97.0" }), deployed: world(STAGING_RAN, null) },
  { name: "refuse-prod-ahead-of-staging", stack: "prod", overrides: pins({ ...PROD_STEADY, zenml: "0.99.0" }), deployed: world(STAGING_RAN, ran(PROD_STEADY)) },
  { name: "refuse-two-parts-at-once", stack: "staging", overrides: pins({ ...STEADY, kubernetes: "1.34" }), deployed: world(ran({ ...STEADY, zenml: "0.97.0" }), null) },
  { name: "refuse-kubernetes-two-minors", stack: "staging", overrides: pins({ ...STEADY, kubernetes: "1.35" }), deployed: world(STAGING_RAN, null) },
  { name: "refuse-mysql-downgrade", stack: "staging", overrides: pins({ ...STEADY, mysql: "8.0" }), deployed: world(STAGING_RAN, null) },
  { name: "refuse-mlflow-downgrade", stack: "staging", overrides: { ...pins(STEADY), ...mlflow("staging", "3.17.2") }, deployed: world(ran({ ...STEADY, mlflow: "3.18.0" }), null) },
  { name: "refuse-bad-config", stack: "prod", overrides: { ...pins(PROD_STEADY), dbBackupRetentionDays: "3", serverReplicas: "1" }, deployed: world(STAGING_RAN, ran(PROD_STEADY)) },
];
