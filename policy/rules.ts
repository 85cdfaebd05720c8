// The platform's policies as plain functions over plain resources, so they run the same under
// CrossGuard (index.ts) and in unit tests over the offline plan, without a policy server.
import * as semver from "semver";
import { ENVIRONMENT_MINIMUMS, PROJECT, environmentKindOf, type EnvironmentKind } from "../components/config";
import { allowListProblems, isOpenToAll } from "../components/cidr";
import { parseSnapshotId } from "../components/version-policy";

export type Enforcement = "mandatory" | "advisory";

/** What a policy sees of a resource: CrossGuard's view and the offline plan both map to this. */
export interface PolicyInput {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  protect: boolean;
  parent?: string;
  /** URNs this resource depends on. */
  dependencies: string[];
}

export interface PolicyContext {
  stack: string;
  /** The environment kind whose floors apply (ENVIRONMENT_MINIMUMS). */
  environment: EnvironmentKind;
  isProd: boolean;
  /** zenmlVersion pinned in the stack file, when the pack can read it. */
  pinnedVersion?: string;
  /** Set when the stack file declares a kind its name does not give: the stricter kind applies. */
  declaredMismatch?: string;
}

export interface ContextSources {
  /** Stack names treated as prod when the stack file gives no environment kind; default ["prod"]. */
  prodStacks?: readonly string[];
  /** The `config:` map of the stack's Pulumi.<stack>.yaml, when readable. */
  stackConfig?: Record<string, unknown>;
}

export interface Violation {
  policy: string;
  enforcement: Enforcement;
  message: string;
  urn?: string;
}

interface Rule {
  name: string;
  description: string;
  enforcement: Enforcement;
  remediation: string;
}

export interface ResourceRule extends Rule {
  types: string[];
  check(r: PolicyInput, ctx: PolicyContext): string[];
}

export interface StackRule extends Rule {
  check(resources: PolicyInput[], ctx: PolicyContext): { message: string; urn?: string }[];
}

const RDS = "aws:rds/instance:Instance";
const BUCKET = "aws:s3/bucket:Bucket";
const ECR = "aws:ecr/repository:Repository";
const EKS = "eks:index:Cluster";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const SNAPSHOT = "aws:rds/snapshot:Snapshot";
const PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup";
/** Losing or replacing one of these loses data or breaks what depends on it (generated secrets included). */
export const STATEFUL_TYPES = [
  RDS,
  BUCKET,
  ECR,
  "aws:kms/key:Key",
  "random:index/randomPassword:RandomPassword",
  "random:index/randomBytes:RandomBytes",
  "random:index/randomId:RandomId",
  "random:index/randomString:RandomString",
];

const get = (value: unknown, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), value);
const when = (failed: boolean, message: string) => (failed ? [message] : []);

/**
 * The environment kind comes from the stack name (what the program itself derives), never from a
 * value the stack file declares: a prod file that says "staging" keeps prod's floors. A name that
 * gives no kind counts as prod unless listed otherwise, and a disagreeing declaration is reported.
 */
export function contextFor(urn: string, sources: ContextSources = {}): PolicyContext {
  const stack = /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? "";
  const fromName: EnvironmentKind = (sources.prodStacks ?? []).includes(stack) ? "prod" : environmentKindOf(stack) ?? "prod";
  const declared = sources.stackConfig?.[`${PROJECT}:environment`];
  const mismatch = declared !== undefined && declared !== fromName;
  const environment: EnvironmentKind = mismatch ? "prod" : fromName;
  const pin = sources.stackConfig?.[`${PROJECT}:zenmlVersion`];
  return {
    stack,
    environment,
    isProd: environment === "prod",
    ...(typeof pin === "string" ? { pinnedVersion: pin } : {}),
    ...(mismatch ? { declaredMismatch: `the stack file declares environment ${JSON.stringify(declared)}, but the stack name "${stack}" makes it ${fromName}` } : {}),
  };
}

/** True when a bucket policy document has a statement denying every non-TLS request to everyone. */
export function deniesInsecureTransport(policy: unknown): boolean {
  let doc: unknown = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return false;
    }
  }
  const statements = get(doc, "Statement");
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const everyone = (p: unknown) => p === "*" || get(p, "AWS") === "*" || (Array.isArray(get(p, "AWS")) && (get(p, "AWS") as unknown[]).includes("*"));
  const allActions = (a: unknown) => (Array.isArray(a) ? a : [a]).some((x) => x === "s3:*" || x === "*");
  return list.some((st) => {
    const insecure = get(st, "Condition.Bool") as Record<string, unknown> | undefined;
    const flag = insecure?.["aws:SecureTransport"];
    return get(st, "Effect") === "Deny" && everyone(get(st, "Principal")) && allActions(get(st, "Action")) && (flag === false || flag === "false" || (Array.isArray(flag) && flag.includes("false")));
  });
}

export const RESOURCE_RULES: ResourceRule[] = [
  {
    name: "rds-backups-minimum",
    description: `RDS keeps automated backups at least as long as the environment kind requires (staging ${ENVIRONMENT_MINIMUMS.staging.backupRetentionDays} days, prod ${ENVIRONMENT_MINIMUMS.prod.backupRetentionDays}).`,
    enforcement: "mandatory",
    remediation: "Raise dbBackupRetentionDays in the stack file.",
    types: [RDS],
    check: (r, ctx) => {
      const min = ENVIRONMENT_MINIMUMS[ctx.environment].backupRetentionDays;
      const days = Number(r.props.backupRetentionPeriod ?? 0);
      return when(days < min, `automated backups kept ${days} days; ${ctx.environment} needs at least ${min}`);
    },
  },
  {
    name: "rds-storage-encrypted",
    description: "RDS storage is encrypted.",
    enforcement: "mandatory",
    remediation: "Set storageEncrypted: true (this replaces an existing instance: restore a snapshot into an encrypted one).",
    types: [RDS],
    check: (r) => when(r.props.storageEncrypted !== true, "storage is not encrypted"),
  },
  {
    name: "rds-not-public",
    description: "RDS is not publicly accessible.",
    enforcement: "mandatory",
    remediation: "Set publiclyAccessible: false; reach the database from the cluster only.",
    types: [RDS],
    check: (r) => when(r.props.publiclyAccessible === true, "the instance is publicly accessible"),
  },
  {
    name: "rds-final-snapshot",
    description: "Deleting the database leaves a final snapshot.",
    enforcement: "mandatory",
    remediation: "Set skipFinalSnapshot: false and a finalSnapshotIdentifier.",
    types: [RDS],
    check: (r) => when(r.props.skipFinalSnapshot === true || !r.props.finalSnapshotIdentifier, "deleting it would leave no final snapshot"),
  },
  {
    name: "rds-deletion-protection-prod",
    description: "The prod database has deletion protection.",
    enforcement: "mandatory",
    remediation: "Set deletionProtection: true for prod.",
    types: [RDS],
    check: (r, ctx) => when(ctx.isProd && r.props.deletionProtection !== true, "prod database without deletion protection"),
  },
  {
    name: "rds-multi-az-prod",
    description: "The prod database runs Multi-AZ.",
    enforcement: "mandatory",
    remediation: "Set dbMultiAz: true in Pulumi.prod.yaml.",
    types: [RDS],
    check: (r, ctx) => when(ctx.isProd && r.props.multiAz !== true, "prod database is single-AZ"),
  },
  {
    name: "s3-never-force-destroyed",
    description: "The artifact bucket cannot be deleted with its contents.",
    enforcement: "mandatory",
    remediation: "Set forceDestroy: false.",
    types: [BUCKET],
    check: (r) => when(r.props.forceDestroy === true, "forceDestroy would delete every artifact with the bucket"),
  },
  {
    name: "ecr-scan-on-push",
    description: "ECR scans images on push.",
    enforcement: "mandatory",
    remediation: "Set imageScanningConfiguration.scanOnPush: true.",
    types: [ECR],
    check: (r) => when(get(r.props, "imageScanningConfiguration.scanOnPush") !== true, "images are not scanned on push"),
  },
  {
    name: "ecr-kms-encryption",
    description: "ECR encrypts images with KMS.",
    enforcement: "mandatory",
    remediation: 'Set encryptionConfigurations: [{ encryptionType: "KMS" }].',
    types: [ECR],
    check: (r) => {
      const configs = (r.props.encryptionConfigurations as { encryptionType?: string }[] | undefined) ?? [];
      return when(!configs.some((c) => c.encryptionType === "KMS"), "images are not encrypted with KMS");
    },
  },
  {
    name: "eks-pinned-version",
    description: "The EKS version is pinned to a minor version and kept on standard support.",
    enforcement: "mandatory",
    remediation: 'Set kubernetesVersion to "1.NN" in the stack file; the Cluster component sets upgradePolicy.supportType STANDARD.',
    types: [EKS],
    check: (r) => [
      ...when(!/^1\.\d+$/.test(String(r.props.version ?? "")), `Kubernetes version ${JSON.stringify(r.props.version)} is not pinned to 1.NN`),
      ...when(get(r.props, "upgradePolicy.supportType") !== "STANDARD", "upgradePolicy.supportType is not STANDARD: an old version would move to paid extended support"),
    ],
  },
  {
    name: "eks-secrets-encryption",
    description: "Kubernetes secrets are encrypted with a KMS key.",
    enforcement: "mandatory",
    remediation: "Pass encryptionConfigKeyArn to the cluster.",
    types: [EKS],
    check: (r) => when(!r.props.encryptionConfigKeyArn, "Kubernetes secrets are not envelope-encrypted with KMS"),
  },
  {
    name: "eks-control-plane-logging",
    description: "EKS control-plane logs api, audit and authenticator are on.",
    enforcement: "mandatory",
    remediation: "Set enabledClusterLogTypes to include api, audit and authenticator.",
    types: [EKS],
    check: (r) => {
      const types = (r.props.enabledClusterLogTypes as string[] | undefined) ?? [];
      const missing = ["api", "audit", "authenticator"].filter((t) => !types.includes(t));
      return when(missing.length > 0, `control-plane logs missing: ${missing.join(", ")}`);
    },
  },
  {
    name: "eks-public-endpoint-allow-list",
    description: "A public API endpoint is limited to an allow-list of CIDRs.",
    enforcement: "advisory",
    remediation: "Set clusterPublicAccessCidrs to your CI and VPN ranges, or disable the public endpoint.",
    types: [EKS],
    check: (r) => {
      if (r.props.endpointPublicAccess === false) return [];
      const cidrs = (r.props.publicAccessCidrs as string[] | undefined) ?? [];
      // Parsed, not compared as strings: 0.0.0.0/1 + 128.0.0.0/1 is the internet too.
      if (cidrs.length === 0 || isOpenToAll(cidrs)) return ["the Kubernetes API is open to the internet"];
      return allowListProblems(cidrs, { publicSources: true }).map((p) => `public API allow-list: ${p}`);
    },
  },
  {
    name: "zenml-release-versions-match",
    description: "The ZenML chart version equals the image tag and the stack's pinned zenmlVersion, an exact release.",
    enforcement: "mandatory",
    remediation: "Set only zenmlVersion in the stack file; the program derives chart version and image tag from it.",
    types: [RELEASE],
    check: (r, ctx) => {
      if (!String(r.props.chart ?? "").includes("zenml")) return [];
      const version = String(r.props.version ?? "");
      const tag = get(r.props, "values.zenml.image.tag");
      return [
        ...when(semver.valid(version) !== version, `chart version ${JSON.stringify(r.props.version)} is not an exact X.Y.Z release`),
        ...when(tag !== version, `image tag ${JSON.stringify(tag)} differs from chart version ${version}: migrations break when they differ`),
        ...when(ctx.pinnedVersion !== undefined && version !== ctx.pinnedVersion, `chart version ${version} is not the pinned zenmlVersion ${ctx.pinnedVersion}`),
      ];
    },
  },
  {
    name: "zenml-debug-off",
    description: "The ZenML server does not run in debug mode.",
    enforcement: "mandatory",
    remediation: "Set zenml.debug: false (the chart defaults to true).",
    types: [RELEASE],
    check: (r) => when(String(r.props.chart ?? "").includes("zenml") && get(r.props, "values.zenml.debug") !== false, "zenml.debug is not false"),
  },
  {
    name: "zenml-db-password-not-inline",
    description: "The database password reaches ZenML through a Kubernetes secret, never inline in values.",
    enforcement: "mandatory",
    remediation: "Use zenml.database.passwordSecretRef and a URL without a password.",
    types: [RELEASE],
    check: (r) => {
      if (!String(r.props.chart ?? "").includes("zenml")) return [];
      const url = String(get(r.props, "values.zenml.database.url") ?? "");
      const ref = get(r.props, "values.zenml.database.passwordSecretRef") as { name?: string; key?: string } | undefined;
      return [
        ...when(/:\/\/[^/@:]+:[^/@]+@/.test(url), "the database URL carries a password"),
        ...when(get(r.props, "values.zenml.database.password") !== undefined, "zenml.database.password is set inline"),
        ...when(!ref?.name || !ref?.key, "zenml.database.passwordSecretRef is missing"),
      ];
    },
  },
];

function childrenOf(resources: PolicyInput[], parent: string | undefined, type: string): PolicyInput[] {
  return resources.filter((r) => r.type === type && parent !== undefined && r.parent === parent);
}

export const STACK_RULES: StackRule[] = [
  {
    name: "environment-kind-from-stack-name",
    description: "The environment kind a stack file declares agrees with the one its stack name gives.",
    enforcement: "mandatory",
    remediation: "Set zenml-platform:environment to the kind the stack name gives (prod, prod-*: prod; staging, staging-*: staging), or remove it.",
    check: (_resources, ctx) => (ctx.declaredMismatch ? [{ message: ctx.declaredMismatch }] : []),
  },
  {
    name: "s3-bucket-hardened",
    description: "Every bucket blocks all public access, is encrypted, versioned, and denies non-TLS requests.",
    enforcement: "mandatory",
    remediation: "Create the bucket through the ArtifactStore component, which adds all four.",
    check: (resources) =>
      resources
        .filter((r) => r.type === BUCKET)
        .flatMap((bucket) => {
          const of = (type: string) => childrenOf(resources, bucket.parent, type);
          const block = of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0];
          const blocked = block && ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((k) => block.props[k] === true);
          const sse = of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0];
          const sseRules = (sse?.props.rules as unknown[] | undefined) ?? [];
          const encrypted = sseRules.some((rule) => ["aws:kms", "aws:kms:dsse", "AES256"].includes(String(get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm"))));
          const versioning = of("aws:s3/bucketVersioning:BucketVersioning")[0];
          const tlsOnly = of("aws:s3/bucketPolicy:BucketPolicy").some((p) => deniesInsecureTransport(p.props.policy));
          return [
            ...when(!blocked, `bucket ${bucket.name}: public access is not fully blocked`),
            ...when(!encrypted, `bucket ${bucket.name}: no default encryption`),
            ...when(get(versioning?.props, "versioningConfiguration.status") !== "Enabled", `bucket ${bucket.name}: versioning is not enabled`),
            ...when(!tlsOnly, `bucket ${bucket.name}: no policy denying non-TLS requests`),
          ].map((message) => ({ message, urn: bucket.urn }));
        }),
  },
  {
    name: "prod-stateful-protected",
    description: "In prod, every stateful resource (database, bucket, registry, keys, generated secrets) is protected.",
    enforcement: "mandatory",
    remediation: "Pass protect: true for prod (the components do this from the environment kind).",
    check: (resources, ctx) =>
      ctx.isProd ? resources.filter((r) => STATEFUL_TYPES.includes(r.type) && !r.protect).map((r) => ({ message: `${r.type} ${r.name} is not protected`, urn: r.urn })) : [],
  },
  {
    name: "snapshot-before-upgrade",
    description: "When the ZenML version changes, a pre-upgrade snapshot of this stack's database is taken for that very upgrade, and the release waits for it.",
    enforcement: "mandatory",
    remediation: "Let the program plan the upgrade (it snapshots the active database and adds the snapshot to the release's dependsOn on every version change); do not hand-edit either.",
    check: (resources) => {
      const snapshots = resources.filter((r) => r.type === SNAPSHOT);
      const releases = resources.filter((r) => r.type === RELEASE && String(r.props.chart ?? "").includes("zenml"));
      const databases = new Set(resources.filter((r) => r.type === RDS).map((r) => r.props.identifier));
      const out: { message: string; urn?: string }[] = [];
      for (const s of snapshots) {
        for (const release of releases.filter((r) => !r.dependencies.includes(s.urn))) out.push({ message: `release ${release.name} does not wait for snapshot ${s.name}`, urn: release.urn });
        const id = String(s.props.dbSnapshotIdentifier ?? "");
        const planned = parseSnapshotId(id);
        for (const release of releases.filter((r) => planned && r.props.version !== planned.toVersion)) {
          out.push({ message: `snapshot ${id} is for an upgrade to ${planned!.toVersion}, but release ${release.name} installs ${String(release.props.version)}`, urn: s.urn });
        }
        if (databases.size > 0 && !databases.has(s.props.dbInstanceIdentifier)) out.push({ message: `snapshot ${id} is of ${String(s.props.dbInstanceIdentifier)}, not of this stack's database`, urn: s.urn });
      }
      return out;
    },
  },
  {
    name: "mysql-major-upgrade-prepared",
    description: "An RDS instance allowed a major version upgrade waits for a pre-upgrade snapshot of itself and for a parameter group of the new engine's family.",
    enforcement: "mandatory",
    remediation: "Change only dbEngineVersion and let the program plan the major upgrade (snapshot, new-family parameter group, allowMajorVersionUpgrade in that update only).",
    check: (resources) => {
      const byUrn = new Map(resources.map((r) => [r.urn, r]));
      const out: { message: string; urn?: string }[] = [];
      for (const db of resources.filter((r) => r.type === RDS && r.props.allowMajorVersionUpgrade === true)) {
        const deps = db.dependencies.map((u) => byUrn.get(u)).filter((r): r is PolicyInput => r !== undefined);
        if (!deps.some((d) => d.type === SNAPSHOT && d.props.dbInstanceIdentifier === db.props.identifier)) out.push({ message: `instance ${String(db.props.identifier)} may upgrade its major version without waiting for a snapshot of itself`, urn: db.urn });
        const family = `mysql${String(db.props.engineVersion)}`;
        if (!deps.some((d) => d.type === PARAMETER_GROUP && d.props.family === family)) out.push({ message: `instance ${String(db.props.identifier)} upgrades to ${String(db.props.engineVersion)} without waiting for a ${family} parameter group`, urn: db.urn });
      }
      return out;
    },
  },
  {
    name: "server-disruption-protected",
    description: "With 2+ server replicas, a PodDisruptionBudget keeps one server pod through voluntary disruption and the node pool replaces one node at a time.",
    enforcement: "mandatory",
    remediation: "Keep the ZenmlServer's PodDisruptionBudget and the Cluster's NodePool disruption budgets (components/zenml-server.ts, components/cluster.ts).",
    check: (resources) => {
      const release = resources.find((r) => r.type === RELEASE && String(r.props.chart ?? "").includes("zenml"));
      const replicas = Number(get(release?.props, "values.zenml.replicaCount") ?? 1);
      if (!release || replicas < 2) return [];
      const out: { message: string; urn?: string }[] = [];
      const pdbs = resources.filter((r) => r.type === "kubernetes:policy/v1:PodDisruptionBudget" && get(r.props, "metadata.namespace") === get(release.props, "namespace"));
      if (!pdbs.some((p) => Number(get(p.props, "spec.minAvailable") ?? 0) >= 1)) out.push({ message: `${replicas} server replicas but no PodDisruptionBudget keeps one available`, urn: release.urn });
      for (const pool of resources.filter((r) => r.type === "kubernetes:karpenter.sh/v1:NodePool")) {
        const budgets = get(pool.props, "spec.disruption.budgets");
        if (!Array.isArray(budgets) || budgets.length === 0) out.push({ message: `NodePool ${pool.name} has no disruption budgets (Karpenter's default lets 10% of nodes go at once)`, urn: pool.urn });
      }
      return out;
    },
  },
];

/** Runs every policy over a stack's resources. */
export function evaluate(resources: PolicyInput[], ctx: PolicyContext): Violation[] {
  const out: Violation[] = [];
  for (const rule of RESOURCE_RULES) {
    for (const r of resources.filter((x) => rule.types.includes(x.type))) {
      for (const message of rule.check(r, ctx)) out.push({ policy: rule.name, enforcement: rule.enforcement, message, urn: r.urn });
    }
  }
  for (const rule of STACK_RULES) {
    for (const v of rule.check(resources, ctx)) out.push({ policy: rule.name, enforcement: rule.enforcement, ...v });
  }
  return out;
}
