// ECR's scan-on-push results for the images we built that a stack runs, read at deploy time for the
// deploy record: per platform image (a multi-arch index is not scanned itself, its manifests are),
// the scan's status and its findings by severity.
import { readImageLock } from "../../components/image-lock";
import { BUILT_IMAGES, builtEcrRepository, builtImageTag, builtLockRepository, BASE_IMAGE, type BuiltImage } from "../../components/kit/built-images";
import { readStackConfig } from "../offline/stack-files";

export const SCANS_KIND = "zenml-platform/image-scans";

export interface ImageScan {
  image: string;
  repository: string;
  /** The platform manifest that was scanned. */
  digest: string;
  platform: string;
  /** ECR's imageScanStatus.status (COMPLETE, FAILED, ...), or UNAVAILABLE when it could not be read. */
  status: string;
  severityCounts: Record<string, number>;
  detail?: string;
}

export interface ImageScans {
  kind: typeof SCANS_KIND;
  stack: string;
  scans: ImageScan[];
}

/** Runs `aws <args>` and returns its stdout; throws with the CLI's message on failure. */
export type Aws = (args: string[]) => string;

/** The built images a stack runs, as the program resolves them: ECR repository and locked digest. */
export function stackBuiltImages(projectDir: string, stack: string): { image: BuiltImage; repository: string; digest?: string; tag?: string }[] {
  const values = readStackConfig(projectDir, stack).values;
  const value = (key: string) => values[`zenml-platform:${key}`] ?? "";
  const lock = readImageLock(projectDir);
  const base = lock[BASE_IMAGE.repository]?.[BASE_IMAGE.tag];
  const wanted: [BuiltImage, string][] = [[BUILT_IMAGES["post-upgrade"], value("zenmlVersion")]];
  if (value("mlflowVersion") !== "" && value("mlflowImage") === "") wanted.push([BUILT_IMAGES.mlflow, value("mlflowVersion")]);
  return wanted.map(([image, version]) => {
    let tag: string | undefined;
    try {
      tag = base === undefined ? undefined : builtImageTag(projectDir, image, version, base);
    } catch {
      tag = undefined; // no locked requirements: the program refuses this stack anyway
    }
    return { image, repository: builtEcrRepository(stack, image.name), tag, digest: tag && lock[builtLockRepository(image.name)]?.[tag] };
  });
}

const MANIFEST_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];

/** The platform manifests of an image (itself when it is single-platform). */
export function platformManifests(manifestText: string, digest: string): { digest: string; platform: string }[] {
  const m = JSON.parse(manifestText) as { manifests?: { digest: string; platform?: { os?: string; architecture?: string; variant?: string } }[] };
  if (!Array.isArray(m.manifests)) return [{ digest, platform: "" }];
  // Attestations ride in an index as platform "unknown/unknown"; they are not images.
  return m.manifests.filter((x) => x.platform?.os !== "unknown").map((x) => ({ digest: x.digest, platform: [x.platform?.os, x.platform?.architecture, x.platform?.variant].filter(Boolean).join("/") }));
}

/** ECR's describe-image-scan-findings answer, reduced to what a record keeps. */
export function scanOf(answerText: string): { status: string; severityCounts: Record<string, number>; detail?: string } {
  const a = JSON.parse(answerText) as { imageScanStatus?: { status?: string; description?: string }; imageScanFindings?: { findingSeverityCounts?: Record<string, number> } };
  const status = a.imageScanStatus?.status ?? "UNAVAILABLE";
  return { status, severityCounts: a.imageScanFindings?.findingSeverityCounts ?? {}, ...(status !== "COMPLETE" && a.imageScanStatus?.description ? { detail: a.imageScanStatus.description } : {}) };
}

export function readScans(projectDir: string, stack: string, aws: Aws): ImageScans {
  const scans: ImageScan[] = [];
  const unavailable = (image: string, repository: string, digest: string, detail: string): ImageScan => ({ image, repository, digest, platform: "", status: "UNAVAILABLE", severityCounts: {}, detail: detail.split("\n")[0].slice(0, 300) });
  for (const { image, repository, digest } of stackBuiltImages(projectDir, stack)) {
    if (!digest) {
      scans.push(unavailable(image.name, repository, "", "images.lock.yaml has no digest for this stack's image"));
      continue;
    }
    let platforms: { digest: string; platform: string }[];
    try {
      const got = JSON.parse(aws(["ecr", "batch-get-image", "--repository-name", repository, "--image-ids", `imageDigest=${digest}`, "--accepted-media-types", ...MANIFEST_TYPES, "--output", "json"])) as { images?: { imageManifest: string }[] };
      if (!got.images?.length) throw new Error(`${repository}@${digest} is not in this environment's ECR`);
      platforms = platformManifests(got.images[0].imageManifest, digest);
    } catch (err) {
      scans.push(unavailable(image.name, repository, digest, (err as Error).message));
      continue;
    }
    for (const p of platforms) {
      try {
        const answer = aws(["ecr", "describe-image-scan-findings", "--repository-name", repository, "--image-id", `imageDigest=${p.digest}`, "--max-items", "1", "--output", "json"]);
        scans.push({ image: image.name, repository, digest: p.digest, platform: p.platform, ...scanOf(answer) });
      } catch (err) {
        scans.push({ ...unavailable(image.name, repository, p.digest, (err as Error).message), platform: p.platform });
      }
    }
  }
  return { kind: SCANS_KIND, stack, scans };
}

/** Markdown lines for the deploy record's summary. */
export function scanSummary(scans: ImageScan[]): string[] {
  if (scans.length === 0) return [];
  const counts = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  return ["| image | platform | scan | findings |", "| --- | --- | --- | --- |", ...scans.map((s) => `| ${s.image} \`${s.digest.slice(0, 19)}\` | ${s.platform || "-"} | ${s.status} | ${counts(s.severityCounts)} |`), ""];
}
