import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { baseTags } from "./kit/tags";

export interface ContainerRegistryArgs {
  environmentName: string;
  /** Days an untagged image (a superseded build) is kept. */
  untaggedImageDays: number;
  /** Protects the repository from deletion and replacement (prod). */
  protect: boolean;
}

/**
 * ECR for pipeline images. ZenML pushes `<registry host>/<repository>:<pipeline>-orchestrator` and
 * re-pushes the same tag on every rebuild, then runs by digest: tags must stay MUTABLE.
 */
export class ContainerRegistry extends pulumi.ComponentResource {
  /** The registry host, what ZenML's ECR component takes as `uri` (it refuses a path). */
  public readonly registryUri: pulumi.Output<string>;
  /** The repository inside it, ZenML's `default_repository`. */
  public readonly repositoryName: pulumi.Output<string>;
  public readonly repositoryUrl: pulumi.Output<string>;
  public readonly repositoryArn: pulumi.Output<string>;

  constructor(name: string, args: ContainerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:ContainerRegistry", name, {}, opts);
    const tags = baseTags(args.environmentName, "container-registry");
    const namespace = `zenml-${args.environmentName}`;

    const repository = new aws.ecr.Repository(
      `${name}-repository`,
      {
        name: `${namespace}/zenml`,
        imageTagMutability: "MUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS" }],
        forceDelete: false,
        tags,
      },
      { parent: this, protect: args.protect },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      {
        repository: repository.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: `expire untagged images after ${args.untaggedImageDays} days`,
              selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: args.untaggedImageDays },
              action: { type: "expire" },
            },
          ],
        }),
      },
      { parent: this },
    );

    this.repositoryUrl = repository.repositoryUrl;
    this.repositoryArn = repository.arn;
    this.registryUri = repository.repositoryUrl.apply((url) => url.split("/")[0]);
    this.repositoryName = repository.name;
    this.registerOutputs({ registryUri: this.registryUri, repositoryUrl: this.repositoryUrl });
  }
}
