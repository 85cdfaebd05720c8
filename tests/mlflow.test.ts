import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../components/config";
import { contextFor, evaluate } from "../policy/rules";
import { explainBadMlflowImage } from "../components/mlflow/mlflow-policy";
import { decideParts, mlflowStepWarnings, snapshotId } from "../components/version-policy";
import { ProgramFailed, type Plan, type PlannedResource } from "../tools/offline/plan-result";
import { steadyStateOutputs } from "../tools/offline/plan-inputs";
import { SECRET_PLACEHOLDER, readStackConfig } from "../tools/offline/stack-files";
import { main } from "../tools/plan";
import { runMain } from "./helpers/cli";
import { PROJECT_DIR, STACKS, at, named, ofType, one, plan, stackRef } from "./helpers/plan";

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const image = (version: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow-server:${version}@${DIGEST}`;
const mlflowConfig = (stack: string, version: string) => ({ mlflowVersion: version, mlflowImage: image(version), mlflowHostname: `mlflow.${stack}.example.com` });

const JOB = "kubernetes:batch/v1:Job";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const PATCH = "kubernetes:apps/v1:DeploymentPatch";
const SNAPSHOT = "aws:rds/snapshot:Snapshot";
const RELEASE = "kubernetes:helm.sh/v3:Release";

/**
 * What the stack and its promotion source (staging) report: every other part steady at its file's
 * pin, MLflow's history as given (the last entry running, unless paused).
 */
function deployed(stack: string, mlflow: { self?: string[]; staging?: string[]; paused?: boolean }) {
  const steady = steadyStateOutputs(PROJECT_DIR, "zenml-platform");
  const withMlflow = (name: string, versions: string[] | undefined, running: boolean) => {
    const outputs = structuredClone(steady[stackRef(name)]) as { partVersions: Record<string, string>; versionHistory: { parts: Record<string, object> } };
    if (versions) {
      const last = versions[versions.length - 1];
      if (running) outputs.partVersions.mlflow = last;
      outputs.versionHistory.parts.mlflow = { ...(running ? { deployed: last } : {}), versions, snapshots: [], awsMoves: [] };
    }
    return outputs;
  };
  return {
    [stackRef("staging")]: withMlflow("staging", stack === "staging" ? mlflow.self : mlflow.staging, stack !== "staging" || !mlflow.paused),
    ...(stack === "prod" ? { [stackRef("prod")]: withMlflow("prod", mlflow.self, !mlflow.paused) } : {}),
  };
}

const mlflowPlan = (stack: string, version: string, mlflow: { self?: string[]; staging?: string[]; paused?: boolean }, extra: Record<string, string> = {}) =>
  plan(stack, { overrides: { ...mlflowConfig(stack, version), ...extra }, deployed: deployed(stack, { staging: [version], ...mlflow }) });

const byName = (p: Plan, type: string, fragment: string): PlannedResource => {
  const found = ofType(p, type).filter((r) => r.name.includes(fragment));
  if (found.length !== 1) throw new Error(`expected one ${type} named like ${fragment}, found ${found.length}`);
  return found[0];
};

async function failure(promise: Promise<unknown>): Promise<ProgramFailed> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProgramFailed);
  return err as ProgramFailed;
}

describe.each(STACKS)("MLflow on %s", (stack) => {
  it("without mlflowVersion nothing MLflow is registered", async () => {
    const p = await plan(stack);
    const mlflowish = p.resources.filter((r) => /mlflow/i.test(`${r.type} ${r.name} ${JSON.stringify(r.inputs)}`));
    expect(mlflowish.map((r) => r.name)).toEqual([]);
    expect(p.outputs).toMatchObject({ mlflowUrl: null });
    expect(p.outputs.partVersions).not.toHaveProperty("mlflow");
  });

  it("a first deploy creates its databases, migrates in a Job, then starts the server behind HTTPS with auth", async () => {
    const p = await mlflowPlan(stack, "3.17.2", {});
    const component = one(p, "zenml-platform:index:MlflowServer");
    const migration = byName(p, JOB, "mlflow-db-upgrade");
    const bootstrap = byName(p, JOB, "mlflow-db-bootstrap");
    const server = byName(p, DEPLOYMENT, "mlflow");
    expect(component.parent).toBe(one(p, "zenml-platform:index:ZenmlEnvironment").urn);
    expect(migration.options.dependsOn).toContain(bootstrap.urn);
    expect(server.options.dependsOn).toContain(migration.urn);
    expect(ofType(p, PATCH).filter((r) => r.name.includes("mlflow"))).toEqual([]);
    expect(ofType(p, SNAPSHOT)).toEqual([]);
    // The migration Job and the server run the same digest-pinned image.
    for (const r of [migration, server]) expect(at(r.inputs, "spec.template.spec.containers")).toMatchObject([{ image: image("3.17.2") }]);
    expect(at(migration.inputs, "spec.backoffLimit")).toBe(0);
    // It starts through serve.sh (the rehearsal runs the same file), mounted from its own ConfigMap.
    const [container] = at(server.inputs, "spec.template.spec.containers") as { command: string[]; env: { name: string }[]; volumeMounts: { name: string; mountPath: string }[]; resources: unknown }[];
    expect(container.command).toEqual(["sh", "/opt/mlflow-serve/serve.sh", "0.0.0.0", "5000"]);
    expect(container.env.map((e) => e.name)).toEqual(expect.arrayContaining(["MLFLOW_AUTH_CONFIG_PATH", "MLFLOW_BACKEND_STORE_URI", "MLFLOW_ARTIFACTS_DESTINATION"]));
    const serveMap = byName(p, "kubernetes:core/v1:ConfigMap", "mlflow-serve");
    expect(at(serveMap.inputs, "data")).toEqual({ "serve.sh": fs.readFileSync(path.join(PROJECT_DIR, "components/mlflow/image/serve.sh"), "utf8") });
    expect(at(server.inputs, "spec.template.spec.volumes")).toContainEqual({ name: "serve", configMap: { name: at(serveMap.inputs, "metadata.name") } });
    expect(container.volumeMounts).toContainEqual({ name: "serve", mountPath: "/opt/mlflow-serve", readOnly: true });
    expect(server.options.dependsOn).toContain(serveMap.urn);
    // The requests and limits the rehearsal measures real servers against.
    expect(container.resources).toEqual(JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "components/mlflow/image/server-resources.json"), "utf8"), (k, v: unknown) => (k === "//" ? undefined : v)));
    // No MLFLOW_PORT=tcp://... from the Service "mlflow" in the environment MLflow reads its settings from.
    expect(at(server.inputs, "spec.template.spec.enableServiceLinks")).toBe(false);
    expect(at(server.inputs, "spec.strategy.type")).toBe("Recreate");
    const ingress = byName(p, "kubernetes:networking.k8s.io/v1:Ingress", "mlflow");
    expect(at(ingress.inputs, "spec.rules")).toMatchObject([{ host: `mlflow.${stack}.example.com` }]);
    const annotations = at(ingress.inputs, "metadata.annotations") as Record<string, string>;
    expect(annotations["alb.ingress.kubernetes.io/ssl-redirect"]).toBe("443");
    expect(annotations["alb.ingress.kubernetes.io/certificate-arn"]).toBe(readStackConfig(PROJECT_DIR, stack).values["zenml-platform:certificateArn"]);
    // Reachable like ZenML's load balancer, no wider; pods run restricted; every pod mounts the RDS CA bundle its database URI verifies with.
    expect(annotations["alb.ingress.kubernetes.io/inbound-cidrs"]).toBe(JSON.parse(readStackConfig(PROJECT_DIR, stack).values["zenml-platform:serverIngressCidrs"]).join(","));
    for (const r of [migration, bootstrap, server]) {
      expect(at(r.inputs, "spec.template.spec.securityContext")).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(at(r.inputs, "spec.template.spec.containers")).toMatchObject([{ securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } }, volumeMounts: expect.arrayContaining([expect.objectContaining({ mountPath: "/etc/mlflow-db-ca" })]) }]);
    }
    expect(p.outputs).toMatchObject({ mlflowUrl: `https://mlflow.${stack}.example.com`, mlflowAdminPassword: SECRET_PLACEHOLDER, partVersions: { mlflow: "3.17.2" }, versionHistory: { parts: { mlflow: { versions: ["3.17.2"] } } } });
    expect(p.outputs.upgradeReport).toMatchObject({ parts: expect.arrayContaining([expect.objectContaining({ part: "mlflow", move: "first-deploy", desired: "3.17.2" })]) });
  });

  it("credentials are generated secrets; artifacts go through IRSA to the bucket's mlflow/ prefix, no static keys", async () => {
    const p = await mlflowPlan(stack, "3.17.2", {});
    const credentials = named(p, "zenml-mlflow-credentials");
    // Passwords, database URIs, the auth ini and the Flask key: the whole payload stays secret.
    expect(at(credentials.inputs, "stringData")).toBe(SECRET_PLACEHOLDER);
    expect(at(byName(p, "kubernetes:core/v1:Secret", "mlflow-db-bootstrap").inputs, "stringData")).toBe(SECRET_PLACEHOLDER);
    expect(JSON.stringify(p)).not.toMatch(/mysql\+pymysql:\/\/mlflow:/);
    expect(ofType(p, "aws:iam/accessKey:AccessKey")).toEqual([]);
    const policy = JSON.parse(String(byName(p, "aws:iam/rolePolicy:RolePolicy", "mlflow-artifact-access").inputs.policy)) as { Statement: { Action: string[]; Resource: string }[] };
    const objects = policy.Statement.find((s) => s.Action.includes("s3:PutObject"))!;
    expect(objects.Resource).toMatch(/^arn:aws:s3:::.+\/mlflow\/\*$/);
    const trust = JSON.parse(String(byName(p, "aws:iam/role:Role", "mlflow-role").inputs.assumeRolePolicy)) as { Statement: { Condition: { StringEquals: Record<string, unknown> } }[] };
    expect(Object.values(trust.Statement[0].Condition.StringEquals)).toContainEqual(["system:serviceaccount:mlflow:mlflow"]);
    const env = JSON.stringify(at(byName(p, DEPLOYMENT, "mlflow").inputs, "spec.template.spec.containers"));
    expect(env).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
    expect(env).toContain("s3://");
  });

  it("registers MLflow as the ZenML stack's experiment tracker, credentials only through a ZenML secret", async () => {
    const specOf = (p: Plan) => JSON.parse((named(p, "zenml-stack-registration-files").inputs.data as Record<string, string>)["spec.json"]);
    const without = specOf(await plan(stack));
    expect(without.components.experiment_tracker).toBeUndefined();
    expect(without.secrets).toBeUndefined();
    const p = await mlflowPlan(stack, "3.17.2", {});
    const spec = specOf(p);
    expect(spec.components.experiment_tracker).toEqual({
      name: `mlflow-${stack}`,
      flavor: "mlflow",
      configuration: { tracking_uri: `https://mlflow.${stack}.example.com`, tracking_username: `{{mlflow-${stack}.username}}`, tracking_password: `{{mlflow-${stack}.password}}` },
    });
    expect(spec.secrets).toEqual([{ name: `mlflow-${stack}`, values_from_env: { username: "MLFLOW_TRACKING_USERNAME", password: "MLFLOW_TRACKING_PASSWORD" } }]);
    const job = named(p, "zenml-stack-registration");
    const env = JSON.stringify(at(job.inputs, "spec.template.spec.containers"));
    expect(env).toMatch(/"name":"MLFLOW_TRACKING_PASSWORD","valueFrom":\{"secretKeyRef":\{"name":"zenml-platform-mlflow","key":"password"\}/);
    expect(job.options.dependsOn).toContain(byName(p, DEPLOYMENT, "mlflow").urn);
    expect(at(named(p, "zenml-stack-mlflow-credentials").inputs, "stringData")).toBe(SECRET_PLACEHOLDER);
  });

  it("an upgrade scales to zero, snapshots, migrates with the new version, then starts the new server", async () => {
    const p = await mlflowPlan(stack, "3.17.2", { self: ["2.22.5"] });
    const stop = byName(p, PATCH, "mlflow-scale-to-zero");
    const snapshot = one(p, SNAPSHOT);
    const migration = byName(p, JOB, "mlflow-db-upgrade");
    const server = byName(p, DEPLOYMENT, "mlflow");
    expect(at(stop.inputs, "spec.replicas")).toBe(0);
    expect(snapshot.inputs.dbSnapshotIdentifier).toBe(`mlflow-${stack}-pre-upgrade-2-22-5-to-3-17-2`);
    expect(snapshot.options.retainOnDelete).toBe(true);
    expect(snapshot.options.dependsOn).toContain(stop.urn);
    expect(migration.options.dependsOn).toEqual(expect.arrayContaining([stop.urn, snapshot.urn]));
    expect(at(migration.inputs, "metadata.name")).toMatch(/^mlflow-db-upgrade-3-17-2-/);
    expect(server.options.dependsOn).toContain(migration.urn);
    // Same snapshot mechanism as ZenML's: the chart's release also waits for it (policy snapshot-before-upgrade).
    expect(one(p, RELEASE).options.dependsOn).toContain(snapshot.urn);
    expect(p.outputs).toMatchObject({ partVersions: { mlflow: "3.17.2" }, versionHistory: { parts: { mlflow: { versions: ["2.22.5", "3.17.2"], snapshots: [`mlflow-${stack}-pre-upgrade-2-22-5-to-3-17-2`] } } } });
    const entry = (p.outputs.upgradeReport as { parts: { part: string; move: string; effects: string[] }[] }).parts.find((e) => e.part === "mlflow")!;
    expect(entry.move).toBe("upgrade");
    expect(entry.effects.join(" | ")).toMatch(/scaled to zero \| retained pre-upgrade RDS snapshot, after the scale-down \| migration Job with 3\.17\.2/);
    expect(p.warnings.join("\n")).toMatch(/MLflow 2\.22\.5 -> 3\.17\.2 crosses a major version, which may break clients/);
  });

  it("the policy pack finds no violation in a first deploy or an upgrade with MLflow", async () => {
    const ctx = contextFor(`urn:pulumi:${stack}::zenml-platform::pulumi:pulumi:Stack::x`, { stackConfig: { ...readStackConfig(PROJECT_DIR, stack).values } });
    for (const p of [await mlflowPlan(stack, "3.17.2", {}), await mlflowPlan(stack, "3.17.2", { self: ["2.22.5"] })]) {
      const inputs = p.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs, protect: r.options.protect, parent: r.parent ?? undefined, dependencies: r.options.dependsOn }));
      expect(evaluate(inputs, ctx)).toEqual([]);
    }
  });

  it("an unchanged version takes no snapshot and stops nothing", async () => {
    const p = await mlflowPlan(stack, "3.17.2", { self: ["2.22.5", "3.17.2"] });
    expect(ofType(p, PATCH).filter((r) => r.name.includes("mlflow"))).toEqual([]);
    expect(ofType(p, SNAPSHOT)).toEqual([]);
    expect(p.outputs.versionHistory).toMatchObject({ parts: { mlflow: { snapshots: [] } } });
  });

  it("a downgrade is refused before any resource", async () => {
    const err = await failure(mlflowPlan(stack, "2.22.5", { self: ["2.22.5", "3.17.2"], staging: ["2.22.5", "3.17.2"] }));
    expect(err.message).toMatch(/mlflowVersion "2\.22\.5" is lower than the deployed "3\.17\.2": MLflow cannot run on a database schema a newer version migrated/);
    expect(err.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  it("changing ZenML and MLflow in one update is refused", async () => {
    const zenmlUp = stack === "prod" ? { zenmlVersion: "0.98.0" } : { zenmlVersion: "0.99.0" };
    const base = deployed(stack, { self: ["2.22.5"], staging: ["2.22.5", "3.17.2"] });
    const err = await failure(plan(stack, { overrides: { ...mlflowConfig(stack, "3.17.2"), ...zenmlUp }, deployed: base }));
    expect(err.message).toMatch(/this update moves 2 parts at once[\s\S]*mlflow 2\.22\.5 -> 3\.17\.2 \(mlflowVersion\)/);
  });
});

describe("MLflow promotion", () => {
  it("prod may not run an MLflow version staging has not run", async () => {
    const err = await failure(mlflowPlan("prod", "3.17.2", { self: ["2.22.5"], staging: ["2.22.5"] }));
    expect(err.message).toMatch(/mlflowVersion "3\.17\.2" has not run on organization\/zenml-platform\/staging/);
  });

  it("the promotion override lets it through with a recorded reason", async () => {
    const p = await mlflowPlan("prod", "3.17.2", { self: ["2.22.5"], staging: ["2.22.5"] }, { promotionOverrideReason: "security fix for CVE-0000-0000" });
    expect(p.outputs.promotionOverrideReason).toBe("security fix for CVE-0000-0000");
    expect(p.warnings.join("\n")).toMatch(/promotion gate overridden for mlflow "3\.17\.2"/);
  });
});

describe("MLflow config", () => {
  const values = (changes: Record<string, string>) => {
    const v = { ...readStackConfig(PROJECT_DIR, "staging").values };
    for (const [k, value] of Object.entries(changes)) v[`zenml-platform:${k}`] = value;
    return v;
  };
  const problems = (changes: Record<string, string>) => {
    try {
      parseConfig("staging", values(changes));
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("expected a refusal");
  };

  it("accepts a pinned version with its digest-pinned image and hostname", () => {
    expect(parseConfig("staging", values(mlflowConfig("staging", "3.17.2")))).toMatchObject({ mlflowVersion: "3.17.2", mlflowImage: image("3.17.2") });
  });

  it("refuses a moving or partial pin like zenmlVersion, and versions without basic-auth", () => {
    expect(problems({ ...mlflowConfig("staging", "3.17.2"), mlflowVersion: "latest" })).toMatch(/zenml-platform:mlflowVersion: "latest" is a moving tag/);
    expect(problems({ ...mlflowConfig("staging", "3.17.2"), mlflowVersion: "3.17" })).toMatch(/zenml-platform:mlflowVersion: "3\.17" has no patch number/);
    expect(problems(mlflowConfig("staging", "2.4.2"))).toMatch(/predates MLflow's basic-auth app/);
  });

  it("reports every MLflow problem at once: tag-only image, wrong tag, missing or clashing hostname", () => {
    const message = problems({ mlflowVersion: "3.17.2", mlflowImage: "ghcr.io/mlflow/mlflow:v3.17.2", mlflowHostname: "zenml.staging.example.com" });
    expect(message).toMatch(/zenml-platform:mlflowImage: "ghcr\.io\/mlflow\/mlflow:v3\.17\.2" is not pinned by digest/);
    expect(message).toMatch(/zenml-platform:mlflowHostname: "zenml\.staging\.example\.com" is serverHostname/);
    expect(problems({ mlflowVersion: "3.17.2", mlflowImage: image("3.16.0") })).toMatch(/tagged "3\.16\.0", but mlflowVersion is "3\.17\.2"[\s\S]*mlflowHostname: is required/);
  });

  it("refuses MLflow settings without mlflowVersion", () => {
    expect(problems({ mlflowHostname: "mlflow.staging.example.com" })).toMatch(/zenml-platform:mlflowHostname: is set but mlflowVersion is empty/);
  });
});

describe("MLflow while it is off", () => {
  it("turning it on again below the version its kept database was migrated to is refused", async () => {
    const err = await failure(mlflowPlan("staging", "3.1.0", { self: ["2.22.5", "3.17.2"], paused: true }));
    expect(err.message).toMatch(/mlflowVersion "3\.1\.0" is lower than the deployed "3\.17\.2"/);
  });

  it("turning it on again higher snapshots the kept database but stops no server", async () => {
    const p = await mlflowPlan("staging", "3.17.2", { self: ["2.22.5"], paused: true });
    expect(ofType(p, PATCH).filter((r) => r.name.includes("mlflow"))).toEqual([]);
    const snapshot = one(p, SNAPSHOT);
    expect(snapshot.inputs.dbSnapshotIdentifier).toBe("mlflow-staging-pre-upgrade-2-22-5-to-3-17-2");
    expect(byName(p, JOB, "mlflow-db-upgrade").options.dependsOn).toContain(snapshot.urn);
  });

  it("turning it off warns, registers nothing MLflow and keeps its history", async () => {
    const p = await plan("staging", { deployed: deployed("staging", { self: ["3.17.2"] }) });
    expect(p.warnings.join("\n")).toMatch(/mlflowVersion is empty, so the MLflow server 3\.17\.2 is removed\. Its databases \(mlflow, mlflow_auth\) and artifacts stay/);
    expect(p.resources.filter((r) => /mlflow/i.test(r.name))).toEqual([]);
    expect(p.outputs.partVersions).not.toHaveProperty("mlflow");
    expect(p.outputs.versionHistory).toMatchObject({ parts: { mlflow: { versions: ["3.17.2"] } } });
    expect((p.outputs.versionHistory as { parts: Record<string, object> }).parts.mlflow).not.toHaveProperty("deployed");
  });

  it("prod may not turn MLflow on while staging never ran it", async () => {
    const err = await failure(plan("prod", { overrides: mlflowConfig("prod", "3.17.2") }));
    expect(err.message).toMatch(/mlflowVersion "3\.17\.2" has not run on organization\/zenml-platform\/staging \(it reports no deployed version; versions it ran: none\)/);
  });
});

describe("MLflow rules (pure)", () => {
  it("a paused part counts as deployed at the highest version it ran", () => {
    const paused = { deployedBefore: true, migrated: false, parts: { mlflow: { versions: ["2.22.5", "3.17.2"], snapshots: [], awsMoves: [] } } };
    const decide = (version: string) => decideParts({ stack: "staging", desired: { mlflow: version }, own: paused, live: {}, promotionOverrideReason: "" });
    expect(decide("3.17.2").entries[0]).toMatchObject({ deployed: "3.17.2", move: "unchanged" });
    expect(decide("3.1.0").refusals.join()).toMatch(/lower than the deployed "3\.17\.2"/);
  });

  it("warns about skipped minors and names the snapshot like ZenML's, with attempts", () => {
    expect(mlflowStepWarnings("staging", "3.1.0", "3.4.0").join()).toMatch(/jumps over 2 minor release\(s\) \(3\.2, 3\.3\)/);
    expect(snapshotId("mlflow", "prod", "3.1.0", "3.2.0", ["mlflow-prod-pre-upgrade-3-1-0-to-3-2-0"])).toBe("mlflow-prod-pre-upgrade-3-1-0-to-3-2-0-attempt-2");
  });

  it("image tags may carry MLflow's v prefix", () => {
    expect(explainBadMlflowImage(`ghcr.io/acme/mlflow:v3.17.2@${DIGEST}`, "3.17.2")).toBeUndefined();
  });
});

describe("npm run plan with MLflow", () => {
  const cli = (...args: string[]) => runMain(main, args);

  it("--set and --deployed mlflow=<old> show the upgrade order in the tree", async () => {
    const set = Object.entries(mlflowConfig("staging", "3.17.2")).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    const { code, stdout, stderr } = await cli("--stack", "staging", ...set, "--deployed", "mlflow=2.22.5");
    expect(code).toBe(0);
    expect(stderr).toMatch(/warning: Stack "staging": MLflow 2\.22\.5 -> 3\.17\.2 crosses a major version/);
    const lines = stdout.split("\n");
    // The tree prints a resource's settings on the indented lines under it, dependsOn among them.
    const dependsOf = (name: string) => {
      const at = lines.findIndex((l) => l.trim().startsWith(`${name}  (`));
      const settings = lines.slice(at + 1).filter((_, i, rest) => rest.slice(0, i + 1).every((l) => !/\(\S+:\S+\)/.test(l)));
      return settings.find((l) => l.trim().startsWith("dependsOn:")) ?? "";
    };
    expect(dependsOf("zenml-database-mlflow-staging-pre-upgrade-2-22-5-to-3-17-2")).toMatch(/zenml-mlflow-scale-to-zero-2-22-5-to-3-17-2/);
    expect(dependsOf("zenml-mlflow-db-upgrade")).toMatch(/zenml-database-mlflow-staging-pre-upgrade-2-22-5-to-3-17-2/);
    expect(dependsOf("zenml-mlflow-deployment")).toMatch(/zenml-mlflow-db-upgrade/);
  });

  it("--set with a bad value is refused in one line per problem", async () => {
    const { code, stderr } = await cli("--stack", "prod", "--set", "mlflowVersion=3.17.2", "--set", "mlflowImage=ghcr.io/mlflow/mlflow:v3.17.2");
    expect(code).toBe(2);
    expect(stderr).toMatch(/zenml-platform:mlflowImage: "ghcr\.io\/mlflow\/mlflow:v3\.17\.2" is not pinned by digest/);
    expect(stderr).toMatch(/zenml-platform:mlflowHostname: is required with mlflowVersion "3\.17\.2"/);
  });
});

describe("components/mlflow/image/serve.sh, how the Deployment and the rehearsal start the server", () => {
  const serve = path.join(PROJECT_DIR, "components/mlflow/image/serve.sh");
  // A stand-in mlflow on PATH that prints what it was started with.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "mlflow-stand-in-"));
  fs.writeFileSync(path.join(bin, "mlflow"), '#!/bin/sh\necho "job-execution=${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-unset}"\necho "$@"\n', { mode: 0o755 });
  const start = (env: Record<string, string>) =>
    spawnSync("sh", [serve, "0.0.0.0", "5000"], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin`, ...env } });
  const store = { MLFLOW_BACKEND_STORE_URI: "mysql+pymysql://mlflow@db/mlflow", MLFLOW_ARTIFACTS_DESTINATION: "s3://bucket/mlflow" };

  it("starts two workers with job execution off, on the given address, whatever MLFLOW_PORT a Service link sets", () => {
    const r = start({ ...store, MLFLOW_PORT: "tcp://10.0.0.7:80", MLFLOW_HOST: "10.0.0.7" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "job-execution=false",
      "server --host 0.0.0.0 --port 5000 --workers 2 --app-name basic-auth --backend-store-uri mysql+pymysql://mlflow@db/mlflow --serve-artifacts --artifacts-destination s3://bucket/mlflow",
      "",
    ]);
  });

  it("refuses to start without its database URI rather than on MLflow's default local store", () => {
    const r = start({ MLFLOW_ARTIFACTS_DESTINATION: store.MLFLOW_ARTIFACTS_DESTINATION });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("MLFLOW_BACKEND_STORE_URI");
    expect(r.stdout).toBe("");
  });
});
