import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleSources, postUpgradeDigest, readCatalogue, validateCatalogue, type PipelineCatalogue } from "../components/post-upgrade/pipeline-catalogue";
import { UserFacingError } from "../components/errors";
import type { Plan } from "../tools/offline/plan";
import { renderTree } from "../tools/offline/render";
import { PROJECT_DIR, STACKS, at, named, plan, stackRef } from "./helpers/plan";

const plans: Record<string, Plan> = {};
beforeAll(async () => {
  for (const stack of STACKS) plans[stack] = await plan(stack);
});

const GOOD_ENTRY = {
  name: "train",
  source: { path: "ml" },
  pipeline: "pipelines.train:training",
  config: "configs/train.yaml",
  snapshot: "train",
  runTemplate: "train-template",
  schedule: { name: "train-nightly", cron: "0 3 * * *" },
  smoke: { config: "configs/train.smoke.yaml" },
};
const existing = new Set(["ml", "ml/pipelines/train.py", "ml/configs/train.yaml", "ml/configs/train.smoke.yaml"]);
const exists = (p: string) => existing.has(p);

function problemsOf(raw: unknown): string[] {
  return validateCatalogue("staging", raw, exists).problems;
}

describe("pipeline catalogue validation", () => {
  it("accepts a complete entry, a git source and a reasoned ignore", () => {
    const git = { ...GOOD_ENTRY, name: "score", source: { repo: "https://github.com/acme/scoring.git", ref: "v1.4.0" }, snapshot: "score", runTemplate: undefined, schedule: undefined };
    const result = validateCatalogue("staging", { pipelines: [GOOD_ENTRY, git], ignored: [{ kind: "snapshot", name: "old-demo", reason: "demo of the 2025 workshop, kept for the record" }] }, exists);
    expect(result.problems).toEqual([]);
    expect(result.catalogue!.pipelines.map((e) => e.name)).toEqual(["train", "score"]);
  });

  it("names the entry and the field of every problem, all at once", () => {
    const problems = problemsOf({
      pipelines: [
        { ...GOOD_ENTRY, pipeline: "no-colon", schedule: { name: "n", cron: "every day" } },
        { ...GOOD_ENTRY, name: "other", config: "../outside.yaml", smoke: {} },
      ],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^entry "train": pipeline: must be "module:pipeline"/),
      expect.stringMatching(/^entry "train": schedule\.cron: must be a 5-field cron expression/),
      expect.stringMatching(/^entry "other": config: must be a relative path without '\.\.'/),
      expect.stringMatching(/^entry "other": smoke\.config: /),
    ]);
  });

  it("refuses unknown keys, missing files and names two entries would share", () => {
    expect(problemsOf({ pipelines: [{ ...GOOD_ENTRY, scheduel: {} }] })).toEqual([expect.stringMatching(/^entry "train": .*scheduel/)]);
    expect(problemsOf({ pipelines: [{ ...GOOD_ENTRY, source: { path: "nope" } }] })).toEqual(['entry "train": source.path: nope does not exist in this repository']);
    expect(problemsOf({ pipelines: [{ ...GOOD_ENTRY, config: "configs/missing.yaml" }] })).toEqual(['entry "train": config: ml/configs/missing.yaml does not exist']);
    expect(problemsOf({ pipelines: [GOOD_ENTRY, { ...GOOD_ENTRY, name: "train-2", runTemplate: "t2" }] })).toEqual([
      'entry "train-2": snapshot name "train" is already used by entry "train" (a run template names its own snapshot)',
      'entry "train-2": schedule name "train-nightly" is already used by entry "train"',
    ]);
  });

  it("refuses a run template named like a snapshot: ZenML gives the template's snapshot its name", () => {
    expect(problemsOf({ pipelines: [{ ...GOOD_ENTRY, runTemplate: "train" }] })).toEqual(['entry "train": run template name "train" is already used by entry "train" (a run template names its own snapshot)']);
  });

  it("refuses an ignored item without a reason", () => {
    expect(problemsOf({ pipelines: [], ignored: [{ kind: "schedule", name: "x", reason: "" }] })).toEqual([expect.stringMatching(/^ignored #1: reason: must say why/)]);
    expect(problemsOf({ pipelines: [], ignored: [{ kind: "deployment", name: "x", reason: "because it is old" }] })).toEqual([expect.stringMatching(/^ignored #1: kind: /)]);
  });

  it("reads pipelines/<stack>.yaml and fails with one message naming the file and the stack", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "catalogue-"));
    fs.mkdirSync(path.join(dir, "pipelines"));
    expect(() => readCatalogue(dir, "staging")).toThrow(new UserFacingError('Pipeline catalogue pipelines/staging.yaml is missing for stack "staging" (an empty one is "pipelines: []")'));
    fs.writeFileSync(path.join(dir, "pipelines", "staging.yaml"), "pipelines:\n  - name: Bad Name\n");
    let message = "";
    try {
      readCatalogue(dir, "staging");
    } catch (e) {
      expect(e).toBeInstanceOf(UserFacingError);
      message = (e as Error).message;
    }
    expect(message.split("\n")[0]).toBe('Invalid pipeline catalogue pipelines/staging.yaml for stack "staging":');
    expect(message).toContain('entry "Bad Name": name: must be lowercase');
    expect(message).toContain('entry "Bad Name": source: ');
  });

  it("keeps staging's and prod's catalogues valid and listing the same pipelines", () => {
    const staging = readCatalogue(PROJECT_DIR, "staging");
    const prod = readCatalogue(PROJECT_DIR, "prod");
    expect(staging.pipelines.length).toBeGreaterThan(0);
    expect(prod.pipelines).toEqual(staging.pipelines);
  });
});

describe("post-upgrade digest", () => {
  const catalogue: PipelineCatalogue = { environment: "staging", pipelines: [GOOD_ENTRY as PipelineCatalogue["pipelines"][number]], ignored: [] };
  it("changes with the version, the catalogue, any source file and the script, and only with them", () => {
    const base = postUpgradeDigest("0.98.0", catalogue, { "ml/a.py": "x" }, "script");
    expect(postUpgradeDigest("0.98.0", catalogue, { "ml/a.py": "x" }, "script")).toBe(base);
    expect(postUpgradeDigest("0.98.1", catalogue, { "ml/a.py": "x" }, "script")).not.toBe(base);
    expect(postUpgradeDigest("0.98.0", { ...catalogue, ignored: [{ kind: "snapshot", name: "s", reason: "reason long enough" }] }, { "ml/a.py": "x" }, "script")).not.toBe(base);
    expect(postUpgradeDigest("0.98.0", catalogue, { "ml/a.py": "y" }, "script")).not.toBe(base);
    expect(postUpgradeDigest("0.98.0", catalogue, { "ml/a.py": "x" }, "script v2")).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{10}$/);
  });

  it("bundles the in-repo source folder (code and configs, no caches)", () => {
    const sources = bundleSources(PROJECT_DIR, readCatalogue(PROJECT_DIR, "staging"));
    expect(Object.keys(sources)).toEqual(expect.arrayContaining(["smoke/smoke_pipelines.py", "smoke/configs/smoke_check.yaml", "smoke/configs/smoke_check.smoke.yaml"]));
    expect(Object.keys(sources).filter((k) => k.includes("__pycache__") || k.endsWith(".pyc"))).toEqual([]);
  });
});

describe.each(STACKS)("post-upgrade Job on %s", (stack) => {
  const p = () => plans[stack];
  const job = () => named(p(), "zenml-post-upgrade-job");

  it("runs the script in-cluster with a client of exactly the server's version, after the release and the registration", () => {
    const version = stack === "prod" ? "0.97.0" : "0.98.0";
    const containers = at(job().inputs, "spec.template.spec.containers") as { image: string; command: string[]; args: string[]; env: { name: string; value?: string }[] }[];
    // Our image of this version (components/post-upgrade/image) from the environment's ECR, by digest.
    expect(containers[0].image).toMatch(new RegExp(`^123456789012\\.dkr\\.ecr\\.eu-west-1\\.amazonaws\\.com/zenml-platform-${stack}/post-upgrade:${version.replace(/\./g, "\\.")}-[0-9a-f]{12}@sha256:[0-9a-f]{64}$`));
    // The script itself, no shell and nothing installed first.
    expect(containers[0].command).toEqual(["python", "/opt/zenml-platform/post_upgrade.py"]);
    expect(containers[0].args).toEqual(["--catalogue", "/opt/zenml-platform/catalogue.json", "--sources", "/opt/zenml-platform/sources.json", "--workdir", "/tmp", "--stack", "$(ZENML_PLATFORM_STACK)"]);
    expect(containers[0].env.find((e) => e.name === "ZENML_PLATFORM_STACK")?.value).toBe(`aws-${stack}`);
    expect(containers[0].env.map((e) => e.name)).not.toContain("PYTHONPATH");
    expect(job().options.dependsOn).toEqual(expect.arrayContaining([named(p(), "zenml-server-release").urn, named(p(), "zenml-stack-registration").urn]));
    expect(at(job().inputs, "metadata.annotations")).toEqual({ "pulumi.com/skipAwait": "true" });
    expect(at(job().inputs, "spec.backoffLimit")).toBe(0);
    // The same restricted profile as the registration Job: non-root, no privilege escalation, no capabilities.
    expect(at(job().inputs, "spec.template.spec.securityContext")).toEqual(at(named(p(), "zenml-stack-registration").inputs, "spec.template.spec.securityContext"));
    expect(at(job().inputs, "spec.template.spec.containers.0.securityContext")).toEqual(at(named(p(), "zenml-stack-registration").inputs, "spec.template.spec.containers.0.securityContext"));
    expect(p().outputs.postUpgradeJob).toBe(at(job().inputs, "metadata.name"));
  });

  it("ships the environment's catalogue, its sources and the script, named by their digest", () => {
    const files = named(p(), "zenml-post-upgrade-files").inputs as { immutable: boolean; data: Record<string, string>; metadata: { name: string } };
    const catalogue = readCatalogue(PROJECT_DIR, stack);
    const script = fs.readFileSync(path.join(PROJECT_DIR, "components", "post-upgrade", "post_upgrade.py"), "utf8");
    expect(files.immutable).toBe(true);
    expect(JSON.parse(files.data["catalogue.json"])).toEqual(catalogue);
    expect(files.data["post_upgrade.py"]).toBe(script);
    // Named by the image too (its tag and digest, not the environment's registry host).
    const image = String(at(job().inputs, "spec.template.spec.containers.0.image"));
    expect(files.metadata.name).toBe(`zenml-post-upgrade-${postUpgradeDigest(image.slice(image.lastIndexOf(":", image.indexOf("@")) + 1), catalogue, bundleSources(PROJECT_DIR, catalogue), script)}`);
  });
});

describe("post-upgrade Job in the upgrade plan", () => {
  it("shows staging's upgrade from 0.97.0 with the new pin, ordered after the Helm release", async () => {
    const upgrade = await plan("staging", { deployed: { [stackRef("staging")]: { zenmlVersion: "0.97.0", zenmlVersionHistory: ["0.97.0"] } } });
    const text = renderTree(upgrade);
    const block = text.slice(text.indexOf("zenml-post-upgrade-job"));
    expect(block).toMatch(/^zenml-post-upgrade-job[^\n]*\n\s+metadata\.name: zenml-post-upgrade-[0-9a-f]{10}\n\s+spec\.template\.spec\.containers\.0\.image: \d+\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/zenml-platform-staging\/post-upgrade:0\.98\.0-[0-9a-f]{12}@sha256:[0-9a-f]{64}\n\s+dependsOn: zenml-server-release, zenml-stack-registration/);
    expect(String(at(named(upgrade, "zenml-post-upgrade-job").inputs, "metadata.name"))).toBe(String(at(named(plans.staging, "zenml-post-upgrade-job").inputs, "metadata.name")));
  });

  it("names a new Job when the pin moves", async () => {
    const bumped = await plan("prod", { overrides: { zenmlVersion: "0.98.0" }, deployed: { [stackRef("staging")]: { zenmlVersion: "0.98.0", zenmlVersionHistory: ["0.97.0", "0.98.0"] }, [stackRef("prod")]: { zenmlVersion: "0.97.0", zenmlVersionHistory: ["0.97.0"] } } });
    const name = (p: Plan) => String(at(named(p, "zenml-post-upgrade-job").inputs, "metadata.name"));
    expect(name(bumped)).not.toBe(name(plans.prod));
    // Prod takes the image staging ran for 0.98.0: the same tag and digest, from prod's own ECR.
    const image = (p: Plan) => String(at(named(p, "zenml-post-upgrade-job").inputs, "spec.template.spec.containers.0.image"));
    expect(image(bumped)).toBe(image(plans.staging).replace("zenml-platform-staging/", "zenml-platform-prod/"));
  });
});
