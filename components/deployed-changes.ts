// Config edits that a deployed stack cannot take without losing what it holds, refused before any
// resource is registered. Found by the engine suite's replacement guard (tools/engine/guard.ts):
// every config key changed on a deployed prod and previewed under Pulumi's engine with the
// providers' own replacement rules. Pure: the caller reads what the stack deployed.
import type { CrossStackFacts } from "./config";
import { PROJECT } from "./config";

export interface DeployedChangeInput {
  stack: string;
  isProd: boolean;
  vpcCidr: string;
  mlflowVersion: string;
  /** What the stack's last update exported (its own `crossStackFacts`); undefined before the first deploy or from an older program. */
  deployedFacts?: CrossStackFacts;
  /** The MLflow version the stack runs; undefined when it runs none. */
  mlflowDeployed?: string;
}

/** One line per edit refused, each naming its key, what would be lost and the safe way. */
export function deployedChangeRefusals(input: DeployedChangeInput): string[] {
  const refusals: string[] = [];
  const deployedCidr = input.deployedFacts?.vpcCidr;
  if (deployedCidr && deployedCidr !== input.vpcCidr) {
    refusals.push(
      `${PROJECT}:vpcCidr: "${input.vpcCidr}" would replace stack "${input.stack}"'s VPC (deployed with "${deployedCidr}") and with it every subnet, NAT gateway ` +
        `and security group: the database and the cluster cannot move into a new VPC by an update. Keep vpcCidr "${deployedCidr}". For another range, ` +
        `deploy a new stack on it, restore this database's latest snapshot into that stack's database, then move DNS to it.`,
    );
  }
  if (input.isProd && input.mlflowVersion === "" && input.mlflowDeployed !== undefined) {
    refusals.push(
      `${PROJECT}:mlflowVersion: "" would remove stack "${input.stack}"'s MLflow server ${input.mlflowDeployed} and delete its generated secrets ` +
        `(MLflow's database password, admin password and Flask key), which prod protects and which its kept databases and users need when MLflow runs again. ` +
        `Keep mlflowVersion "${input.mlflowDeployed}". To retire MLflow for good, unprotect those three secrets first (pulumi state unprotect); its databases and artifacts stay.`,
    );
  }
  return refusals;
}
