import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { POST_UPGRADE_CONTAINER, POST_UPGRADE_NAMESPACE, postUpgradeDigest, type PipelineCatalogue, type SourceFiles } from "./pipeline-catalogue";
import { ADMIN_SECRET, IN_CLUSTER_URL, RESTRICTED_CONTAINER, RESTRICTED_POD } from "../zenml-server";

export const POST_UPGRADE_SCRIPT = path.join(__dirname, "post_upgrade.py");

export interface PostUpgradeArgs {
  environmentName: string;
  /** The client in the job runs exactly the server's version. */
  zenmlVersion: string;
  /**
   * The Job's image (components/post-upgrade/image): this ZenML with what the stack's integrations
   * need, installed from a locked, hashed set when it was built, so the Job installs nothing.
   * Our repository in the environment's ECR.
   */
  imageRepository: pulumi.Input<string>;
  /** `<version>-<inputs hash>@sha256:<digest>`, as images.lock.yaml records it. */
  imageTag: string;
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
    const script = readPostUpgradeScript();
    const digest = postUpgradeDigest(args.imageTag, args.catalogue, args.sources, script);
    const resourceName = `zenml-post-upgrade-${digest}`;
    const labels = { "app.kubernetes.io/managed-by": "zenml-platform", "app.kubernetes.io/component": "post-upgrade" };

    // Immutable inputs, named by digest: a changed version, catalogue, source or script is a new ConfigMap and Job.
    const files = new k8s.core.v1.ConfigMap(
      `${name}-files`,
      {
        metadata: { name: resourceName, namespace: POST_UPGRADE_NAMESPACE, labels },
        immutable: true,
        data: { "post_upgrade.py": script, "catalogue.json": JSON.stringify(args.catalogue, null, 2), "sources.json": JSON.stringify(args.sources) },
      },
      k8sOpts,
    );
    const credential = (key: string) => ({ valueFrom: { secretKeyRef: { name: ADMIN_SECRET, key } } });
    const job = new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: {
          name: resourceName,
          namespace: POST_UPGRADE_NAMESPACE,
          labels,
          // The deploy workflow waits with its own timeout and publishes the report; `pulumi up` must not block on pipelines.
          annotations: { "pulumi.com/skipAwait": "true" },
        },
        spec: {
          // A red report is a finding, not a flake: never re-run the rebuild on its own.
          backoffLimit: 0,
          activeDeadlineSeconds: args.activeDeadlineSeconds ?? 3600,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: "Never",
              automountServiceAccountToken: false,
              securityContext: RESTRICTED_POD,
              containers: [
                {
                  name: POST_UPGRADE_CONTAINER,
                  securityContext: RESTRICTED_CONTAINER,
                  image: pulumi.interpolate`${args.imageRepository}:${args.imageTag}`,
                  // No shell and no install: everything the script imports is in the image. $(VAR) is Kubernetes' expansion.
                  command: ["python", "/opt/zenml-platform/post_upgrade.py"],
                  args: ["--catalogue", "/opt/zenml-platform/catalogue.json", "--sources", "/opt/zenml-platform/sources.json", "--workdir", "/tmp", "--stack", "$(ZENML_PLATFORM_STACK)"],
                  env: [
                    { name: "ZENML_STORE_URL", value: IN_CLUSTER_URL },
                    { name: "ZENML_STORE_USERNAME", ...credential("username") },
                    { name: "ZENML_STORE_PASSWORD", ...credential("password") },
                    { name: "ZENML_ANALYTICS_OPT_IN", value: "false" },
                    { name: "ZENML_PLATFORM_STACK", value: args.stackName },
                    { name: "HOME", value: "/tmp" },
                  ],
                  volumeMounts: [
                    { name: "files", mountPath: "/opt/zenml-platform", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                  resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
                },
              ],
              volumes: [
                { name: "files", configMap: { name: files.metadata.name } },
                { name: "tmp", emptyDir: {} },
              ],
            },
          },
        },
      },
      { ...k8sOpts, dependsOn: [...args.dependsOn, files] },
    );

    this.jobName = job.metadata.name;
    this.namespace = pulumi.output(POST_UPGRADE_NAMESPACE);
    this.registerOutputs({ jobName: this.jobName, namespace: this.namespace });
  }
}

function readPostUpgradeScript(): string {
  try {
    return fs.readFileSync(POST_UPGRADE_SCRIPT, "utf8");
  } catch {
    throw new Error(`The post-upgrade script ${POST_UPGRADE_SCRIPT} is missing from this checkout.`);
  }
}
