// Rules over the whole stack: what a resource's children, dependencies and neighbours must be.
import { parseSnapshotId } from "../components/version-policy";
import { BUCKET, ECR, PARAMETER_GROUP, RDS, SNAPSHOT, findingsAt, get, isZenmlRelease, when, type PolicyInput, type StackRule } from "./model";

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
      const databases = new Set(resources.filter((r) => r.type === RDS).map((r) => r.props.identifier));
      const releases = resources.filter(isZenmlRelease);
      return resources
        .filter((r) => r.type === SNAPSHOT)
        .flatMap((s) => {
          const id = String(s.props.dbSnapshotIdentifier ?? "");
          const planned = parseSnapshotId(id);
          const otherVersion = planned ? releases.filter((r) => r.props.version !== planned.toVersion) : [];
          return [
            ...releases.filter((r) => !r.dependencies.includes(s.urn)).map((release) => ({ message: `release ${release.name} does not wait for snapshot ${s.name}`, urn: release.urn })),
            ...findingsAt(s.urn, [
              ...otherVersion.map((release) => `snapshot ${id} is for an upgrade to ${planned?.toVersion}, but release ${release.name} installs ${String(release.props.version)}`),
              ...when(databases.size > 0 && !databases.has(s.props.dbInstanceIdentifier), `snapshot ${id} is of ${String(s.props.dbInstanceIdentifier)}, not of this stack's database`),
            ]),
          ];
        });
    },
  },
  {
    name: "mysql-major-upgrade-prepared",
    description: "An RDS instance allowed a major version upgrade waits for a pre-upgrade snapshot of itself and for a parameter group of the new engine's family.",
    enforcement: "mandatory",
    remediation: "Change only dbEngineVersion and let the program plan the major upgrade (snapshot, new-family parameter group, allowMajorVersionUpgrade in that update only).",
    check: (resources) => {
      const byUrn = new Map(resources.map((r) => [r.urn, r]));
      return resources
        .filter((r) => r.type === RDS && r.props.allowMajorVersionUpgrade === true)
        .flatMap((db) => {
          const deps = db.dependencies.map((u) => byUrn.get(u)).filter((r): r is PolicyInput => r !== undefined);
          const id = String(db.props.identifier);
          const family = `mysql${String(db.props.engineVersion)}`;
          return findingsAt(db.urn, [
            ...when(!deps.some((d) => d.type === SNAPSHOT && d.props.dbInstanceIdentifier === db.props.identifier), `instance ${id} may upgrade its major version without waiting for a snapshot of itself`),
            ...when(!deps.some((d) => d.type === PARAMETER_GROUP && d.props.family === family), `instance ${id} upgrades to ${String(db.props.engineVersion)} without waiting for a ${family} parameter group`),
          ]);
        });
    },
  },
  {
    name: "server-disruption-protected",
    description: "With 2+ server replicas, a PodDisruptionBudget keeps one server pod through voluntary disruption and the node pool replaces one node at a time.",
    enforcement: "mandatory",
    remediation: "Keep the ZenmlServer's PodDisruptionBudget and the Cluster's NodePool disruption budgets (components/zenml-server.ts, components/cluster.ts).",
    check: (resources) => {
      const release = resources.find(isZenmlRelease);
      const replicas = Number(get(release?.props, "values.zenml.replicaCount") ?? 1);
      if (!release || replicas < 2) return [];
      const pdbs = resources.filter((r) => r.type === "kubernetes:policy/v1:PodDisruptionBudget" && get(r.props, "metadata.namespace") === get(release.props, "namespace"));
      const unbudgeted = resources.filter((r) => {
        const budgets = get(r.props, "spec.disruption.budgets");
        return r.type === "kubernetes:karpenter.sh/v1:NodePool" && (!Array.isArray(budgets) || budgets.length === 0);
      });
      return [
        ...findingsAt(release.urn, when(!pdbs.some((p) => Number(get(p.props, "spec.minAvailable") ?? 0) >= 1), `${replicas} server replicas but no PodDisruptionBudget keeps one available`)),
        ...unbudgeted.map((pool) => ({ message: `NodePool ${pool.name} has no disruption budgets (Karpenter's default lets 10% of nodes go at once)`, urn: pool.urn })),
      ];
    },
  },
];
