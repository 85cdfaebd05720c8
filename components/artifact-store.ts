import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { baseTags } from "./kit/tags";

export interface ArtifactStoreArgs {
  environmentName: string;
  /** Days a replaced or deleted artifact version is kept before it expires. */
  noncurrentVersionDays: number;
  /** Protects the bucket and its key from deletion and replacement (prod). */
  protect: boolean;
}

/** What a workload needs to use the artifact bucket. */
export type ArtifactBucket = Pick<ArtifactStore, "bucketName" | "bucketArn" | "kmsKeyArn">;

/** The S3 bucket ZenML writes artifacts to: private, encrypted, versioned, TLS only. */
export class ArtifactStore extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: ArtifactStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:ArtifactStore", name, {}, opts);
    const tags = baseTags(args.environmentName, "artifact-store");
    const stateful = { parent: this, protect: args.protect };

    const key = new aws.kms.Key(
      `${name}-key`,
      { description: `zenml-${args.environmentName} artifact store encryption`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
      stateful,
    );
    // Auto-named (a random suffix) because bucket names are global; never force-destroyed.
    const bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: false, tags }, stateful);
    const child = { parent: this };

    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
    new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, child);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }] },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          { id: "expire-noncurrent-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays } },
          { id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
        ],
      },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket: bucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      child,
    );

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = key.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}
