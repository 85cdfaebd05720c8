import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildStackSpec, registrationDigest } from "../components/registration/zenml-stack-spec";
import type { Plan } from "../tools/offline/plan";
import { PROJECT_DIR, STACKS, at, named, plan, stackRef } from "./helpers/plan";

const plans: Record<string, Plan> = {};
beforeAll(async () => {
  for (const stack of STACKS) plans[stack] = await plan(stack);
});

const specOf = (p: Plan) => JSON.parse((named(p, "zenml-stack-registration-files").inputs.data as Record<string, string>)["spec.json"]);

/** The spec with every value replaced by its type: what must be identical across environments. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

describe.each(STACKS)("ZenML stack registration on %s", (stack) => {
  const p = () => plans[stack];

  it("registers aws-<stack> with the environment's own bucket, registry and cluster", () => {
    const spec = specOf(p());
    expect(spec.stack.name).toBe(`aws-${stack}`);
    expect(spec.environment).toBe(stack);
    expect(spec.components.artifact_store.configuration.path).toBe(`s3://${p().outputs.bucketName}`);
    expect(spec.components.container_registry.configuration).toEqual({ uri: p().outputs.registryUri, default_repository: `zenml-${stack}/zenml` });
    expect(String(spec.components.container_registry.configuration.uri)).not.toContain("/");
    expect(spec.components.orchestrator.connector_resource_id).toBe(`zenml-${stack}`);
    expect(spec.components.orchestrator.configuration).toEqual({ kubernetes_namespace: "zenml-pipelines", service_account_name: "zenml-pipelines" });
    expect(spec.components.image_builder).toEqual({ name: `codebuild-${stack}`, flavor: "aws", configuration: { code_build_project: `zenml-${stack}-image-builder` }, connector_resource_id: "eu-west-1" });
    expect(p().outputs.zenmlStackName).toBe(`aws-${stack}`);
  });

  it("connects with an IAM role only the ZenML server may assume, never with stored keys", () => {
    const spec = specOf(p());
    expect(spec.connector).toMatchObject({ type: "aws", auth_method: "implicit", configuration: { region: "eu-west-1", role_arn: expect.stringMatching(/^arn:aws:iam::\d{12}:role\/zenml-/) } });
    expect(JSON.stringify(spec)).not.toMatch(/aws_access_key_id|aws_secret_access_key|secret_key/i);
    const trust = JSON.parse(String(named(p(), "zenml-stack-connector-role").inputs.assumeRolePolicy));
    expect(trust.Statement).toEqual([{ Effect: "Allow", Principal: { AWS: p().outputs.serverRoleArn }, Action: "sts:AssumeRole" }]);
    const assume = JSON.parse(String(named(p(), "zenml-stack-server-assumes-connector").inputs.policy));
    expect(assume.Statement[0]).toMatchObject({ Action: "sts:AssumeRole", Resource: spec.connector.configuration.role_arn });
  });

  it("gives the connector and the pipelines least privilege: this bucket, this registry, this cluster", () => {
    const policy = JSON.parse(String(named(p(), "zenml-stack-connector-policy").inputs.policy));
    const resources: string[] = policy.Statement.flatMap((s: { Resource: string | string[] }) => [s.Resource].flat());
    for (const r of resources) {
      const scoped = r === "*" || r.includes(String(p().outputs.bucketName)) || r.includes(`zenml-${stack}`) || r.startsWith("arn:aws:kms:");
      expect(scoped, r).toBe(true);
    }
    const wildcards = policy.Statement.filter((s: { Resource: string }) => s.Resource === "*").flatMap((s: { Action: string[] }) => s.Action);
    expect(wildcards).toEqual(["ecr:GetAuthorizationToken", "ecr:DescribeRegistry"]);
    const binding = named(p(), "zenml-stack-pipelines-edit").inputs;
    expect(binding).toMatchObject({ metadata: { namespace: "zenml-pipelines" }, roleRef: { kind: "ClusterRole", name: "edit" } });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "zenml-pipelines", namespace: "zenml-pipelines" }]);
    const access = named(p(), "zenml-stack-connector-edit").inputs;
    expect(access.accessScope).toEqual({ type: "namespace", namespaces: ["zenml-pipelines"] });
    const pipelinesTrust = JSON.parse(String(named(p(), "zenml-stack-pipelines-role").inputs.assumeRolePolicy));
    expect(JSON.stringify(pipelinesTrust)).toContain("system:serviceaccount:zenml-pipelines:zenml-pipelines");
  });

  it("runs the registration in-cluster with a client of exactly the server's version, after the server", () => {
    const job = named(p(), "zenml-stack-registration");
    const version = stack === "prod" ? "0.97.0" : "0.98.0";
    const container = at(job.inputs, "spec.template.spec.containers") as { image: string; env: { name: string; value?: string; valueFrom?: unknown }[] }[];
    // From our ECR's pull-through cache of Docker Hub, not Docker Hub itself.
    expect(container[0].image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub-${stack}/zenmldocker/zenml-server:${version}`);
    expect(container[0].env.find((e) => e.name === "ZENML_STORE_URL")?.value).toBe("http://zenml.zenml.svc.cluster.local");
    expect(container[0].env.find((e) => e.name === "ZENML_STORE_PASSWORD")).toEqual({ name: "ZENML_STORE_PASSWORD", valueFrom: { secretKeyRef: { name: "zenml-platform-admin", key: "password" } } });
    expect(job.options.dependsOn).toContain(named(p(), "zenml-server-release").urn);
    expect(String(at(job.inputs, "metadata.name"))).toMatch(/^zenml-register-stack-[0-9a-f]{10}$/);
  });
});

describe("registration across environments", () => {
  it("keeps components/registration/example-spec.json, which the Python tests register, equal to staging's spec", () => {
    const example = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "components", "registration", "example-spec.json"), "utf8"));
    expect(example).toEqual(specOf(plans.staging));
  });

  it("registers the same shape of stack in staging and prod", () => {
    expect(shape(specOf(plans.staging))).toEqual(shape(specOf(plans.prod)));
    expect(Object.keys(specOf(plans.staging).components)).toEqual(["artifact_store", "container_registry", "orchestrator", "image_builder"]);
  });

  it("re-runs when the version or the spec changes, and only then", async () => {
    const jobName = (p: Plan) => String(at(named(p, "zenml-stack-registration").inputs, "metadata.name"));
    const again = await plan("staging");
    expect(jobName(again)).toBe(jobName(plans.staging));
    const upgraded = await plan("staging", { overrides: { zenmlVersion: "0.99.0" }, deployed: { [stackRef("staging")]: { zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.98.0"] } } });
    expect(jobName(upgraded)).not.toBe(jobName(plans.staging));
    const renamed = await plan("staging", { overrides: { zenmlStackName: "team-a" } });
    expect(jobName(renamed)).not.toBe(jobName(plans.staging));
    expect(specOf(renamed).stack.name).toBe("team-a");
  });

  it("derives the digest from version, spec and script", () => {
    const spec = buildStackSpec({ environmentName: "staging", stackName: "aws-staging", region: "eu-west-1", connectorRoleArn: "arn:aws:iam::1:role/c", bucketName: "b", registryUri: "r", repositoryName: "n", clusterName: "c", pipelinesNamespace: "p", pipelinesServiceAccount: "s", codeBuildProject: "cb", sessionPolicy: "{}" });
    const base = registrationDigest("0.98.0", spec, "script");
    expect(registrationDigest("0.98.0", spec, "script")).toBe(base);
    expect(registrationDigest("0.98.1", spec, "script")).not.toBe(base);
    expect(registrationDigest("0.98.0", spec, "script v2")).not.toBe(base);
    expect(registrationDigest("0.98.0", { ...spec, stack: { name: "other" } }, "script")).not.toBe(base);
  });
});
