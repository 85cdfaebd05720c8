// Edits a deployed stack cannot take without losing what it holds (components/deployed-changes.ts):
// the engine suite's replacement guard found them (a new VPC range replaces the network under the
// database; MLflow off in prod deletes protected generated secrets); the program refuses them first.
import { describe, expect, it } from "vitest";
import { deployedChangeRefusals } from "../components/deployed-changes";
import { ProgramFailed } from "../tools/offline/plan-result";
import { steadyStateOutputs } from "../tools/offline/plan-inputs";
import { PROJECT_DIR, plan, stackRef } from "./helpers/plan";

const facts = (vpcCidr: string) => ({ stack: "prod", vpcCidr, serverHostname: "zenml.example.com", mlflowHostname: "", promotionSourceStack: "organization/zenml-platform/staging" });
const base = { stack: "prod", isProd: true, vpcCidr: "10.30.0.0/16", mlflowVersion: "" };

describe("edits of a deployed stack that would lose state", () => {
  it("refuse a new VPC range, naming the key, the deployed range and the safe way", () => {
    const [refusal, ...rest] = deployedChangeRefusals({ ...base, vpcCidr: "10.40.0.0/16", deployedFacts: facts("10.30.0.0/16") });
    expect(rest).toEqual([]);
    expect(refusal).toMatch(/^zenml-platform:vpcCidr: "10\.40\.0\.0\/16" would replace stack "prod"'s VPC \(deployed with "10\.30\.0\.0\/16"\)/);
    expect(refusal).toContain('Keep vpcCidr "10.30.0.0/16"');
    expect(refusal).toContain("new stack");
  });

  it("refuse turning a running MLflow off in prod, where its generated secrets are protected", () => {
    const [refusal] = deployedChangeRefusals({ ...base, mlflowDeployed: "3.17.2" });
    expect(refusal).toMatch(/^zenml-platform:mlflowVersion: "" would remove stack "prod"'s MLflow server 3\.17\.2 and delete its generated secrets/);
    expect(refusal).toContain('Keep mlflowVersion "3.17.2"');
  });

  it("let through a first deploy, an unchanged range, MLflow off in staging, and a stack from before the facts were exported", () => {
    expect(deployedChangeRefusals({ ...base })).toEqual([]);
    expect(deployedChangeRefusals({ ...base, deployedFacts: facts("10.30.0.0/16"), mlflowVersion: "3.17.2", mlflowDeployed: "3.17.2" })).toEqual([]);
    expect(deployedChangeRefusals({ ...base, stack: "staging", isProd: false, mlflowDeployed: "3.17.2" })).toEqual([]);
    expect(deployedChangeRefusals({ ...base, vpcCidr: "10.40.0.0/16", deployedFacts: undefined })).toEqual([]);
  });

  // What prod's last update recorded, as the program reads it back (readOwnState): its versionHistory and its facts.
  const steadyProd = () => steadyStateOutputs(PROJECT_DIR, "zenml-platform")[stackRef("prod")];
  const refusal = async (overrides: Record<string, string>, deployed: Record<string, unknown>) => {
    const err = await plan("prod", { overrides, deployed: { [stackRef("prod")]: deployed } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProgramFailed);
    expect((err as ProgramFailed).registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
    return (err as ProgramFailed).message;
  };

  it("are refused by the program from its own deployed outputs, before any resource is registered", async () => {
    expect(await refusal({ vpcCidr: "10.40.0.0/16" }, { ...steadyProd(), crossStackFacts: facts("10.30.0.0/16") })).toContain('zenml-platform:vpcCidr: "10.40.0.0/16" would replace stack "prod"\'s VPC');
  });

  it("refuse MLflow off when prod's versionHistory records it running", async () => {
    const steady = steadyProd();
    const history = steady.versionHistory as { parts: Record<string, unknown> };
    const running = { ...history, parts: { ...history.parts, mlflow: { deployed: "3.17.2", versions: ["3.17.2"], snapshots: [], awsMoves: [] } } };
    expect(await refusal({ mlflowVersion: "" }, { ...steady, versionHistory: running })).toContain('zenml-platform:mlflowVersion: "" would remove stack "prod"\'s MLflow server 3.17.2');
  });
});
