// Rules over one resource at a time: the database, buckets, registries, the cluster, the release.
import * as semver from "semver";
import { ENVIRONMENT_MINIMUMS } from "../components/config";
import { allowListProblems, isOpenToAll } from "../components/cidr";
import { BUCKET, ECR, EKS, RDS, RELEASE, get, isZenmlRelease, when, type ResourceRule } from "./model";

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
      if (!isZenmlRelease(r)) return [];
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
    check: (r) => when(isZenmlRelease(r) && get(r.props, "values.zenml.debug") !== false, "zenml.debug is not false"),
  },
  {
    name: "zenml-db-password-not-inline",
    description: "The database password reaches ZenML through a Kubernetes secret, never inline in values.",
    enforcement: "mandatory",
    remediation: "Use zenml.database.passwordSecretRef and a URL without a password.",
    types: [RELEASE],
    check: (r) => {
      if (!isZenmlRelease(r)) return [];
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
