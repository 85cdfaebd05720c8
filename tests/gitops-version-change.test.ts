import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { locatePin, PinFileError, verifyOnlyPinChanged, withPin } from "../tools/gitops/pin-file";
import { gateMessage, overrideReason } from "../tools/gitops/staging-gate";
import { bump, promote } from "../tools/gitops/version-change";
import { PROJECT_DIR } from "./helpers/plan";

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
    expect(result.message).toMatch(/Next: open the PR to staging/);
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
  const TSX = path.join(PROJECT_DIR, "node_modules", ".bin", "tsx");
  it("exit 2 with one line on refusal and 0 on success", async () => {
    const refused = await run(TSX, ["tools/gitops/bump.ts", "--stack", "staging", "--version", "0.97.0", "--dir", dir], { cwd: PROJECT_DIR }).catch((e: { code: number; stderr: string }) => e);
    expect((refused as { code: number }).code).toBe(2);
    expect((refused as { stderr: string }).stderr).toMatch(/^bump: refusing to lower staging/);
    // No package index: the PR body's dossier says it is unavailable instead of downloading wheels.
    const ok = await run(TSX, ["tools/gitops/promote.ts", "--dir", dir], { cwd: PROJECT_DIR, env: { ...process.env, UPGRADE_NOTES_WHEELS: dir, PIP_NO_INDEX: "1" } });
    expect(ok.stdout).toMatch(/prod: 0\.97\.0 -> 0\.98\.0/);
  });
});

describe("prod deploy gate", () => {
  it("passes only when a successful staging run deployed the same pin", () => {
    const runs = [{ headSha: "a1", pin: "0.98.0" }, { headSha: "b2", pin: "0.97.0" }, { headSha: "c3" }];
    expect(gateMessage("0.97.0", runs)).toEqual({ ok: true, message: expect.stringContaining("0.97.0 at b2") });
    const refused = gateMessage("0.99.0", runs);
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/no successful staging deploy of 0\.99\.0 among the last 3 \(versions seen: 0\.98\.0, 0\.97\.0\)/);
    expect(gateMessage("0.98.0", []).ok).toBe(false);
  });

  it("lets the program's emergency override through, loudly, and only a non-empty one", () => {
    const runs = [{ headSha: "a1", pin: "0.98.0" }];
    expect(gateMessage("0.99.0", runs, "   ").ok).toBe(false);
    const overridden = gateMessage("0.99.0", runs, "CVE-2026-0001 hotfix, staging is down");
    expect(overridden).toMatchObject({ ok: true, overridden: true });
    expect(overridden.message).toMatch(/^OVERRIDDEN: no successful staging deploy of 0\.99\.0.*promotionOverrideReason: CVE-2026-0001 hotfix/);
    // A verified run needs no override, and says so without the word.
    expect(gateMessage("0.98.0", runs, "some reason here").overridden).toBeUndefined();
  });

  it("reads the override reason from the real prod file's key", () => {
    const prod = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
    expect(overrideReason(prod)).toBe("");
    expect(overrideReason(prod.replace('promotionOverrideReason: ""', 'promotionOverrideReason: "  staging region outage  "'))).toBe("staging region outage");
    expect(overrideReason("config: {}\n")).toBe("");
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

describe("the staging-gate CLI (real git history, a stand-in gh)", () => {
  const TSX = path.join(PROJECT_DIR, "node_modules", ".bin", "tsx");
  const GATE = path.join(PROJECT_DIR, "tools", "gitops", "staging-gate.ts");
  const stagingText = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8");
  const prodText = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");

  /** A repo whose staging file pinned 0.97.0 then 0.98.0; gh reports the given commits as green runs. */
  function repo(greenPins: string[]): { cwd: string; env: NodeJS.ProcessEnv } {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-gate-"));
    const git = (...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
    git("init", "-q");
    const shas: Record<string, string> = {};
    for (const v of ["0.97.0", "0.98.0"]) {
      fs.writeFileSync(path.join(cwd, "Pulumi.staging.yaml"), stagingText.replace("zenmlVersion: 0.98.0", `zenmlVersion: ${v}`));
      git("add", ".");
      git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", v);
      shas[v] = git("rev-parse", "HEAD");
    }
    const runs = greenPins.map((v) => ({ headSha: shas[v], url: `https://example.invalid/runs/${v}` }));
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-gh-"));
    fs.writeFileSync(path.join(bin, "gh"), `#!/bin/sh\ncat <<'JSON'\n${JSON.stringify(runs)}\nJSON\n`, { mode: 0o755 });
    return { cwd, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } };
  }

  const gate = (r: { cwd: string; env: NodeJS.ProcessEnv }, prod: string) => {
    fs.writeFileSync(path.join(r.cwd, "Pulumi.prod.yaml"), prod);
    return execFileSync(TSX, [GATE, "--prod-file", "Pulumi.prod.yaml"], { ...r, encoding: "utf8", stdio: "pipe" });
  };
  const exitOf = (fn: () => unknown) => {
    try {
      fn();
      return 0;
    } catch (e) {
      return (e as { status: number }).status;
    }
  };

  it("passes when a green staging run pinned prod's version, naming the run", () => {
    expect(gate(repo(["0.98.0", "0.97.0"]), prodText)).toMatch(/staging deployed and smoke-tested 0\.97\.0 at [0-9a-f]{40} \(https:\/\/example\.invalid\/runs\/0\.97\.0\)/);
  });

  it("exits 1 when no green staging run pinned it, and passes with an annotation under the override", () => {
    const r = repo(["0.98.0"]);
    expect(exitOf(() => gate(r, prodText))).toBe(1);
    const out = gate(r, prodText.replace('promotionOverrideReason: ""', 'promotionOverrideReason: "staging region outage, CVE fix"'));
    expect(out).toMatch(/^::warning title=staging gate overridden::staging-gate: OVERRIDDEN/);
  });

  it("exits 2 when prod's file has no pin", () => {
    expect(exitOf(() => gate(repo(["0.97.0"]), "config: {}\n"))).toBe(2);
  });
}, 60_000);
