import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkMirror, type MirrorOptions } from "../tools/mirror/check";
import { ProgramFailed } from "../tools/offline/plan-result";
import { PROJECT_DIR, cachedRunPlan } from "./helpers/plan";

/** checkMirror on the project, its plans through the suite's cache. */
const mirror = (options: Omit<MirrorOptions, "projectDir" | "planner">) => checkMirror({ planner: cachedRunPlan, projectDir: PROJECT_DIR, ...options });

/** Prod's stack file with some lines replaced, written to a temp dir. */
function prodFileWith(replace: Record<string, string>): string {
  let text = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
  for (const [from, to] of Object.entries(replace)) {
    if (!text.includes(from)) throw new Error(`prod file has no ${from}`);
    text = text.replace(from, to);
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mirror-cross-")), "Pulumi.prod.yaml");
  fs.writeFileSync(file, text);
  return file;
}

describe("mirror-check reads both stack files and refuses what neither sees alone", () => {
  it("fails when prod's VPC overlaps staging's", async () => {
    const result = await mirror({ prodFile: prodFileWith({ "vpcCidr: 10.30.0.0/16": "vpcCidr: 10.20.0.0/16" }) });
    expect(result.violations.map((v) => [v.kind, v.where])).toEqual([["cross-stack", "zenml-platform:vpcCidr"]]);
    expect(result.violations[0].note).toMatch(/staging's 10\.20\.0\.0\/16 and prod's 10\.20\.0\.0\/16 overlap/);
  });

  it("fails when both environments serve the same hostname", async () => {
    const result = await mirror({ prodFile: prodFileWith({ "serverHostname: zenml.example.com": "serverHostname: zenml.staging.example.com" }) });
    expect(result.violations.map((v) => v.where)).toContain("zenml-platform:serverHostname");
    expect(result.violations.find((v) => v.kind === "cross-stack")?.note).toMatch(/both serve zenml\.staging\.example\.com/);
  });

  it("does not believe a prod file that declares itself staging", async () => {
    const failure = await mirror({ prodFile: prodFileWith({ "zenml-platform:environment: prod": "zenml-platform:environment: staging" }) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ProgramFailed);
    expect((failure as ProgramFailed).message).toMatch(/environment: "staging" disagrees with the stack name "prod"/);
  });
});
