import { beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../tools/offline/plan";
import { readStackConfig } from "../tools/offline/stack-files";
import { PROJECT_DIR, STACKS, at, named, ofType, one, plan } from "./helpers/plan";

const plans: Record<string, Plan> = {};
beforeAll(async () => {
  for (const stack of STACKS) plans[stack] = await plan(stack);
});

const RELEASE = "kubernetes:helm.sh/v3:Release";
const RDS = "aws:rds/instance:Instance";

describe.each(STACKS)("%s environment", (stack) => {
  const p = () => plans[stack];
  const isProd = stack === "prod";

  it("builds every component of the environment under one ZenmlEnvironment", () => {
    const env = one(p(), "zenml-platform:index:ZenmlEnvironment");
    const components = p().resources.filter((r) => r.parent === env.urn).map((r) => r.type).sort();
    expect(components).toEqual(
      ["Network", "Cluster", "ClusterLogging", "ArtifactStore", "ContainerRegistry", "Database", "ZenmlServer", "ZenmlStack", "ImageMirror", "NetworkPolicies", "Alarms", "PostUpgrade"].map((c) => `zenml-platform:index:${c}`).sort(),
    );
  });

  it("spans the configured availability zones with the configured NAT layout", () => {
    const vpc = one(p(), "awsx:ec2:Vpc");
    expect(vpc.inputs.numberOfAvailabilityZones).toBe(isProd ? 3 : 2);
    expect(at(vpc.inputs, "natGateways.strategy")).toBe(isProd ? "OnePerAz" : "Single");
    const specs = vpc.inputs.subnetSpecs as { type: string }[];
    expect(specs.map((s) => s.type).sort()).toEqual(["Private", "Public"]);
  });

  it("runs EKS pinned, Auto Mode, API auth, private nodes, OIDC, logs and encrypted secrets", () => {
    const cluster = one(p(), "eks:index:Cluster");
    expect(cluster.inputs).toMatchObject({
      name: `zenml-${stack}`,
      version: readStackConfig(PROJECT_DIR, stack).values["zenml-platform:kubernetesVersion"],
      upgradePolicy: { supportType: "STANDARD" },
      authenticationMode: "API",
      autoMode: { enabled: true },
      nodeAssociatePublicIpAddress: false,
      createOidcProvider: true,
      endpointPrivateAccess: true,
    });
    expect(cluster.inputs.enabledClusterLogTypes).toEqual(expect.arrayContaining(["api", "audit", "authenticator"]));
    expect(String(cluster.inputs.encryptionConfigKeyArn)).toMatch(/^arn:aws:kms:/);
    expect(cluster.inputs.publicAccessCidrs).not.toContain("0.0.0.0/0");
    expect((cluster.inputs.privateSubnetIds as string[]).every((id) => id.includes("prv"))).toBe(true);
    const pool = one(p(), "kubernetes:karpenter.sh/v1:NodePool");
    expect(at(pool.inputs, "spec.limits.cpu")).toBe(isProd ? "64" : "16");
    expect(at(pool.inputs, "spec.template.spec.nodeClassRef.name")).toBe("zenml-private");
    const nodeClass = one(p(), "kubernetes:eks.amazonaws.com/v1:NodeClass");
    expect(at(nodeClass.inputs, "spec.subnetSelectorTerms")).toEqual([{ tags: { "kubernetes.io/role/internal-elb": "1", stack } }]);
  });

  it("keeps the artifact bucket private, encrypted, versioned, TLS-only and never force-destroyed", () => {
    expect(one(p(), "aws:s3/bucket:Bucket").inputs.forceDestroy).toBe(false);
    expect(one(p(), "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(at(one(p(), "aws:s3/bucketVersioning:BucketVersioning").inputs, "versioningConfiguration.status")).toBe("Enabled");
    const sse = one(p(), "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules as { applyServerSideEncryptionByDefault: { sseAlgorithm: string } }[];
    expect(sse[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
    const policy = JSON.parse(String(one(p(), "aws:s3/bucketPolicy:BucketPolicy").inputs.policy));
    expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }));
    const rules = one(p(), "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as { noncurrentVersionExpiration?: { noncurrentDays: number } }[];
    expect(rules.find((r) => r.noncurrentVersionExpiration)?.noncurrentVersionExpiration?.noncurrentDays).toBe(isProd ? 90 : 30);
  });

  it("scans images on push, encrypts them, expires untagged ones and keeps tags mutable for ZenML rebuilds", () => {
    const repo = named(p(), "zenml-registry-repository");
    expect(repo.inputs).toMatchObject({ name: `zenml-${stack}/zenml`, imageTagMutability: "MUTABLE", imageScanningConfiguration: { scanOnPush: true }, encryptionConfigurations: [{ encryptionType: "KMS" }] });
    const lifecycle = JSON.parse(String(one(p(), "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs.policy));
    expect(lifecycle.rules[0].selection).toMatchObject({ tagStatus: "untagged", countNumber: isProd ? 30 : 14 });
    expect(p().outputs.registryUri).toBe("123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  });

  it("runs RDS MySQL private, encrypted, backed up, with a final snapshot and prod-only protections", () => {
    const db = one(p(), RDS);
    expect(db.inputs).toMatchObject({
      identifier: `zenml-${stack}`,
      engine: "mysql",
      engineVersion: "8.4",
      autoMinorVersionUpgrade: true,
      storageEncrypted: true,
      publiclyAccessible: false,
      copyTagsToSnapshot: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `zenml-${stack}-final`,
      backupRetentionPeriod: isProd ? 14 : 7,
      multiAz: isProd,
      deletionProtection: isProd,
      password: "[secret]",
    });
    const params = one(p(), "aws:rds/parameterGroup:ParameterGroup").inputs.parameters as { name: string; value: string }[];
    expect(params).toContainEqual({ name: "require_secure_transport", value: "1" });
    const sg = named(p(), "zenml-database-sg").inputs.ingress as { fromPort: number; securityGroups: string[]; cidrBlocks?: string[] }[];
    expect(sg).toHaveLength(1);
    expect(sg[0].fromPort).toBe(3306);
    expect(sg[0].securityGroups).toEqual([expect.stringMatching(/^sg-cluster-/)]);
    expect(sg[0].cidrBlocks).toBeUndefined();
  });

  it("deploys the ZenML chart at the pinned version with the matching image and safe values", () => {
    const release = one(p(), RELEASE);
    const version = stack === "prod" ? "0.97.0" : "0.98.0";
    expect(release.inputs).toMatchObject({ chart: "oci://public.ecr.aws/zenml/zenml", version, namespace: "zenml", atomic: true });
    const zenml = at(release.inputs, "values.zenml") as Record<string, unknown>;
    expect(at(zenml, "image.tag")).toBe(version);
    expect(zenml.debug).toBe(false);
    expect(zenml.replicaCount).toBe(isProd ? 2 : 1);
    expect(zenml.serverURL).toBe(isProd ? "https://zenml.example.com" : "https://zenml.staging.example.com");
    expect(String(at(zenml, "database.url"))).toMatch(new RegExp(`^mysql://zenml@zenml-${stack}\\.[^:]+:3306/zenml$`));
    expect(at(zenml, "database.passwordSecretRef")).toEqual({ name: "zenml-db-password", key: "password" });
    expect(at(zenml, "database.ssl")).toBe(true);
    expect(at(zenml, "secretsStore")).toEqual({ enabled: true, type: "sql", sql: { encryptionKey: "[secret]" } });
    expect(at(zenml, "auth.jwtSecretKey")).toBe("[secret]");
    expect(at(zenml, "ingress")).toMatchObject({ enabled: true, className: "alb", host: isProd ? "zenml.example.com" : "zenml.staging.example.com" });
    const annotations = at(zenml, "ingress.annotations") as Record<string, string>;
    expect(annotations["alb.ingress.kubernetes.io/certificate-arn"]).toMatch(/^arn:aws:acm:eu-west-1:/);
    expect(at(release.inputs, "values.serviceAccount.annotations")).toHaveProperty(["eks.amazonaws.com/role-arn"]);
  });

  it("lets only the server and migration service accounts assume a role that reaches only the bucket", () => {
    const role = ofType(p(), "aws:iam/role:Role").find((r) => r.name === "zenml-server-role")!;
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy));
    const condition = trust.Statement[0].Condition.StringEquals;
    const sub = Object.entries(condition).find(([k]) => k.endsWith(":sub"))![1];
    expect(sub).toEqual(["system:serviceaccount:zenml:zenml-server", "system:serviceaccount:zenml:zenml-server-db-migration"]);
    const policy = JSON.parse(String(named(p(), "zenml-server-bucket-access").inputs.policy));
    const resources = policy.Statement.flatMap((s: { Resource: string }) => [s.Resource]);
    expect(resources.every((r: string) => r.includes("zenml-artifacts") || r.startsWith("arn:aws:kms:"))).toBe(true);
    expect(policy.Statement.flatMap((s: { Action: string[] }) => s.Action)).not.toContain("s3:*");
  });

  it("ships container logs to CloudWatch with the configured retention", () => {
    expect(named(p(), "zenml-logging-application").inputs).toMatchObject({ name: `/aws/containerinsights/zenml-${stack}/application`, retentionInDays: isProd ? 90 : 30 });
    const addon = one(p(), "aws:eks/addon:Addon");
    expect(addon.inputs.addonName).toBe("amazon-cloudwatch-observability");
    expect(String(addon.inputs.serviceAccountRoleArn)).toMatch(/^arn:aws:iam::/);
  });

  it("exports every output a user needs, the kubeconfig as a secret", () => {
    expect(p().outputs).toMatchObject({
      serverUrl: expect.stringMatching(/^https:\/\//),
      zenmlVersion: stack === "prod" ? "0.97.0" : "0.98.0",
      bucketName: expect.any(String),
      registryUrl: expect.stringContaining(".dkr.ecr.eu-west-1.amazonaws.com/"),
      clusterName: `zenml-${stack}`,
      kubeconfig: "[secret]",
      databaseEndpoint: expect.stringMatching(/:3306$/),
      databaseInstanceIdentifier: `zenml-${stack}`,
    });
  });

  it("never shows a generated secret anywhere in the plan", () => {
    // The mocks return runs of "x" for every generated password and key.
    expect(JSON.stringify(p())).not.toMatch(/xxxxxxxx/);
    expect(named(p(), "zenml-server-db-password").inputs.stringData).toBe("[secret]");
    expect(named(p(), "zenml-server-admin").inputs.stringData).toBe("[secret]");
    expect(p().outputs.adminPassword).toBe("[secret]");
    expect(at(one(p(), RELEASE).inputs, "values.zenml.secretEnvironment")).toEqual({ ZENML_DEFAULT_USER_PASSWORD: "[secret]" });
  });

  it("tags every taggable AWS resource with project, stack and component", () => {
    const tagged = p().resources.filter((r) => r.type.startsWith("aws:") && r.inputs.tags !== undefined);
    expect(tagged.length).toBeGreaterThan(8);
    for (const r of tagged) expect(r.inputs.tags, r.name).toMatchObject({ project: "zenml-platform", stack });
  });
});

describe("mirrored stacks", () => {
  it("build the same resources with the same names and types", () => {
    // Stack references are reads, not resources: only prod reads its promotion source.
    const shape = (p: Plan) => p.resources.filter((r) => r.type !== "pulumi:pulumi:StackReference").map((r) => `${r.type}::${r.name}`).sort();
    expect(shape(plans.staging)).toEqual(shape(plans.prod));
    expect(plans.prod.resources.filter((r) => r.name === "promotion-source")).toHaveLength(1);
    expect(plans.staging.resources.filter((r) => r.name === "promotion-source")).toHaveLength(0);
  });

  it("protect stateful resources in prod only", () => {
    const stateful = ["aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository", "aws:kms/key:Key", "random:index/randomPassword:RandomPassword"];
    for (const type of stateful) {
      for (const r of ofType(plans.prod, type)) expect(r.options.protect, `${type} ${r.name} in prod`).toBe(true);
      for (const r of ofType(plans.staging, type)) expect(r.options.protect, `${type} ${r.name} in staging`).toBe(false);
    }
    expect(ofType(plans.prod, "random:index/randomPassword:RandomPassword")).toHaveLength(4);
  });
});
