// The platform's policies as plain functions over plain resources, so they run the same under
// CrossGuard (index.ts) and in unit tests over the offline plan, without a policy server.
import * as semver from "semver";
import { ENVIRONMENT_MINIMUMS } from "../components/config";

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
  isProd: boolean;
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
export const STATEFUL_TYPES = [RDS, BUCKET, ECR, "aws:kms/key:Key", "random:index/randomPassword:RandomPassword"];

const get = (value: unknown, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), value);
const when = (failed: boolean, message: string) => (failed ? [message] : []);

/** Prod-ness comes from the stack name; the policy pack's config can name other prod stacks. */
export function contextFor(urn: string, prodStacks: readonly string[] = ["prod"]): PolicyContext {
  const stack = /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? "";
  return { stack, isProd: prodStacks.includes(stack) };
}

export const RESOURCE_RULES: ResourceRule[] = [
  {
    name: "rds-backups-minimum",
    description: "RDS keeps automated backups at least as long as the environment requires (staging 7 days, prod 14).",
    enforcement: "mandatory",
    remediation: "Raise dbBackupRetentionDays in the stack file.",
    types: [RDS],
    check: (r, ctx) => {
      const min = ENVIRONMENT_MINIMUMS[ctx.isProd ? "prod" : "staging"].backupRetentionDays;
      const days = Number(r.props.backupRetentionPeriod ?? 0);
      return when(days < min, `automated backups kept ${days} days; ${ctx.isProd ? "prod" : "staging"} needs at least ${min}`);
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
    description: "The EKS version is pinned to a minor version.",
    enforcement: "mandatory",
    remediation: 'Set kubernetesVersion to "1.NN" in the stack file.',
    types: [EKS],
    check: (r) => when(!/^1\.\d+$/.test(String(r.props.version ?? "")), `Kubernetes version ${JSON.stringify(r.props.version)} is not pinned to 1.NN`),
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
      return when(cidrs.length === 0 || cidrs.includes("0.0.0.0/0"), "the Kubernetes API is open to the internet");
    },
  },
  {
    name: "zenml-release-versions-match",
    description: "The ZenML chart version equals the image tag, and both are an exact release.",
    enforcement: "mandatory",
    remediation: "Set only zenmlVersion; the program derives chart version and image tag from it.",
    types: [RELEASE],
    check: (r) => {
      if (!String(r.props.chart ?? "").includes("zenml")) return [];
      const version = String(r.props.version ?? "");
      const tag = get(r.props, "values.zenml.image.tag");
      return [
        ...when(semver.valid(version) !== version, `chart version ${JSON.stringify(r.props.version)} is not an exact X.Y.Z release`),
        ...when(tag !== version, `image tag ${JSON.stringify(tag)} differs from chart version ${version}: migrations break when they differ`),
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
          const versioning = of("aws:s3/bucketVersioning:BucketVersioning")[0];
          const policies = of("aws:s3/bucketPolicy:BucketPolicy").map((p) => String(p.props.policy ?? ""));
          const tlsOnly = policies.some((p) => p.includes('"aws:SecureTransport":"false"') && p.includes('"Deny"'));
          return [
            ...when(!blocked, `bucket ${bucket.name}: public access is not fully blocked`),
            ...when(!sse, `bucket ${bucket.name}: no default encryption`),
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
    description: "When a pre-upgrade snapshot is taken, the ZenML release waits for it.",
    enforcement: "mandatory",
    remediation: "Add the snapshot to the release's dependsOn (the program does this on every version change).",
    check: (resources) => {
      const snapshots = resources.filter((r) => r.type === SNAPSHOT);
      const releases = resources.filter((r) => r.type === RELEASE && String(r.props.chart ?? "").includes("zenml"));
      return releases.flatMap((release) =>
        snapshots.filter((s) => !release.dependencies.includes(s.urn)).map((s) => ({ message: `release ${release.name} does not wait for snapshot ${s.name}`, urn: release.urn })),
      );
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
