// What the images workflow and the deploys run: what to build, recording pushed digests, and ECR's
// scans of the running images into the deploy record.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { IMAGE_LOCK_FILE, parseImageLock } from "../components/image-lock";
import { BASE_IMAGE, BUILT_IMAGES, builtImageTag } from "../components/kit/built-images";
import { main as imagesCli } from "../tools/images/images-cli";
import { main as pinCli } from "../tools/images/pin-cli";
import { captureIo, captureTool } from "./helpers/cli";
import { PROJECT_DIR } from "./helpers/plan";

const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const BASE = sha("base");
const PU = BUILT_IMAGES["post-upgrade"];

/** A copy of the project's stack files, lock and image folders, with `lock` as images.lock.yaml. */
function project(lock: string, edit: (dir: string) => void = () => {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "images-tools-"));
  for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
  for (const image of Object.values(BUILT_IMAGES)) fs.cpSync(path.join(PROJECT_DIR, image.dir), path.join(dir, image.dir), { recursive: true, filter: (src) => !src.includes("__pycache__") });
  fs.writeFileSync(path.join(dir, IMAGE_LOCK_FILE), lock);
  edit(dir);
  return dir;
}
const baseLock = `${BASE_IMAGE.repository}:\n  "${BASE_IMAGE.tag}": "${BASE}"\n`;

describe("npm run images -- plan", () => {
  const plan = async (dir: string) => {
    const out = path.join(dir, "github-output");
    const r = await captureIo((io) => imagesCli(["plan", "--dir", dir, "--github-output", out], io, {}));
    return { ...r, outputs: fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "" };
  };

  it("lists each image a pin needs that the lock lacks, with its tag and the base by digest", async () => {
    const dir = project(baseLock);
    const r = await plan(dir);
    expect(r.code).toBe(0);
    const builds = JSON.parse(/^builds=(.*)$/m.exec(r.outputs)![1]) as { image: string; version: string; tag: string; context: string }[];
    expect(builds).toEqual([
      { image: "post-upgrade", version: "0.97.0", tag: builtImageTag(dir, PU, "0.97.0", BASE), context: PU.dir, versionArg: "ZENML_VERSION", lockRepository: "zenml-platform/post-upgrade" },
      { image: "post-upgrade", version: "0.98.0", tag: builtImageTag(dir, PU, "0.98.0", BASE), context: PU.dir, versionArg: "ZENML_VERSION", lockRepository: "zenml-platform/post-upgrade" },
    ]);
    expect(r.outputs).toContain("count=2\n");
    expect(r.outputs).toContain(`base=docker.io/library/python:${BASE_IMAGE.tag}@${BASE}\n`);
    expect(r.outputs).toContain(`base-record=library/python:${BASE_IMAGE.tag}@${BASE}\n`);
  });

  it("skips what is recorded, adds MLflow when a stack runs our MLflow image", async () => {
    const tag98 = builtImageTag(PROJECT_DIR, PU, "0.98.0", BASE);
    const dir = project(`${baseLock}zenml-platform/post-upgrade:\n  "${tag98}": "${sha("built")}"\n`, (d) => {
      const file = path.join(d, "Pulumi.staging.yaml");
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('zenml-platform:mlflowVersion: ""', "zenml-platform:mlflowVersion: 3.17.2"));
    });
    const builds = JSON.parse(/^builds=(.*)$/m.exec((await plan(dir)).outputs)![1]) as { image: string; version: string }[];
    expect(builds.map((b) => `${b.image} ${b.version}`)).toEqual(["post-upgrade 0.97.0", "mlflow 3.17.2"]);
  });

  it("names the command for a missing base digest or missing locked requirements", async () => {
    expect((await plan(project(""))).stderr).toBe(`images: ${IMAGE_LOCK_FILE} has no digest for the base image ${BASE_IMAGE.repository}:${BASE_IMAGE.tag}: run \`npm run pin-images -- --base\` first\n`);
    const dir = project(baseLock, (d) => fs.rmSync(path.join(d, PU.dir, "locks", "zenml-0.97.0.txt")));
    const r = await plan(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("images: components/post-upgrade/image/locks/zenml-0.97.0.txt is missing (prod pin zenmlVersion 0.97.0): run `npm run lock-images -- --image post-upgrade --version 0.97.0` and commit the files it writes\n");
  });
});

describe("npm run pin-images -- --record (what a build pushed)", () => {
  it("adds a digest, keeps an equal one, and never rewrites one", async () => {
    const dir = project(baseLock);
    const ref = `zenml-platform/post-upgrade:0.98.0-abc@${sha("one")}`;
    expect(await captureTool(pinCli, ["--dir", dir, "--record", ref])).toMatchObject({ code: 0, stdout: `zenml-platform/post-upgrade:0.98.0-abc added ${sha("one")}\n` });
    expect(parseImageLock(fs.readFileSync(path.join(dir, IMAGE_LOCK_FILE), "utf8"))["zenml-platform/post-upgrade"]).toEqual({ "0.98.0-abc": sha("one") });
    expect((await captureTool(pinCli, ["--dir", dir, "--record", ref])).stdout).toContain("kept");
    const moved = await captureTool(pinCli, ["--dir", dir, "--record", `zenml-platform/post-upgrade:0.98.0-abc@${sha("two")}`]);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain(`already pins zenml-platform/post-upgrade:0.98.0-abc to ${sha("one")}, not ${sha("two")}`);
    expect((await captureTool(pinCli, ["--dir", dir, "--record", "zenml-platform/post-upgrade:latest"])).stderr).toMatch(/is not <repository>:<tag>@sha256:<64 hex digits>/);
  });
});

describe("ECR's scans into the deploy record", () => {
  const INDEX = sha("index");
  const AMD = sha("amd64");
  const ARM = sha("arm64");
  const index = JSON.stringify({ manifests: [{ digest: AMD, platform: { os: "linux", architecture: "amd64" } }, { digest: ARM, platform: { os: "linux", architecture: "arm64" } }, { digest: sha("att"), platform: { os: "unknown", architecture: "unknown" } }] });
  const dir = () => project(`${baseLock}zenml-platform/post-upgrade:\n  "${builtImageTag(PROJECT_DIR, PU, "0.98.0", BASE)}": "${INDEX}"\n`);
  /** The aws CLI as ECR would answer for the staging registry. */
  const aws = (args: string[]) => {
    if (args[1] === "batch-get-image") return JSON.stringify({ images: [{ imageManifest: index }] });
    const digest = args[args.indexOf("--image-id") + 1].slice("imageDigest=".length);
    if (digest === ARM) throw new Error("An error occurred (ScanNotFoundException): Image scan does not exist");
    return JSON.stringify({ imageScanStatus: { status: "COMPLETE" }, imageScanFindings: { findingSeverityCounts: { HIGH: 2, LOW: 5 } } });
  };

  it("reads each platform image's scan of the stack's locked digest (not the attestation)", async () => {
    const d = dir();
    const out = path.join(d, "image-scans.json");
    const r = await captureIo((io) => imagesCli(["scans", "--stack", "staging", "--dir", d, "--out", out], io, {}, aws));
    expect(r.code).toBe(0);
    const scans = JSON.parse(fs.readFileSync(out, "utf8")) as { scans: Record<string, unknown>[] };
    expect(scans.scans).toEqual([
      { image: "post-upgrade", repository: "zenml-platform-staging/post-upgrade", digest: AMD, platform: "linux/amd64", status: "COMPLETE", severityCounts: { HIGH: 2, LOW: 5 } },
      { image: "post-upgrade", repository: "zenml-platform-staging/post-upgrade", digest: ARM, platform: "linux/arm64", status: "UNAVAILABLE", severityCounts: {}, detail: "An error occurred (ScanNotFoundException): Image scan does not exist" },
    ]);
  });

  it("deploy-record carries them, and they do not fail it", async () => {
    const d = dir();
    await captureIo((io) => imagesCli(["scans", "--stack", "staging", "--dir", d, "--out", path.join(d, "image-scans.json")], io, {}, aws));
    const summary = path.join(d, "summary.md");
    const r = spawnSync(process.execPath, [path.join(PROJECT_DIR, "tools", "cli.cjs"), "deploy-record", "--stack", "staging", "--sha", "a".repeat(40), "--from", "0.97.0", "--to", "0.98.0", "--check", "up=success", "--image-scans", "image-scans.json"], { cwd: d, env: { ...process.env, GITHUB_STEP_SUMMARY: summary }, encoding: "utf8" });
    expect(r.status).toBe(0);
    const record = JSON.parse(fs.readFileSync(path.join(d, "deploy-record.json"), "utf8")) as { result: string; imageScans: { platform: string; severityCounts: Record<string, number> }[] };
    expect(record.result).toBe("success");
    expect(record.imageScans.map((s) => [s.platform, s.severityCounts])).toEqual([["linux/amd64", { HIGH: 2, LOW: 5 }], ["linux/arm64", {}]]);
    expect(fs.readFileSync(summary, "utf8")).toContain(`| post-upgrade \`${AMD.slice(0, 19)}\` | linux/amd64 | COMPLETE | HIGH 2, LOW 5 |`);
  }, 30_000);
});
