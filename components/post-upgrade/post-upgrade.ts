import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { POST_UPGRADE_CONTAINER, POST_UPGRADE_NAMESPACE, postUpgradeDigest, type PipelineCatalogue, type SourceFiles } from "./pipeline-catalogue";
import { readPayload } from "../kit/payload";
import { RESTRICTED_CONTAINER } from "../kit/pod-security";
import { scriptJob, shipPayload } from "../kit/script-job";
import { zenmlClientEnv, zenmlClientImage, zenmlImageTag, type ZenmlImage } from "../kit/zenml-client";

const SCRIPT = "post_upgrade.py";

export interface PostUpgradeArgs {
  environmentName: string;
  /**
   * The Job's image (components/post-upgrade/image): this ZenML with what the stack's integrations
   * need, installed from a locked, hashed set when it was built, so the Job installs nothing.
   * Our repository in the environment's ECR, tagged `<version>-<inputs hash>@sha256:<digest>`.
   */
  image: ZenmlImage;
  /** The ZenML stack the pipelines run on (registered by ZenmlStack). */
  stackName: pulumi.Input<string>;
  catalogue: PipelineCatalogue;
  /** In-repo source files of the catalogue's entries, shipped with the Job. */
  sources: SourceFiles;
  provider: k8s.Provider;
  /** What must be done before this Job starts: the Helm release and the stack registration. */
  dependsOn: pulumi.Resource[];
  /** Seconds the Job may run before Kubernetes stops it. Default: 3600. */
  activeDeadlineSeconds?: number;
}

/**
 * After the server is upgraded, rebuilds the users' work with the new client: each catalogue entry's
 * snapshot, run template and schedule, then one smoke run (components/post-upgrade/post_upgrade.py). Pulumi does
 * not wait for it; the deploy workflow does (`npm run post-upgrade:wait`) and publishes its report.
 */
export class PostUpgrade extends pulumi.ComponentResource {
  public readonly jobName: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: PostUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zenml-platform:index:PostUpgrade", name, {}, opts);
    // The admin credentials' Secret lives in the server's namespace, which is this one.
    const k8sOpts = { parent: this, provider: args.provider };
    const script = readPayload(__dirname, SCRIPT, "post-upgrade script");
    const resourceName = `zenml-post-upgrade-${postUpgradeDigest(zenmlImageTag(args.image), args.catalogue, args.sources, script)}`;
    const labels = { "app.kubernetes.io/managed-by": "zenml-platform", "app.kubernetes.io/component": "post-upgrade" };

    const payload = shipPayload(
      `${name}-files`,
      {
        name: resourceName,
        namespace: POST_UPGRADE_NAMESPACE,
        labels,
        files: { [SCRIPT]: script, "catalogue.json": JSON.stringify(args.catalogue, null, 2), "sources.json": JSON.stringify(args.sources) },
        volumeName: "files",
        mountPath: "/opt/zenml-platform",
      },
      k8sOpts,
    );
    const job = scriptJob(
      `${name}-job`,
      {
        name: resourceName,
        namespace: POST_UPGRADE_NAMESPACE,
        labels,
        // The deploy workflow waits with its own timeout and publishes the report; `pulumi up` must not block on pipelines.
        annotations: { "pulumi.com/skipAwait": "true" },
        // A red report is a finding, not a flake: never re-run the rebuild on its own.
        backoffLimit: 0,
        activeDeadlineSeconds: args.activeDeadlineSeconds ?? 3600,
        payload,
        container: {
          name: POST_UPGRADE_CONTAINER,
          securityContext: RESTRICTED_CONTAINER,
          image: zenmlClientImage(args.image),
          // No shell and no install: everything the script imports is in the image. $(VAR) is Kubernetes' expansion.
          command: ["python", `/opt/zenml-platform/${SCRIPT}`],
          args: ["--catalogue", "/opt/zenml-platform/catalogue.json", "--sources", "/opt/zenml-platform/sources.json", "--workdir", "/tmp", "--stack", "$(ZENML_PLATFORM_STACK)"],
          env: [...zenmlClientEnv(), { name: "ZENML_PLATFORM_STACK", value: args.stackName }, { name: "HOME", value: "/tmp" }],
          volumeMounts: [payload.mount, { name: "tmp", mountPath: "/tmp" }],
          resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
        },
        volumes: [{ name: "tmp", emptyDir: {} }],
      },
      { ...k8sOpts, dependsOn: [...args.dependsOn, payload.configMap] },
    );

    this.jobName = job.metadata.name;
    this.namespace = pulumi.output(POST_UPGRADE_NAMESPACE);
    this.registerOutputs({ jobName: this.jobName, namespace: this.namespace });
  }
}
