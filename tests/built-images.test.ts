// The images we build (post-upgrade Job, MLflow): tagged by what they are made of, run only by the
// digest images.lock.yaml records, refused with the command that fixes it until then.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BASE_IMAGE, BUILD_COMMAND, BUILT_IMAGES, builtImageTag, lockedRequirementsFile } from "../components/kit/built-images";
import { IMAGE_LOCK_FILE } from "../components/image-lock";
import { ProgramFailed, type Plan } from "../tools/offline/plan-result";
import { steadyStateOutputs } from "../tools/offline/plan-inputs";
import { LockError, expandInput, lockRequirements, main as lockCli } from "../tools/images/lock-cli";
import { captureTool } from "./helpers/cli";
import { PROJECT_DIR, at, named, ofType, plan, stackRef } from "./helpers/plan";

const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const BASE = sha("python base");
const POST_UPGRADE = BUILT_IMAGES["post-upgrade"];
const MLFLOW = BUILT_IMAGES.mlflow;
const tagOf = (image: typeof POST_UPGRADE, version: string, base = BASE) => builtImageTag(PROJECT_DIR, image, version, base);
const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const imageOf = (p: Plan, name: string) => String(at(named(p, name).inputs, "spec.template.spec.containers.0.image"));
const failure = (p: Promise<Plan>) => p.then(() => undefined, (e: unknown) => e as ProgramFailed);

/** A lock in which the images workflow has recorded the base and these builds. */
function lockWith(builds: [typeof POST_UPGRADE, string, string][]): Record<string, Record<string, string>> {
  const lock: Record<string, Record<string, string>> = { [BASE_IMAGE.repository]: { [BASE_IMAGE.tag]: BASE } };
  for (const [image, version, digest] of builds) (lock[`zenml-platform/${image.name}`] ??= {})[tagOf(image, version)] = digest;
  return lock;
}

describe("the tag of an image we build", () => {
  it("is the version and a hash of the Dockerfile, the locked requirements and the base digest", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "built-tag-"));
    fs.cpSync(path.join(PROJECT_DIR, POST_UPGRADE.dir), path.join(dir, POST_UPGRADE.dir), { recursive: true });
    const tag = builtImageTag(dir, POST_UPGRADE, "0.98.0", BASE);
    expect(tag).toMatch(/^0\.98\.0-[0-9a-f]{12}$/);
    expect(builtImageTag(dir, POST_UPGRADE, "0.98.0", BASE)).toBe(tag);
    expect(builtImageTag(dir, POST_UPGRADE, "0.98.0", sha("a newer base"))).not.toBe(tag);
    fs.appendFileSync(path.join(dir, lockedRequirementsFile(POST_UPGRADE, "0.98.0")), "# touched\n");
    const relocked = builtImageTag(dir, POST_UPGRADE, "0.98.0", BASE);
    expect(relocked).not.toBe(tag);
    fs.appendFileSync(path.join(dir, POST_UPGRADE.dir, "Dockerfile"), "# touched\n");
    expect(builtImageTag(dir, POST_UPGRADE, "0.98.0", BASE)).not.toBe(relocked);
  });
});

describe("the post-upgrade Job runs our image by its locked digest", () => {
  it("from each environment's ECR, the same tag and digest in both, and no stand-in warning", async () => {
    const lock = lockWith([[POST_UPGRADE, "0.98.0", sha("0.98.0 build")], [POST_UPGRADE, "0.97.0", sha("0.97.0 build")]]);
    const staging = await plan("staging", { imageLock: lock, standInBuiltImages: false });
    const prod = await plan("prod", { imageLock: lock, standInBuiltImages: false });
    expect(imageOf(staging, "zenml-post-upgrade-job")).toBe(`${ECR}/zenml-platform-staging/post-upgrade:${tagOf(POST_UPGRADE, "0.98.0")}@${sha("0.98.0 build")}`);
    expect(imageOf(prod, "zenml-post-upgrade-job")).toBe(`${ECR}/zenml-platform-prod/post-upgrade:${tagOf(POST_UPGRADE, "0.97.0")}@${sha("0.97.0 build")}`);
    expect(staging.warnings.filter((w) => /stand-in/.test(w))).toEqual([]);
  });

  it("refuses, before any resource is registered, a pin whose image the lock lacks, naming the command that builds it", async () => {
    const noBase = await failure(plan("staging", { imageLock: {}, standInBuiltImages: false }));
    expect(noBase).toBeInstanceOf(ProgramFailed);
    expect(noBase!.message).toContain(`${IMAGE_LOCK_FILE} has no digest for the base image ${BASE_IMAGE.repository}:${BASE_IMAGE.tag}, so none for zenml-platform/post-upgrade:0.98.0-`);
    expect(noBase!.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
    const noImage = await failure(plan("staging", { imageLock: lockWith([]), standInBuiltImages: false }));
    expect(noImage!.message).toContain(
      `${IMAGE_LOCK_FILE} has no digest for zenml-platform/post-upgrade:${tagOf(POST_UPGRADE, "0.98.0")}, the post-upgrade Job's client (stack staging, zenmlVersion 0.98.0): build and push it with \`${BUILD_COMMAND}\``,
    );
    expect(noImage!.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  it("refuses a version without locked requirements, naming the command that writes them", async () => {
    const deployed = { [stackRef("staging")]: { ...steadyStateOutputs(PROJECT_DIR, "zenml-platform")[stackRef("staging")], zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.97.0", "0.98.0"] } };
    const refusal = "components/post-upgrade/image/locks/zenml-0.98.1.txt is missing: the post-upgrade Job's client (stack staging, zenmlVersion 0.98.1) has no locked requirements; run `npm run lock-images -- --image post-upgrade --version 0.98.1` and commit the files it writes";
    const refused = await failure(plan("staging", { overrides: { zenmlVersion: "0.98.1" }, deployed, standInBuiltImages: false }));
    expect(refused!.message).toContain(refusal);
    // An offline plan goes on with a stand-in, and carries the same words.
    const offline = await plan("staging", { overrides: { zenmlVersion: "0.98.1" }, deployed });
    expect(offline.warnings).toContain(`offline plan of stack staging, planned with a stand-in image digest; a real preview or deploy refuses: ${refusal}`);
  });

  it("offline, an unlocked image is planned with a stand-in digest that says so", async () => {
    const p = await plan("staging", { imageLock: {} });
    expect(imageOf(p, "zenml-post-upgrade-job")).toMatch(/\/zenml-platform-staging\/post-upgrade:0\.98\.0-[0-9a-f]{12}@sha256:[0-9a-f]{64}$/);
    expect(p.warnings).toContainEqual(expect.stringMatching(/^offline plan of stack staging, planned with a stand-in image digest; a real preview or deploy refuses: images\.lock\.yaml has no digest for the base image library\/python:3\.11-slim-bookworm, so none for zenml-platform\/post-upgrade:0\.98\.0-[0-9a-f]{12}, the post-upgrade Job's client \(stack staging, zenmlVersion 0\.98\.0\): build and push it with `gh workflow run images\.yml --ref <your branch>`/));
  });
});

describe("MLflow runs our image unless mlflowImage names another", () => {
  const on = { mlflowVersion: "3.17.2", mlflowImage: "", mlflowHostname: "mlflow.staging.example.com" };

  it("the server and both Jobs run <ECR>/zenml-platform-<env>/mlflow:<tag>@<digest> from the lock", async () => {
    const digest = sha("mlflow 3.17.2 build");
    const p = await plan("staging", { overrides: on, imageLock: lockWith([[POST_UPGRADE, "0.98.0", sha("x")], [MLFLOW, "3.17.2", digest]]), standInBuiltImages: false });
    const want = `${ECR}/zenml-platform-staging/mlflow:${tagOf(MLFLOW, "3.17.2")}@${digest}`;
    const mlflowWorkloads = [...ofType(p, "kubernetes:batch/v1:Job"), ...ofType(p, "kubernetes:apps/v1:Deployment")].filter((r) => r.name.includes("mlflow"));
    expect(mlflowWorkloads.map((r) => r.name).sort()).toEqual(["zenml-mlflow-db-bootstrap-job", "zenml-mlflow-db-upgrade", "zenml-mlflow-deployment"]);
    for (const r of mlflowWorkloads) expect(at(r.inputs, "spec.template.spec.containers.0.image"), r.name).toBe(want);
  });

  it("refuses an MLflow pin whose image the lock lacks", async () => {
    const refused = await failure(plan("staging", { overrides: on, imageLock: lockWith([[POST_UPGRADE, "0.98.0", sha("x")]]), standInBuiltImages: false }));
    expect(refused!.message).toContain(`${IMAGE_LOCK_FILE} has no digest for zenml-platform/mlflow:${tagOf(MLFLOW, "3.17.2")}, the MLflow server and its Jobs (stack staging, mlflowVersion 3.17.2)`);
    expect(refused!.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference")).toEqual([]);
  });
});

describe("npm run lock-images", () => {
  it("puts the version into the short input and refuses an input that does not pin it", () => {
    expect(expandInput("zenml==${ZENML_VERSION}\n", POST_UPGRADE, "0.98.0")).toBe("zenml==0.98.0\n");
    expect(() => expandInput("zenml==0.98.0\n", POST_UPGRADE, "0.99.0")).toThrow(new LockError("components/post-upgrade/image/requirements.in must pin its package at ${ZENML_VERSION}"));
  });

  it("adds what that ZenML exports for the stack's integrations, once each and sorted, and resolves for the base image's Python", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lock-images-"));
    fs.cpSync(path.join(PROJECT_DIR, POST_UPGRADE.dir, "requirements.in"), path.join(dir, POST_UPGRADE.dir, "requirements.in"), { recursive: true });
    const calls: string[][] = [];
    // ZenML 0.98.0's own output for s3 aws kubernetes: unordered, with repeats.
    const exported = "kubernetes>=21.7,<26\nJinja2\nsagemaker>=2.237.3,<3.0.0\nkubernetes\naws-profile-manager\npytz>=2021.1\ns3fs>2022.3.0,!=2025.3.1\nboto3\naws-profile-manager\n";
    const written = lockRequirements(dir, POST_UPGRADE, "0.98.0", (cmd, args) => {
      calls.push([path.basename(cmd), ...args.map((a) => a.replace(dir, "<dir>"))]);
      if (args[0] === "integration") fs.mkdirSync(path.dirname(args[3]), { recursive: true });
      if (args[0] === "integration") fs.writeFileSync(args[3], exported);
      return args[0] === "--uv" || args[1] === "--uv" ? "/opt/uv\n" : "";
    });
    expect(written).toEqual({ input: "components/post-upgrade/image/locks/zenml-0.98.0.in", lock: "components/post-upgrade/image/locks/zenml-0.98.0.txt" });
    const input = fs.readFileSync(path.join(dir, written.input), "utf8");
    expect(input.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual(["zenml==0.98.0", "aws-profile-manager", "boto3", "Jinja2", "kubernetes", "kubernetes>=21.7,<26", "pytz>=2021.1", "s3fs>2022.3.0,!=2025.3.1", "sagemaker>=2.237.3,<3.0.0"]);
    expect(calls.find((c) => c[0] === "zenml")).toEqual(["zenml", "integration", "export-requirements", "--output-file", "<dir>/.cache/venvs/zenml-client-0.98.0/integrations.txt", "s3", "aws", "kubernetes"]);
    expect(calls.at(-1)).toEqual(["uv", "pip", "compile", "--quiet", "--universal", "--python-version", "3.11", "--generate-hashes", "--custom-compile-command", "npm run lock-images -- --image post-upgrade --version 0.98.0", "--output-file", written.lock, written.input]);
  });

  it("answers bad usage with exit 2", async () => {
    expect((await captureTool(lockCli, ["--image", "nope", "--version", "1.0.0"])).code).toBe(2);
    expect((await captureTool(lockCli, ["--image", "mlflow", "--version", "latest"])).stderr).toBe('lock-images: --version must be X.Y.Z, got "latest"\n');
  });
});

describe("the committed locks", () => {
  it.each([
    [POST_UPGRADE.name, POST_UPGRADE, "zenml"],
    [MLFLOW.name, MLFLOW, "mlflow"],
  ] as const)("%s: every pin exact and hashed, the package at its version, written by lock-images", (_name, image, pkg) => {
    const locks = fs.readdirSync(path.join(PROJECT_DIR, image.dir, "locks")).filter((f) => f.endsWith(".txt"));
    expect(locks.length).toBeGreaterThan(0);
    for (const file of locks) {
      const version = file.slice(image.lockPrefix.length + 1, -".txt".length);
      const text = fs.readFileSync(path.join(PROJECT_DIR, image.dir, "locks", file), "utf8");
      expect(text).toContain(`npm run lock-images -- --image ${image.name} --version ${version}`);
      const requirements = text.split(/\n(?=[a-z0-9])/i).filter((r) => /^[a-z0-9]/i.test(r));
      for (const r of requirements) expect(r, file).toMatch(/^[A-Za-z0-9._-]+==[^\s;]+( ;[^\\]+)? \\\n\s+--hash=sha256:[0-9a-f]{64}/);
      expect(requirements.some((r) => r.startsWith(`${pkg}==${version} `))).toBe(true);
    }
  });
});
