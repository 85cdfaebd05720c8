import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ZENML_SERVER_IMAGE } from "./image-lock";
import { baseTags } from "./kit/tags";

/** ECR repository prefix under which Docker Hub images are cached. */
export const DOCKER_HUB_PREFIX = "docker-hub";

export interface ImageMirrorArgs {
  environmentName: string;
  /** Secrets Manager secret (name "ecr-pullthroughcache/...") with Docker Hub credentials, which ECR requires for that upstream. */
  dockerHubCredentialArn: string;
  /** The cluster's node role: it pulls, and on a cache miss imports, the upstream image. */
  nodeRoleName: pulumi.Input<string>;
  /** Protects the cached repository, so the old tags a rollback needs outlive a bad destroy (prod). */
  protect: boolean;
}

/**
 * Server images come from our own ECR through a pull-through cache, not from Docker Hub at every
 * pod start. The repository is created here rather than on the first pull, so it carries our
 * settings: scanned, KMS-encrypted, no lifecycle rule, so every tag ever pulled stays for a rollback.
 */
export class ImageMirror extends pulumi.ComponentResource {
  /** `<account>.dkr.ecr.<region>.amazonaws.com/docker-hub/zenmldocker/zenml-server` */
  public readonly serverImageRepository: pulumi.Output<string>;

  constructor(name: string, args: ImageMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:ImageMirror", name, {}, opts);
    const tags = baseTags(args.environmentName, "image-mirror");
    const prefix = `${DOCKER_HUB_PREFIX}-${args.environmentName}`;

    const rule = new aws.ecr.PullThroughCacheRule(
      `${name}-docker-hub`,
      { ecrRepositoryPrefix: prefix, upstreamRegistryUrl: "registry-1.docker.io", credentialArn: args.dockerHubCredentialArn },
      { parent: this },
    );
    const repository = new aws.ecr.Repository(
      `${name}-zenml-server`,
      {
        name: `${prefix}/${ZENML_SERVER_IMAGE}`,
        // A cached tag never changes under us: a re-pushed upstream tag cannot replace what prod ran.
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS" }],
        forceDelete: false,
        tags,
      },
      { parent: this, protect: args.protect, dependsOn: [rule] },
    );
    new aws.iam.RolePolicy(
      `${name}-node-pull`,
      {
        role: args.nodeRoleName,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "PullThroughCache", Effect: "Allow", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"], Resource: repository.arn }],
        }),
      },
      { parent: this },
    );

    this.serverImageRepository = repository.repositoryUrl;
    this.registerOutputs({ serverImageRepository: this.serverImageRepository });
  }
}
