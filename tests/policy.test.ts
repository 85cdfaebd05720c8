import { beforeAll, describe, expect, it } from "vitest";
import { RESOURCE_RULES, STACK_RULES, contextFor, deniesInsecureTransport, evaluate, type PolicyContext, type PolicyInput } from "../policy/rules";
import type { Plan } from "../tools/offline/plan";
import { readStackConfig } from "../tools/offline/stack-files";
import { PROJECT_DIR, STACKS, plan, stackRef } from "./helpers/plan";

const plans: Record<string, Plan> = {};
beforeAll(async () => {
  for (const stack of STACKS) plans[stack] = await plan(stack);
});

function inputs(p: Plan): PolicyInput[] {
  return p.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs, protect: r.options.protect, parent: r.parent ?? undefined, dependencies: r.options.dependsOn }));
}

/** The context CrossGuard builds for a stack: its kind and pin come from the real stack file. */
const ctx = (stack: string): PolicyContext => contextFor(`urn:pulumi:${stack}::zenml-platform::pulumi:pulumi:Stack::x`, { stackConfig: readStackConfig(PROJECT_DIR, stack).values });
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The plan's resources with one resource's props changed. */
function mutate(p: Plan, type: string, change: (props: Record<string, unknown>, r: PolicyInput) => void): PolicyInput[] {
  const rs = clone(inputs(p));
  const target = rs.find((r) => r.type === type);
  if (!target) throw new Error(`no ${type}`);
  change(target.props, target);
  return rs;
}

const violated = (rs: PolicyInput[], c: PolicyContext) => evaluate(rs, c).map((v) => v.policy);

describe.each(STACKS)("policies over the real plan of %s", (stack) => {
  it("find no violation at all", () => {
    expect(evaluate(inputs(plans[stack]), ctx(stack))).toEqual([]);
  });
});

describe("every policy reports its bad variant", () => {
  const RDS = "aws:rds/instance:Instance";
  const RELEASE = "kubernetes:helm.sh/v3:Release";
  const EKS = "eks:index:Cluster";
  const ECR = "aws:ecr/repository:Repository";
  const cases: [string, string, string, (props: Record<string, unknown>, r: PolicyInput) => void][] = [
    ["rds-backups-minimum", "prod", RDS, (p) => (p.backupRetentionPeriod = 7)],
    ["rds-backups-minimum", "staging", RDS, (p) => (p.backupRetentionPeriod = 3)],
    ["rds-storage-encrypted", "staging", RDS, (p) => (p.storageEncrypted = false)],
    ["rds-not-public", "staging", RDS, (p) => (p.publiclyAccessible = true)],
    ["rds-final-snapshot", "staging", RDS, (p) => (p.skipFinalSnapshot = true)],
    ["rds-deletion-protection-prod", "prod", RDS, (p) => (p.deletionProtection = false)],
    ["rds-multi-az-prod", "prod", RDS, (p) => (p.multiAz = false)],
    ["s3-never-force-destroyed", "staging", "aws:s3/bucket:Bucket", (p) => (p.forceDestroy = true)],
    ["s3-bucket-hardened", "staging", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", (p) => (p.restrictPublicBuckets = false)],
    ["s3-bucket-hardened", "staging", "aws:s3/bucketVersioning:BucketVersioning", (p) => (p.versioningConfiguration = { status: "Suspended" })],
    ["s3-bucket-hardened", "staging", "aws:s3/bucketPolicy:BucketPolicy", (p) => (p.policy = JSON.stringify({ Statement: [] }))],
    ["s3-bucket-hardened", "prod", "aws:s3/bucketPolicy:BucketPolicy", (p) => (p.policy = String(p.policy).replace('"Deny"', '"Allow"'))],
    ["s3-bucket-hardened", "prod", "aws:s3/bucketPolicy:BucketPolicy", (p) => (p.policy = String(p.policy).replace('"aws:SecureTransport":"false"', '"aws:SecureTransport":"true"'))],
    ["s3-bucket-hardened", "prod", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", (p) => (p.rules = [{ bucketKeyEnabled: true }])],
    ["s3-bucket-hardened", "staging", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", (_p, r) => (r.parent = "elsewhere")],
    ["ecr-scan-on-push", "staging", ECR, (p) => (p.imageScanningConfiguration = { scanOnPush: false })],
    ["ecr-kms-encryption", "staging", ECR, (p) => (p.encryptionConfigurations = [{ encryptionType: "AES256" }])],
    ["eks-pinned-version", "staging", EKS, (p) => (p.version = undefined)],
    ["eks-pinned-version", "prod", EKS, (p) => (p.version = "1.33.2")],
    ["eks-pinned-version", "prod", EKS, (p) => (p.upgradePolicy = { supportType: "EXTENDED" })],
    ["eks-secrets-encryption", "staging", EKS, (p) => delete p.encryptionConfigKeyArn],
    ["eks-control-plane-logging", "staging", EKS, (p) => (p.enabledClusterLogTypes = ["api"])],
    ["eks-public-endpoint-allow-list", "staging", EKS, (p) => (p.publicAccessCidrs = ["0.0.0.0/0"])],
    ["zenml-release-versions-match", "staging", RELEASE, (p) => ((p.values as { zenml: { image: { tag: string } } }).zenml.image.tag = "0.97.0")],
    ["zenml-release-versions-match", "staging", RELEASE, (p) => (p.version = "latest")],
    ["zenml-release-versions-match", "prod", RELEASE, (p) => {
      // chart and image agree with each other but not with Pulumi.prod.yaml's pin
      p.version = "0.98.0";
      (p.values as { zenml: { image: { tag: string } } }).zenml.image.tag = "0.98.0";
    }],
    ["zenml-debug-off", "staging", RELEASE, (p) => ((p.values as { zenml: { debug: boolean } }).zenml.debug = true)],
    ["zenml-db-password-not-inline", "staging", RELEASE, (p) => ((p.values as { zenml: { database: { url: string } } }).zenml.database.url = "mysql://zenml:hunter2@db:3306/zenml")],
    ["zenml-db-password-not-inline", "staging", RELEASE, (p) => delete (p.values as { zenml: { database: Record<string, unknown> } }).zenml.database.passwordSecretRef],
    ["prod-stateful-protected", "prod", RDS, (_p, r) => (r.protect = false)],
    ["prod-stateful-protected", "prod", "random:index/randomPassword:RandomPassword", (_p, r) => (r.protect = false)],
    ["server-disruption-protected", "prod", "kubernetes:policy/v1:PodDisruptionBudget", (p) => ((p.spec as { minAvailable: number }).minAvailable = 0)],
    ["server-disruption-protected", "prod", "kubernetes:karpenter.sh/v1:NodePool", (p) => delete (p.spec as { disruption: Record<string, unknown> }).disruption.budgets],
  ];

  it.each(cases)("%s (%s)", (policy, stack, type, change) => {
    const found = evaluate(mutate(plans[stack], type, change), ctx(stack));
    expect(found.map((v) => v.policy)).toContain(policy);
    const v = found.find((x) => x.policy === policy)!;
    expect(v.message.length).toBeGreaterThan(10);
  });

  it("covers every policy with at least one bad variant", () => {
    const covered = new Set([...cases.map((c) => c[0]), "snapshot-before-upgrade", "mysql-major-upgrade-prepared", "environment-kind-from-stack-name"]);
    for (const rule of [...RESOURCE_RULES, ...STACK_RULES]) expect(covered, rule.name).toContain(rule.name);
  });

  it("staging is not held to prod-only rules", () => {
    expect(violated(mutate(plans.staging, RDS, (p) => (p.multiAz = false)), ctx("staging"))).toEqual([]);
    expect(violated(mutate(plans.staging, RDS, (_p, r) => (r.protect = false)), ctx("staging"))).toEqual([]);
  });

  it("marks the public-endpoint check advisory and the rest mandatory", () => {
    expect(RESOURCE_RULES.filter((r) => r.enforcement === "advisory").map((r) => r.name)).toEqual(["eks-public-endpoint-allow-list"]);
    for (const rule of [...RESOURCE_RULES, ...STACK_RULES]) expect(rule.remediation.length, rule.name).toBeGreaterThan(10);
  });
});

describe("pre-upgrade snapshot ordering", () => {
  it("passes on a real upgrade plan and fails when the release does not wait", async () => {
    const upgrade = await plan("staging", { deployed: { [stackRef("staging")]: { zenmlVersion: "0.97.0", zenmlVersionHistory: ["0.97.0"] } } });
    const rs = inputs(upgrade);
    expect(rs.some((r) => r.type === "aws:rds/snapshot:Snapshot")).toBe(true);
    expect(evaluate(rs, ctx("staging"))).toEqual([]);
    const release = rs.find((r) => r.type === "kubernetes:helm.sh/v3:Release")!;
    release.dependencies = [];
    expect(violated(rs, ctx("staging"))).toEqual(["snapshot-before-upgrade"]);
  });
});

describe("MySQL major upgrade", () => {
  it("passes on the real 8.0 -> 8.4 plan and fails when the instance does not wait for its snapshot or its new parameter group", async () => {
    const major = await plan("prod", {
      deployed: {
        [stackRef("staging")]: { zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.97.0", "0.98.0"], partVersions: { mysql: "8.4" }, partVersionHistory: { mysql: ["8.0", "8.4"] } },
        [stackRef("prod")]: { zenmlVersion: "0.97.0", zenmlVersionHistory: ["0.97.0"], partVersions: { mysql: "8.0" }, partVersionHistory: { mysql: ["8.0"] } },
      },
    });
    const rs = inputs(major);
    expect(evaluate(rs, ctx("prod"))).toEqual([]);
    const db = rs.find((r) => r.type === "aws:rds/instance:Instance")!;
    const snapshotUrn = rs.find((r) => r.type === "aws:rds/snapshot:Snapshot")!.urn;
    db.dependencies = db.dependencies.filter((u) => u !== snapshotUrn);
    expect(evaluate(rs, ctx("prod")).map((v) => v.message)).toEqual([expect.stringMatching(/without waiting for a snapshot of itself/)]);
    db.dependencies = [snapshotUrn];
    expect(evaluate(rs, ctx("prod")).map((v) => v.message)).toEqual([expect.stringMatching(/without waiting for a mysql8\.4 parameter group/)]);
  });
});

describe("policies over prod mid-upgrade and mid-rollback", () => {
  const stagingRan = { [stackRef("staging")]: { zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.96.0", "0.97.0", "0.98.0"] } };
  const deployedProd = (version: string, extra: Record<string, unknown> = {}) => ({ [stackRef("prod")]: { zenmlVersion: version, zenmlVersionHistory: [version], ...extra } });
  const snapshot = "zenml-prod-pre-upgrade-0-97-0-to-0-98-0";
  const pinned = (version: string): PolicyContext => ({ ...ctx("prod"), pinnedVersion: version });

  it("an upgrade: snapshot taken for this upgrade, release waits", async () => {
    const p = await plan("prod", { overrides: { zenmlVersion: "0.98.0" }, deployed: { ...stagingRan, ...deployedProd("0.97.0") } });
    expect((p.outputs.upgradeReport as { parts: { part: string; move: string }[] }).parts.find((e) => e.part === "zenml")).toMatchObject({ move: "upgrade" });
    expect(evaluate(inputs(p), pinned("0.98.0"))).toEqual([]);
  });

  it("a rollback: the restored database is held to the same rules", async () => {
    const p = await plan("prod", { overrides: { zenmlVersion: "0.97.0", rollbackSnapshot: snapshot }, deployed: { ...stagingRan, ...deployedProd("0.98.0") } });
    expect(p.resources.filter((r) => r.type === "aws:rds/instance:Instance")).toHaveLength(2);
    expect(evaluate(inputs(p), pinned("0.97.0"))).toEqual([]);
    const rs = inputs(p);
    rs.find((r) => r.name.includes("restored"))!.protect = false;
    expect(violated(rs, pinned("0.97.0"))).toEqual(["prod-stateful-protected"]);
  });

  it("an upgrade after a rollback snapshots the restored database", async () => {
    const after = { ...stagingRan, ...deployedProd("0.97.0", { rollbackSnapshot: snapshot, preUpgradeSnapshots: [snapshot], latestPreUpgradeSnapshot: snapshot }) };
    const p = await plan("prod", { overrides: { zenmlVersion: "0.98.0", rollbackSnapshot: snapshot }, deployed: after });
    expect(evaluate(inputs(p), pinned("0.98.0"))).toEqual([]);
  });

  it("reports a snapshot taken for another version or of another database", async () => {
    const p = await plan("prod", { overrides: { zenmlVersion: "0.98.0" }, deployed: { ...stagingRan, ...deployedProd("0.97.0") } });
    const stale = clone(inputs(p));
    stale.find((r) => r.type === "aws:rds/snapshot:Snapshot")!.props.dbSnapshotIdentifier = "zenml-prod-pre-upgrade-0-96-0-to-0-97-0";
    expect(evaluate(stale, pinned("0.98.0")).map((v) => v.message)).toEqual(["snapshot zenml-prod-pre-upgrade-0-96-0-to-0-97-0 is for an upgrade to 0.97.0, but release zenml-server-release installs 0.98.0"]);
    const elsewhere = clone(inputs(p));
    elsewhere.find((r) => r.type === "aws:rds/snapshot:Snapshot")!.props.dbInstanceIdentifier = "zenml-staging";
    expect(evaluate(elsewhere, pinned("0.98.0")).map((v) => v.message)).toEqual([expect.stringMatching(/is of zenml-staging, not of this stack's database/)]);
  });
});

describe("the public API allow-list is parsed, not compared as strings", () => {
  it.each([[["0.0.0.0/1", "128.0.0.0/1"]], [["0.0.0.0/00"]], [["::/0"]]])("flags %j as open to the internet", (cidrs) => {
    const rs = mutate(plans.staging, "eks:index:Cluster", (p) => (p.publicAccessCidrs = cidrs));
    expect(evaluate(rs, ctx("staging")).filter((v) => v.policy === "eks-public-endpoint-allow-list").map((v) => v.message)).toEqual(["the Kubernetes API is open to the internet"]);
  });
  it("flags host bits and private ranges", () => {
    const rs = mutate(plans.staging, "eks:index:Cluster", (p) => (p.publicAccessCidrs = ["203.0.113.9/24", "10.0.0.0/8"]));
    expect(evaluate(rs, ctx("staging")).filter((v) => v.policy === "eks-public-endpoint-allow-list").map((v) => v.message)).toEqual([
      expect.stringMatching(/host bits set/),
      expect.stringMatching(/private range/),
    ]);
  });
});

describe("policy context", () => {
  it("takes the environment kind and the pin from the stack file", () => {
    expect(ctx("prod")).toEqual({ stack: "prod", environment: "prod", isProd: true, pinnedVersion: readStackConfig(PROJECT_DIR, "prod").values["zenml-platform:zenmlVersion"] });
    expect(ctx("staging")).toMatchObject({ stack: "staging", environment: "staging", isProd: false });
    // a stack named otherwise is held to prod's floors when its file says it is prod
    expect(contextFor("urn:pulumi:prod-eu::zenml-platform::x::y", { stackConfig: { "zenml-platform:environment": "prod" } })).toMatchObject({ environment: "prod", isProd: true });
  });

  it("falls back to the stack name without a stack file", () => {
    expect(contextFor("urn:pulumi:prod::zenml-platform::aws:s3/bucket:Bucket::b")).toEqual({ stack: "prod", environment: "prod", isProd: true });
    expect(contextFor("urn:pulumi:staging::zenml-platform::x::y")).toEqual({ stack: "staging", environment: "staging", isProd: false });
    expect(contextFor("urn:pulumi:prod-eu::p::x::y", { prodStacks: ["prod", "prod-eu"] }).isProd).toBe(true);
  });

  it("keeps prod's floors when prod's stack file declares itself staging, and reports the mismatch", () => {
    const lying = { ...readStackConfig(PROJECT_DIR, "prod").values, "zenml-platform:environment": "staging" };
    const c = contextFor("urn:pulumi:prod::zenml-platform::x::y", { stackConfig: lying });
    expect(c).toMatchObject({ environment: "prod", isProd: true });
    const weak = mutate(plans.prod, "aws:rds/instance:Instance", (p) => (p.multiAz = false));
    expect(violated(weak, c)).toEqual(expect.arrayContaining(["rds-multi-az-prod", "environment-kind-from-stack-name"]));
    expect(evaluate(inputs(plans.prod), c).find((v) => v.policy === "environment-kind-from-stack-name")?.message).toMatch(/declares environment "staging", but the stack name "prod" makes it prod/);
  });

  it("holds a stack whose name gives no kind to prod's floors", () => {
    expect(contextFor("urn:pulumi:sandbox::zenml-platform::x::y")).toMatchObject({ environment: "prod", isProd: true });
  });

  it("holds a prod-kind stack to prod's backup floor whatever its name", () => {
    const rs = mutate(plans.prod, "aws:rds/instance:Instance", (p) => (p.backupRetentionPeriod = 7));
    const asProdEu = contextFor("urn:pulumi:prod-eu::zenml-platform::x::y", { stackConfig: { "zenml-platform:environment": "prod" } });
    expect(violated(rs, asProdEu)).toContain("rds-backups-minimum");
  });
});

describe("TLS-only bucket policy", () => {
  const deny = { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } };
  it("accepts the statement however the document is written", () => {
    expect(deniesInsecureTransport(JSON.stringify({ Statement: [deny] }, null, 2))).toBe(true);
    expect(deniesInsecureTransport({ Statement: deny })).toBe(true);
    expect(deniesInsecureTransport({ Statement: [{ ...deny, Principal: { AWS: "*" }, Condition: { Bool: { "aws:SecureTransport": false } } }] })).toBe(true);
  });
  it("rejects statements that leave some requests over plain HTTP", () => {
    expect(deniesInsecureTransport({ Statement: [{ ...deny, Principal: { AWS: "arn:aws:iam::1:root" } }] })).toBe(false);
    expect(deniesInsecureTransport({ Statement: [{ ...deny, Action: "s3:GetObject" }] })).toBe(false);
    expect(deniesInsecureTransport({ Statement: [{ ...deny, Effect: "Allow" }] })).toBe(false);
    expect(deniesInsecureTransport("not json")).toBe(false);
  });
});
