// What the images workflow must build: the images the stack files need (the post-upgrade Job for
// every zenmlVersion, MLflow for every mlflowVersion that runs our image) whose digest
// images.lock.yaml lacks, each with its tag, build context and the base image pinned by digest.
import * as fs from "node:fs";
import * as path from "node:path";
import { IMAGE_LOCK_FILE, type ImageLock } from "../../components/image-lock";
import { BASE_IMAGE, BUILT_IMAGES, builtImageTag, builtLockRepository, lockCommand, lockedRequirementsFile, type BuiltImage } from "../../components/kit/built-images";
import { listStacks, readStackConfig } from "../offline/stack-files";

export interface NeededImage {
  image: BuiltImage;
  version: string;
  /** The stacks whose pins need it. */
  stacks: string[];
}

/** Every (image, version) a stack file's pins run, once. */
export function neededImages(projectDir: string): NeededImage[] {
  const needed = new Map<string, NeededImage>();
  for (const stack of listStacks(projectDir)) {
    const values = readStackConfig(projectDir, stack).values;
    const value = (key: string) => values[`zenml-platform:${key}`] ?? "";
    const add = (image: BuiltImage, version: string) => {
      const key = `${image.name}@${version}`;
      const entry = needed.get(key) ?? { image, version, stacks: [] };
      entry.stacks.push(stack);
      needed.set(key, entry);
    };
    if (value("zenmlVersion") !== "") add(BUILT_IMAGES["post-upgrade"], value("zenmlVersion"));
    if (value("mlflowVersion") !== "" && value("mlflowImage") === "") add(BUILT_IMAGES.mlflow, value("mlflowVersion"));
  }
  return [...needed.values()];
}

export interface PlannedBuild {
  image: string;
  version: string;
  tag: string;
  /** Build context from the project root. */
  context: string;
  /** `--build-arg <versionArg>=<version>` */
  versionArg: string;
  /** images.lock.yaml's repository key. */
  lockRepository: string;
}

export interface BuildPlan {
  /** `docker.io/library/python:<tag>@<digest>` */
  base: string;
  baseRecord: string;
  builds: PlannedBuild[];
  /** Locked already: nothing to build. */
  locked: string[];
  problems: string[];
}

export function buildPlan(projectDir: string, lock: ImageLock): BuildPlan {
  const baseDigest = lock[BASE_IMAGE.repository]?.[BASE_IMAGE.tag];
  const plan: BuildPlan = { base: "", baseRecord: "", builds: [], locked: [], problems: [] };
  if (baseDigest === undefined) {
    plan.problems.push(`${IMAGE_LOCK_FILE} has no digest for the base image ${BASE_IMAGE.repository}:${BASE_IMAGE.tag}: run \`npm run pin-images -- --base\` first`);
    return plan;
  }
  plan.base = `docker.io/${BASE_IMAGE.repository}:${BASE_IMAGE.tag}@${baseDigest}`;
  plan.baseRecord = `${BASE_IMAGE.repository}:${BASE_IMAGE.tag}@${baseDigest}`;
  for (const { image, version, stacks } of neededImages(projectDir)) {
    if (!fs.existsSync(path.join(projectDir, lockedRequirementsFile(image, version)))) {
      plan.problems.push(`${lockedRequirementsFile(image, version)} is missing (${stacks.join(", ")} pin ${image.configKey} ${version}): run \`${lockCommand(image, version)}\` and commit the files it writes`);
      continue;
    }
    const tag = builtImageTag(projectDir, image, version, baseDigest);
    const lockRepository = builtLockRepository(image.name);
    if (lock[lockRepository]?.[tag] !== undefined) {
      plan.locked.push(`${lockRepository}:${tag}@${lock[lockRepository][tag]}`);
      continue;
    }
    plan.builds.push({ image: image.name, version, tag, context: image.dir, versionArg: image.versionArg, lockRepository });
  }
  return plan;
}
