// The test helper shares plans between test files through a cache: it must never hand a test a
// plan another test changed, nor a plan of other inputs.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ProgramFailed, type Plan } from "../tools/offline/plan-result";
import { PROJECT_DIR, cachedPlan, cachedRunPlan, plan } from "./helpers/plan";

describe("the shared plan cache", () => {
  it("keeps a refusal like a plan and throws it again; a bug is computed again each time", async () => {
    const key = ["plan-cache.test", process.pid, Date.now()];
    let refusals = 0;
    const refuse = async (): Promise<Plan> => {
      refusals++;
      throw new ProgramFailed("zenml-platform:zenmlVersion on staging: refused", ["pulumi:pulumi:Stack"], true);
    };
    for (let i = 0; i < 2; i++) await expect(cachedPlan(key, refuse)).rejects.toMatchObject({ message: "zenml-platform:zenmlVersion on staging: refused", registeredTypes: ["pulumi:pulumi:Stack"], userFacing: true });
    expect(refusals).toBe(1);
    let bugs = 0;
    const bug = async (): Promise<Plan> => {
      bugs++;
      throw new ProgramFailed("Cannot read properties of undefined", [], false);
    };
    for (let i = 0; i < 2; i++) await expect(cachedPlan([...key, "bug"], bug)).rejects.toThrow("Cannot read properties of undefined");
    expect(bugs).toBe(2);
  });

  it("gives each caller its own copy", async () => {
    const first = await plan("staging");
    first.resources.length = 0;
    first.outputs.zenmlVersion = "changed by a test";
    const second = await plan("staging");
    expect(second.resources.length).toBeGreaterThan(10);
    expect(second.outputs.zenmlVersion).not.toBe("changed by a test");
  });

  it("plans again when the stack file's content differs, under the same path and stack", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-plan-cache-"));
    try {
      const file = path.join(dir, "Pulumi.staging.yaml");
      const original = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8");
      fs.writeFileSync(file, original);
      const before = await plan("staging", { stackFile: file });
      fs.writeFileSync(file, original.replace(/serverReplicas: *\d+/, "serverReplicas: 7"));
      const after = await plan("staging", { stackFile: file });
      const replicas = (p: typeof before) => JSON.stringify(p.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.values));
      expect(replicas(after)).not.toEqual(replicas(before));
      expect(replicas(after)).toMatch(/"replicaCount":7/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keys overrides too", async () => {
    const renamed = JSON.stringify(await plan("staging", { overrides: { zenmlStackName: "team-cache" } }));
    expect(renamed).toContain("team-cache");
    expect(JSON.stringify(await plan("staging"))).not.toContain("team-cache");
  });

  it("keys a Planner's call on the files of its project folder, which may be a temporary tree", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-plan-cache-"));
    try {
      fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
      const original = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8");
      const replicas = async (count: number) => {
        fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), original.replace(/serverReplicas: *\d+/, `serverReplicas: ${count}`));
        const p = await cachedRunPlan({ stack: "staging", projectDir: dir });
        return JSON.stringify(p.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.values));
      };
      expect(await replicas(5)).toMatch(/"replicaCount":5/);
      expect(await replicas(6)).toMatch(/"replicaCount":6/);
      // What the stacks report as deployed is read from the tree too: a changed default is a new key.
      const explicit = await cachedRunPlan({ stack: "staging", projectDir: dir, stackOutputs: {} });
      expect(explicit.outputs.upgradeReport).toMatchObject({ parts: expect.arrayContaining([expect.objectContaining({ part: "zenml", move: "first-deploy" })]) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
