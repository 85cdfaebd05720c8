import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { locatePin, PinFileError, verifyOnlyPinChanged, withPin } from "../tools/gitops/pin-file";
import { pinChanges } from "../tools/gitops/pin-changes";
import { bump, promote } from "../tools/gitops/version-change";
import { PROJECT_DIR, runTs } from "./helpers/plan";

let dir: string;
const file = (stack: string) => path.join(dir, `Pulumi.${stack}.yaml`);
const read = (stack: string) => fs.readFileSync(file(stack));
const pinOf = (stack: string) => locatePin(read(stack).toString(), stack).value;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-bump-"));
  for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
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
    expect(result.message).toMatch(/staging: 0\.98\.0 -> 0\.99\.0/);
    expect(result.message).toMatch(/branch: upgrade-zenml-0\.99\.0/);
    expect(result.message).toMatch(/base: {3}staging/);
    expect(result.message).toMatch(/Next: commit, open the PR to staging/);
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
  });

  it("does nothing when prod already matches", () => {
    promote(dir);
    const before = read("prod");
    expect(promote(dir).changed).toBe(false);
    expect(read("prod").equals(before)).toBe(true);
  });

  it("refuses when staging is behind prod, untouched", () => {
    fs.writeFileSync(file("staging"), read("staging").toString().replace("zenmlVersion: 0.98.0", "zenmlVersion: 0.96.0"));
    expectRefused(() => promote(dir), /staging pins 0\.96\.0, behind prod's 0\.97\.0/);
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
    const refused = await run(process.execPath, [...runTs(), "tools/gitops/bump.ts", "--stack", "staging", "--version", "0.97.0", "--dir", dir], { cwd: PROJECT_DIR }).catch((e: { code: number; stderr: string }) => e);
    expect((refused as { code: number }).code).toBe(2);
    expect((refused as { stderr: string }).stderr).toMatch(/^bump: refusing to lower staging/);
    // No package index: the PR body's dossier says it is unavailable instead of downloading wheels.
    const ok = await run(process.execPath, [...runTs(), "tools/gitops/promote.ts", "--dir", dir], { cwd: PROJECT_DIR, env: { ...process.env, UPGRADE_NOTES_WHEELS: dir, PIP_NO_INDEX: "1" } });
    expect(ok.stdout).toMatch(/prod: 0\.97\.0 -> 0\.98\.0/);
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
    expect(pinChanges(dir, "HEAD")).toEqual([{ stack: "staging", from: "0.98.0", to: "0.99.0" }]);
    fs.writeFileSync(file("prod"), read("prod").toString().replace("# Prod mirrors", "# A comment change only. Prod mirrors"));
    expect(pinChanges(dir, "HEAD").map((c) => c.stack)).toEqual(["staging"]);
  });
});
