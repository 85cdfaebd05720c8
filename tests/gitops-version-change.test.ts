import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { locatePin, PinFileError, verifyOnlyPinChanged, withPin } from "../tools/gitops/pin-file";
import { pinChanges } from "../tools/gitops/pin-changes";
import type { GreenMove } from "../tools/gitops/staging-evidence";
import { bump as bumpPart, promote as promotePart, type StagingEvidence } from "../tools/gitops/version-change";
import { PROJECT_DIR, cachedRunPlan } from "./helpers/plan";
import { captureIo } from "./helpers/cli";
import { withEnvAsync } from "./helpers/env";
import { main as promoteCli } from "../tools/gitops/promote";
import { zenmlRequirementPins } from "../tools/gitops/requirement-pins";

let dir: string;
const file = (stack: string) => path.join(dir, `Pulumi.${stack}.yaml`);
const read = (stack: string) => fs.readFileSync(file(stack));
const pinOf = (stack: string, part = "zenml") => locatePin(read(stack).toString(), stack, part).value;
/** Sets one config value of a stack file by hand (the starting point of a test). */
const setValue = (stack: string, key: string, value: string) => fs.writeFileSync(file(stack), read(stack).toString().replace(new RegExp(`(zenml-platform:${key}: ).*`), `$1${value}`));

/** ZenML's bump, as the tests before --part called it. */
const bump = (d: string, stack: string, version: string, part?: string) => bumpPart(d, { stack, version, ...(part ? { part } : {}) });
/** Evidence that staging performed exactly these moves green. */
const performed = (moves: Record<string, [string, string][]>): StagingEvidence => ({
  describe: "the test's records",
  moves: (part) => (moves[part] ?? []).map(([from, to], i): GreenMove => ({ from, to, sha: `${part.length}${i}`.padEnd(40, "c") })),
});
/** Staging performed the move from prod's pin to its own, for every part. */
const stagingPerformedIt = (): StagingEvidence => ({ describe: "the test's records", moves: (part) => [{ from: pinOf("prod", part), to: pinOf("staging", part), sha: "a".repeat(40) }] });
const promote = (d: string) => promotePart(d, { evidence: stagingPerformedIt() });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-bump-"));
  for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
  // Both files start where these tests say, whatever the repository pins today.
  for (const [stack, zenml] of [["staging", "0.98.0"], ["prod", "0.97.0"]]) {
    setValue(stack, "zenmlVersion", zenml);
    setValue(stack, "kubernetesVersion", '"1.33"');
  }
});

/** Lines that differ between two texts of the same line count. */
function changedLines(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  expect(b.length).toBe(a.length);
  return b.filter((line, i) => line !== a[i]);
}

function expectRefused(action: () => unknown, message: RegExp): void {
  const before = { staging: read("staging"), prod: read("prod") };
  expect(action).toThrow(PinFileError);
  expect(action).toThrow(message);
  expect(read("staging").equals(before.staging)).toBe(true);
  expect(read("prod").equals(before.prod)).toBe(true);
}

describe("npm run bump", () => {
  it("changes exactly the pin's line, keeping comments and formatting", () => {
    const before = read("staging").toString();
    const result = bump(dir, "staging", "0.99.0");
    expect(result).toMatchObject({ changed: true, from: "0.98.0", to: "0.99.0" });
    expect(changedLines(before, read("staging").toString())).toEqual(["  zenml-platform:zenmlVersion: 0.99.0"]);
    expect(result.message).toMatch(/staging: ZenML 0\.98\.0 -> 0\.99\.0/);
    expect(result.message).toMatch(/branch: upgrade-zenml-0\.99\.0/);
    expect(result.message).toMatch(/base: {3}staging/);
    expect(result.message).toMatch(/Next: commit, open the PR to staging/);
  });

  it("moves the zenml== pins of the Python requirements with staging's ZenML (those lines only), and names them", () => {
    fs.mkdirSync(path.join(dir, "smoke"));
    fs.mkdirSync(path.join(dir, "components", "registration"), { recursive: true });
    fs.writeFileSync(path.join(dir, "smoke", "requirements.txt"), "# client\nzenml==0.98.0\npytest==8.4.2\n");
    fs.writeFileSync(path.join(dir, "components", "registration", "requirements.txt"), "zenml[server,connectors-aws]==0.98.0\npytest==8.4.2\n");
    const result = bump(dir, "staging", "0.99.0");
    expect(fs.readFileSync(path.join(dir, "smoke", "requirements.txt"), "utf8")).toBe("# client\nzenml==0.99.0\npytest==8.4.2\n");
    expect(fs.readFileSync(path.join(dir, "components", "registration", "requirements.txt"), "utf8")).toBe("zenml[server,connectors-aws]==0.99.0\npytest==8.4.2\n");
    expect(result.message).toContain(`Also moved zenml==0.99.0 in ${path.join("components", "registration", "requirements.txt")}, ${path.join("smoke", "requirements.txt")}`);
    expect(zenmlRequirementPins(dir).filter((p) => p.problem)).toEqual([]);
    // Another part, or prod, leaves them alone.
    bump(dir, "staging", "1.34", "kubernetes");
    expect(fs.readFileSync(path.join(dir, "smoke", "requirements.txt"), "utf8")).toContain("zenml==0.99.0");
  });

  it("keeps the quoting style of the value", () => {
    fs.writeFileSync(file("staging"), read("staging").toString().replace("zenmlVersion: 0.98.0", 'zenmlVersion: "0.98.0"'));
    bump(dir, "staging", "0.99.1");
    expect(read("staging").toString()).toContain('zenml-platform:zenmlVersion: "0.99.1"');
  });

  it("keeps a comment on the pin's line and CRLF line endings", () => {
    const crlf = read("staging").toString().replace("zenmlVersion: 0.98.0", "zenmlVersion: 0.98.0   # pinned by the platform team").replace(/\n/g, "\r\n");
    fs.writeFileSync(file("staging"), crlf);
    bump(dir, "staging", "0.99.0");
    expect(read("staging").toString()).toBe(crlf.replace("zenmlVersion: 0.98.0 ", "zenmlVersion: 0.99.0 "));
  });

  it("lists skipped minor releases in the PR text", () => {
    expect(bump(dir, "staging", "1.1.0").message).toMatch(/Crosses a major version \(0 -> 1\)/);
    expect(bump(dir, "staging", "1.4.0").message).toMatch(/Skips minor releases 1\.2, 1\.3/);
  });

  it("does nothing when the pin is already there", () => {
    const before = read("staging");
    expect(bump(dir, "staging", "0.98.0").changed).toBe(false);
    expect(read("staging").equals(before)).toBe(true);
  });

  it.each([
    ["a malformed version", "staging", "v0.99.0", /--version "v0\.99\.0" has a "v" prefix/],
    ["a range", "staging", "^0.99.0", /is a range/],
    ["a moving tag", "staging", "latest", /moving tag/],
    ["an unknown stack", "qa", "0.99.0", /unknown stack "qa" \(stacks: prod, staging/],
    ["a downgrade", "staging", "0.97.0", /refusing to lower staging from 0\.98\.0 to 0\.97\.0/],
    ["prod ahead of staging", "prod", "0.99.0", /ahead of staging \(0\.98\.0\).*npm run promote/],
  ])("refuses %s and leaves the files untouched", (_what, stack, version, message) => {
    expectRefused(() => bump(dir, stack, version), message);
  });

  it("refuses a file it cannot parse, untouched", () => {
    fs.writeFileSync(file("staging"), "config:\n  zenml-platform:zenmlVersion: [0.98.0\n  bad: {\n");
    expectRefused(() => bump(dir, "staging", "0.99.0"), /Pulumi\.staging\.yaml cannot be parsed/);
  });

  it("refuses a file without a pin, untouched", () => {
    fs.writeFileSync(file("staging"), "config:\n  aws:region: eu-west-1\n");
    expectRefused(() => bump(dir, "staging", "0.99.0"), /has no zenml-platform:zenmlVersion/);
  });
});

describe("npm run promote", () => {
  it("sets prod's pin to staging's, changing one line", () => {
    const before = read("prod").toString();
    const result = promote(dir);
    expect(result).toMatchObject({ changed: true, from: "0.97.0", to: "0.98.0" });
    expect(changedLines(before, read("prod").toString())).toEqual(["  zenml-platform:zenmlVersion: 0.98.0"]);
    expect(result.message).toMatch(/branch: promote-zenml-0\.98\.0/);
    expect(result.message).toMatch(/Staging performed ZenML 0\.97\.0 -> 0\.98\.0 green at a{12} \(by the test's records\)/);
  });

  it("does nothing when prod already matches", () => {
    promote(dir);
    const before = read("prod");
    expect(promote(dir).changed).toBe(false);
    expect(read("prod").equals(before)).toBe(true);
  });

  it("refuses when staging is behind prod, untouched", () => {
    fs.writeFileSync(file("staging"), read("staging").toString().replace("zenmlVersion: 0.98.0", "zenmlVersion: 0.96.0"));
    expectRefused(() => promotePart(dir, { part: "zenml", evidence: performed({}) }), /staging pins 0\.96\.0, behind prod's 0\.97\.0/);
  });

  it("refuses a malformed staging pin or an unparsable prod file, untouched", () => {
    fs.writeFileSync(file("staging"), read("staging").toString().replace("zenmlVersion: 0.98.0", "zenmlVersion: latest"));
    expectRefused(() => promote(dir), /moving tag/);
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), file("staging"));
    fs.writeFileSync(file("prod"), "config: [\n");
    expectRefused(() => promote(dir), /Pulumi\.prod\.yaml cannot be parsed/);
  });

  it("refuses when a stack file is missing", () => {
    fs.rmSync(file("prod"));
    const staging = read("staging");
    expect(() => promote(dir)).toThrow(/unknown stack "prod"/);
    expect(read("staging").equals(staging)).toBe(true);
    expect(fs.existsSync(file("prod"))).toBe(false);
  });

  it("keeps the stacks plannable: the edited files still validate", () => {
    promote(dir);
    expect(pinOf("prod")).toBe(pinOf("staging"));
  });
});

describe("the CLIs", () => {
  const run = promisify(execFile);
  it("exit 2 with one line on refusal and 0 on success", async () => {
    const refused = await run(process.execPath, ["tools/cli.cjs", "bump", "--stack", "staging", "--version", "0.97.0", "--dir", dir], { cwd: PROJECT_DIR }).catch((e: { code: number; stderr: string }) => e);
    expect((refused as { code: number }).code).toBe(2);
    expect((refused as { stderr: string }).stderr).toMatch(/^bump: refusing to lower staging/);
    // A git history of staging's file is the evidence when gh is not there; no package index: the dossier says it is unavailable.
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "ignore" });
    git("init", "-q", "-b", "staging");
    setValue("staging", "zenmlVersion", "0.97.0");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "staging runs 0.97.0");
    setValue("staging", "zenmlVersion", "0.98.0");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "staging runs 0.98.0");
    // The success in-process (the refusal above is the real process's exit code); no gh on its PATH.
    const ok = await withEnvAsync({ UPGRADE_NOTES_WHEELS: dir, PIP_NO_INDEX: "1" }, () => captureIo((io) => promoteCli(["--dir", dir], io, { ...process.env, PATH: path.dirname(process.execPath) + ":/usr/bin:/bin" }, cachedRunPlan)));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/prod: ZenML 0\.97\.0 -> 0\.98\.0\nStaging moved ZenML 0\.97\.0 -> 0\.98\.0 at \w{12} \(by the staging history, not its deploy records \(the GitHub CLI `gh` is not on PATH/);
  });
});

describe("the edit's own check (verifyOnlyPinChanged)", () => {
  const before = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8");
  const pin = locatePin(before, "Pulumi.staging.yaml");
  const check = (after: string, version = "0.99.0") => () => verifyOnlyPinChanged(before, after, pin, version, "Pulumi.staging.yaml");

  it("accepts the splice bump makes", () => {
    expect(check(withPin(before, pin, "0.99.0"))).not.toThrow();
  });

  it.each([
    ["another value changed", withPin(before, pin, "0.99.0").replace("dbMultiAz: false", "dbMultiAz: true")],
    ["a comment changed", withPin(before, pin, "0.99.0").replace("#", "# ")],
    ["the pin is not the version asked for", withPin(before, pin, "0.99.1")],
    ["the value would parse as something else", withPin(before, pin, "0.99.0 # x\n  extra: 1")],
  ])("refuses an edit where %s", (_what, after) => {
    expect(check(after)).toThrow(/internal error, the edit would change more than zenml-platform:zenmlVersion/);
  });
});

describe("npm run pin-changes (what the dossier job feeds to upgrade-notes)", () => {
  it("names each stack whose pin differs from the base revision, and nothing else", () => {
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "ignore" });
    git("init", "-q");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base");
    expect(pinChanges(dir, "HEAD")).toEqual([]);
    bump(dir, "staging", "0.99.0");
    expect(pinChanges(dir, "HEAD")).toEqual([{ stack: "staging", part: "zenml", from: "0.98.0", to: "0.99.0" }]);
    bumpPart(dir, { stack: "staging", part: "kubernetes", version: "1.34" });
    bumpPart(dir, { stack: "staging", part: "addon:amazon-cloudwatch-observability", version: "v4.1.0-eksbuild.1" });
    expect(pinChanges(dir, "HEAD")).toEqual([
      { stack: "staging", part: "kubernetes", from: "1.33", to: "1.34" },
      { stack: "staging", part: "addon:amazon-cloudwatch-observability", from: "none", to: "v4.1.0-eksbuild.1" },
      { stack: "staging", part: "zenml", from: "0.98.0", to: "0.99.0" },
    ]);
    fs.writeFileSync(file("prod"), read("prod").toString().replace("# Prod mirrors", "# A comment change only. Prod mirrors"));
    expect([...new Set(pinChanges(dir, "HEAD").map((c) => c.stack))], "a comment is no pin change").toEqual(["staging"]);
  });
});

describe("every part through the same two commands", () => {
  it("bump --part kubernetes changes one line, and says what applying it does", () => {
    const before = read("staging").toString();
    const r = bumpPart(dir, { stack: "staging", part: "kubernetes", version: "1.34" });
    expect(changedLines(before, read("staging").toString())).toEqual(['  zenml-platform:kubernetesVersion: "1.34"']);
    expect(r.message).toMatch(/^staging: Kubernetes 1\.33 -> 1\.34\n/);
    expect(r.message).toMatch(/branch: upgrade-kubernetes-1\.34\n {2}base: {3}staging\n {2}title: {2}Upgrade Kubernetes to 1\.34 on staging/);
    expect(r.message).toMatch(/must show kubernetes 1\.33 -> 1\.34 alone, doing: EKS control plane 1\.33 -> 1\.34/);
    expect(r.message).toMatch(/Next: .*npm run promote -- --part kubernetes on a branch off staging/);
  });

  it("bump names a step larger than one update, which only AWS's own move makes acceptable", () => {
    expect(bumpPart(dir, { stack: "staging", part: "kubernetes", version: "1.35" }).message).toMatch(/Note: 1\.33 -> 1\.35 is more than one step \(EKS upgrades one minor version per update.*\); the preview refuses it unless AWS already runs/);
  });

  it.each([
    ["MLflow while it is off", { stack: "staging", part: "mlflow", version: "3.18.0" }, /^MLflow is off on staging: mlflowVersion is "" in this stack, so no MLflow server runs here; turn it on first/],
    ["a Kubernetes version of the wrong shape", { stack: "staging", part: "kubernetes", version: "1.34.2" }, /--version "1\.34\.2" is not a version like "1\.35"/],
    ["a lower Kubernetes", { stack: "staging", part: "kubernetes", version: "1.32" }, /refusing to lower staging from 1\.33 to 1\.32: EKS cannot downgrade/],
    ["prod's Kubernetes ahead of staging's", { stack: "prod", part: "kubernetes", version: "1.34" }, /refusing to set prod's Kubernetes to 1\.34, ahead of staging \(1\.33\).*npm run promote -- --part kubernetes/],
    ["an unknown part", { stack: "staging", part: "postgres", version: "16" }, /unknown part "postgres" \(parts: kubernetes, addon:amazon-cloudwatch-observability, mysql, zenml, mlflow\)/],
  ])("bump refuses %s, the files untouched", (_what, request, message) => {
    expectRefused(() => bumpPart(dir, request), message);
  });

  it("bump --part for an add-on pins it in eksAddonVersions, one line, and moves a pin it already has", () => {
    const before = read("staging").toString();
    bumpPart(dir, { stack: "staging", part: "addon:amazon-cloudwatch-observability", version: "v4.1.0-eksbuild.1" });
    expect(changedLines(before, read("staging").toString())).toEqual(['  zenml-platform:eksAddonVersions: ["amazon-cloudwatch-observability=v4.1.0-eksbuild.1"]']);
    bumpPart(dir, { stack: "staging", part: "addon:amazon-cloudwatch-observability", version: "v4.2.0-eksbuild.1" });
    expect(pinOf("staging", "addon:amazon-cloudwatch-observability")).toBe("v4.2.0-eksbuild.1");
    expect(() => bumpPart(dir, { stack: "staging", part: "addon:amazon-cloudwatch-observability", version: "v4.1.0-eksbuild.3" })).toThrow(/refusing to lower/);
  });

  it("promote --part kubernetes changes one line of prod's file", () => {
    setValue("staging", "kubernetesVersion", '"1.34"');
    const before = read("prod").toString();
    const r = promotePart(dir, { part: "kubernetes", evidence: performed({ kubernetes: [["1.33", "1.34"]] }) });
    expect(changedLines(before, read("prod").toString())).toEqual(['  zenml-platform:kubernetesVersion: "1.34"']);
    expect(r.message).toMatch(/^prod: Kubernetes 1\.33 -> 1\.34\nStaging performed Kubernetes 1\.33 -> 1\.34 green/);
    expect(r.message).toMatch(/title: {2}Promote Kubernetes 1\.34 to prod/);
  });

  it("with prod two steps behind, promote writes the step staging performed and says what follows", () => {
    setValue("staging", "kubernetesVersion", '"1.35"');
    const evidence = performed({ kubernetes: [["1.33", "1.34"], ["1.34", "1.35"]] });
    const first = promotePart(dir, { part: "kubernetes", evidence });
    expect(first).toMatchObject({ changed: true, from: "1.33", to: "1.34" });
    expect(pinOf("prod", "kubernetes")).toBe("1.34");
    expect(first.message).toMatch(/\nThen: 1\.34 -> 1\.35 \(staging performed it green at \w{12}\)\. Run npm run promote -- --part kubernetes again once prod deployed this one: one step per update\./);
    const second = promotePart(dir, { part: "kubernetes", evidence });
    expect(second).toMatchObject({ changed: true, from: "1.34", to: "1.35" });
    expect(second.message).not.toMatch(/Then:/);
    expect(promotePart(dir, { part: "kubernetes", evidence }).changed).toBe(false);
  });

  it("promote never writes a move staging did not perform green: the gate would refuse it", () => {
    setValue("staging", "zenmlVersion", "0.99.0");
    // Staging went 0.98.0 -> 0.99.0; prod runs 0.97.0, and nobody performed 0.97.0 -> 0.99.0.
    expectRefused(() => promotePart(dir, { part: "zenml", evidence: performed({ zenml: [["0.98.0", "0.99.0"]] }) }), /staging never performed ZenML 0\.97\.0 -> anything up to 0\.99\.0 green .*staging did: 0\.98\.0 -> 0\.99\.0/);
    // With 0.97.0 -> 0.98.0 performed too, prod takes that step and hears about the next.
    const r = promotePart(dir, { part: "zenml", evidence: performed({ zenml: [["0.97.0", "0.98.0"], ["0.98.0", "0.99.0"]] }) });
    expect(r).toMatchObject({ from: "0.97.0", to: "0.98.0" });
    expect(r.message).toMatch(/Then: 0\.98\.0 -> 0\.99\.0/);
  });

  it("promote without --part takes the first part staging is ahead on, in the engine's order, and names the others", () => {
    setValue("staging", "kubernetesVersion", '"1.34"');
    const r = promotePart(dir, { evidence: performed({ kubernetes: [["1.33", "1.34"]], zenml: [["0.97.0", "0.98.0"]] }) });
    expect(r.part).toBe("kubernetes");
    expect(r.message).toMatch(/Staging is also ahead on zenml \(0\.97\.0 -> 0\.98\.0\): one part per update, promote it in later PRs/);
    expect(promotePart(dir, { evidence: performed({ kubernetes: [["1.33", "1.34"]], zenml: [["0.97.0", "0.98.0"]] }) }).part).toBe("zenml");
  });

  it("bump --part mlflow says which key moves with it: the image of that version", () => {
    setValue("staging", "mlflowVersion", "3.17.2");
    const r = bumpPart(dir, { stack: "staging", part: "mlflow", version: "3.18.0" });
    // Empty mlflowImage runs our image (locked per version), another names its own: the hint covers both.
    expect(r.message).toMatch(/\nIn this same change, mlflowImage in Pulumi\.staging\.yaml: empty \(our image\): lock it for 3\.18\.0 with `npm run lock-images -- --image mlflow --version 3\.18\.0`.*an image of your own: "<registry>\/<repository>:3\.18\.0@sha256:<digest>".*; the preview refuses mlflowVersion 3\.18\.0 until its image is there\.\nNext:/);
  });

  it("promote refuses MLflow while it is off on staging", () => {
    expectRefused(() => promotePart(dir, { part: "mlflow", evidence: performed({}) }), /MLflow is off on staging/);
  });
});

describe("an add-on's pin in its list", () => {
  const text = (list: string) => `config:\n  zenml-platform:eksAddonVersions: ${list}\n  zenml-platform:zenmlVersion: 0.98.0\n`;
  const addon = "addon:amazon-cloudwatch-observability";

  it("reads the version of its entry, and nothing when the add-on runs AWS's default", () => {
    expect(locatePin(text('["amazon-cloudwatch-observability=v1.2.0-eksbuild.1"]'), "f", addon).value).toBe("v1.2.0-eksbuild.1");
    expect(locatePin(text("[]"), "f", addon).value).toBe("");
  });

  it("accepts only the splice of its entry", () => {
    const before = text('["amazon-cloudwatch-observability=v1.2.0-eksbuild.1"]');
    const pin = locatePin(before, "f", addon);
    expect(() => verifyOnlyPinChanged(before, withPin(before, pin, "v1.3.0-eksbuild.1"), pin, "v1.3.0-eksbuild.1", "f", addon)).not.toThrow();
    expect(() => verifyOnlyPinChanged(before, withPin(before, pin, "v1.3.0-eksbuild.1").replace("0.98.0", "0.99.0"), pin, "v1.3.0-eksbuild.1", "f", addon)).toThrow(/would change more than zenml-platform:eksAddonVersions \(amazon-cloudwatch-observability\)/);
  });
});
