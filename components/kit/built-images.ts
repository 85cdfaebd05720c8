// The images we build ourselves (the post-upgrade Job's client, the MLflow server): one per pinned
// version, from a Dockerfile and a locked, hashed requirements file in the repo, pushed by the images
// workflow to each environment's ECR and pinned by digest in images.lock.yaml. No Pulumi here: the
// program, the lock and build tools and the tests share it.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { IMAGE_LOCK_FILE, type ImageLock } from "../image-lock";

export type BuiltImageName = "post-upgrade" | "mlflow";

export interface BuiltImage {
  name: BuiltImageName;
  /** Folder from the project root: Dockerfile, the short requirements input, locks/. */
  dir: string;
  /** The short input: the version written as `${<versionArg>}`. */
  input: string;
  /** The build argument (and input placeholder) carrying the version. */
  versionArg: string;
  /** The stack config key whose value is the version. */
  configKey: "zenmlVersion" | "mlflowVersion";
  /** locks/<lockPrefix>-<version>.in and .txt */
  lockPrefix: string;
  /** ZenML integrations whose requirements (as that ZenML exports them) join the input. */
  zenmlIntegrations: string[];
  /** What the image is for, in messages. */
  purpose: string;
}

export const BUILT_IMAGES: Record<BuiltImageName, BuiltImage> = {
  "post-upgrade": {
    name: "post-upgrade",
    dir: "components/post-upgrade/image",
    input: "requirements.in",
    versionArg: "ZENML_VERSION",
    configKey: "zenmlVersion",
    lockPrefix: "zenml",
    // What the registered stack's flavors need on the client: S3 artifact store, ECR and the
    // CodeBuild image builder (aws), the Kubernetes orchestrator.
    zenmlIntegrations: ["s3", "aws", "kubernetes"],
    purpose: "the post-upgrade Job's client",
  },
  mlflow: {
    name: "mlflow",
    dir: "components/mlflow/image",
    input: "requirements.txt",
    versionArg: "MLFLOW_VERSION",
    configKey: "mlflowVersion",
    lockPrefix: "mlflow",
    zenmlIntegrations: [],
    purpose: "the MLflow server and its Jobs",
  },
};

/** Every built image starts from this Docker Hub image, pinned by digest in the lock like the server's. */
export const BASE_IMAGE = { repository: "library/python", tag: "3.11-slim-bookworm" } as const;
/** The base image's Python: the locks are resolved for it. */
export const BASE_PYTHON = "3.11";
/** The lock's repository key of a built image (the same bytes in every environment's registry). */
export const builtLockRepository = (name: BuiltImageName) => `zenml-platform/${name}`;
/** The repository in an environment's ECR that the images workflow pushes to. */
export const builtEcrRepository = (environment: string, name: BuiltImageName) => `zenml-platform-${environment}/${name}`;
export const lockedRequirementsFile = (image: BuiltImage, version: string) => `${image.dir}/locks/${image.lockPrefix}-${version}.txt`;
export const lockedInputFile = (image: BuiltImage, version: string) => `${image.dir}/locks/${image.lockPrefix}-${version}.in`;
export const lockCommand = (image: BuiltImage, version: string) => `npm run lock-images -- --image ${image.name} --version ${version}`;
/** What builds a missing image and records its digest (.github/workflows/images.yml). */
export const BUILD_COMMAND = "gh workflow run images.yml --ref <your branch>";

/**
 * The tag a build of `version` gets: the version, then a hash of everything the image is made of
 * (Dockerfile, locked requirements, base image digest), so a changed input is a new tag and a pushed
 * tag (immutable in ECR) never changes meaning.
 */
export function builtImageTag(projectDir: string, image: BuiltImage, version: string, baseDigest: string): string {
  const hash = createHash("sha256");
  for (const file of [`${image.dir}/Dockerfile`, lockedRequirementsFile(image, version)]) hash.update(file).update("\0").update(fs.readFileSync(path.join(projectDir, file))).update("\0");
  hash.update(baseDigest);
  return `${version}-${hash.digest("hex").slice(0, 12)}`;
}

/** A built image as a stack runs it: `<environment's ECR>/<builtEcrRepository>:<tag>@<digest>`. */
export interface LockedBuiltImage {
  tag: string;
  digest: string;
  /** `<lock repository>:<tag>@<digest>`: the same in every environment, what names the objects that run it. */
  id: string;
}

export type BuiltImageResolution =
  | { ok: true; tag: string; digest: string; lockRepository: string; /** Offline only: why the digest is a stand-in. */ standIn?: string }
  | { ok: false; problem: string };

/**
 * The locked `<tag>@<digest>` of `image` at `version`, or why there is none and the command that
 * fixes it. With `standIn` (offline plans, where the workflow cannot run) a missing digest becomes a
 * recognisable stand-in instead.
 */
export function resolveBuiltImage(projectDir: string, lock: ImageLock, image: BuiltImage, version: string, stack: string, standIn = false): BuiltImageResolution {
  const requirements = lockedRequirementsFile(image, version);
  const what = `${image.purpose} (stack ${stack}, ${image.configKey} ${version})`;
  const lockRepository = builtLockRepository(image.name);
  const standInOf = (tag: string, problem: string): BuiltImageResolution => ({ ok: true, tag, digest: `sha256:${createHash("sha256").update(`offline stand-in for ${lockRepository}:${tag}`).digest("hex")}`, lockRepository, standIn: problem });
  if (!fs.existsSync(path.join(projectDir, requirements))) {
    const problem = `${requirements} is missing: ${what} has no locked requirements; run \`${lockCommand(image, version)}\` and commit the files it writes`;
    return standIn ? standInOf(`${version}-unlocked`, problem) : { ok: false, problem };
  }
  const baseDigest = lock[BASE_IMAGE.repository]?.[BASE_IMAGE.tag];
  const tag = builtImageTag(projectDir, image, version, baseDigest ?? "unpinned");
  const digest = baseDigest === undefined ? undefined : lock[lockRepository]?.[tag];
  if (digest !== undefined) return { ok: true, tag, digest, lockRepository };
  const missing = baseDigest === undefined ? `the base image ${BASE_IMAGE.repository}:${BASE_IMAGE.tag}, so none for ${lockRepository}:${tag}` : `${lockRepository}:${tag}`;
  const problem = `${IMAGE_LOCK_FILE} has no digest for ${missing}, ${what}: build and push it with \`${BUILD_COMMAND}\` (the images workflow records the digest in ${IMAGE_LOCK_FILE}), then pull the commit it adds`;
  return standIn ? standInOf(tag, problem) : { ok: false, problem };
}

/** The warning an offline plan carries for each stand-in: the refusal a real preview would give. */
export function standInWarning(stack: string, problem: string): string {
  return `offline plan of stack ${stack}, planned with a stand-in image digest; a real preview or deploy refuses: ${problem}`;
}
