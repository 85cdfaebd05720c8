import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { defineStack } from "../components/stack";
import { runPlan } from "../tools/offline/plan";
import { main } from "../tools/plan";
import { readStackConfig } from "../tools/offline/stack-files";
import { runMain } from "./helpers/cli";
import { PROJECT_DIR, STACKS } from "./helpers/plan";

const run = promisify(execFile);

const plan = (...args: string[]) => runMain(main, args);

/** The script npm runs, as a real process (node's own flags first). */
async function planProcess(args: string[], nodeArgs: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...nodeArgs, "tools/cli.cjs", "plan", ...args], { cwd: PROJECT_DIR, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("npm run plan", () => {
  it.each(STACKS)("--json prints one document for %s in the documented format", async (stack) => {
    const { code, stdout } = await plan("--stack", stack, "--json");
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ stack, project: "zenml-platform", note: expect.stringMatching(/not a diff/) });
    expect(doc.resources.length).toBeGreaterThan(40);
    for (const r of doc.resources) {
      expect(r).toEqual(expect.objectContaining({ urn: expect.stringMatching(/^urn:pulumi:/), type: expect.any(String), name: expect.any(String), inputs: expect.any(Object) }));
      expect(r.options).toEqual({ protect: expect.any(Boolean), retainOnDelete: expect.any(Boolean), dependsOn: expect.any(Array), aliases: expect.any(Array) });
    }
    expect(doc.outputs.kubeconfig).toBe("[secret]");
  });

  it("prints a tree that says it is desired state, with options shown", async () => {
    const { code, stdout } = await plan("--stack", "prod");
    expect(code).toBe(0);
    expect(stdout).toMatch(/not a diff against the cloud/);
    expect(stdout).toMatch(/zenml-database-instance {2}\(aws:rds\/instance:Instance\) {2}\[protect\]/);
    expect(stdout).toMatch(/password: \[secret\]/);
  });

  it("shows the pre-upgrade snapshot before the release when an upgrade is previewed", async () => {
    const { code, stdout, stderr } = await plan("--stack", "staging", "--deployed-version", "0.96.0");
    expect(code).toBe(0);
    expect(stdout).toMatch(/zenml-database-zenml-staging-pre-upgrade-0-96-0-to-0-98-0 {2}\(aws:rds\/snapshot:Snapshot\) {2}\[retainOnDelete\]/);
    expect(stdout).toMatch(/zenml-server-release[\s\S]*dependsOn: .*zenml-database-zenml-staging-pre-upgrade-0-96-0-to-0-98-0/);
    expect(stderr).toMatch(/warning: .*jumps over 1 minor release\(s\) \(0\.97\)/);
  });

  it("fails with one clear line for a downgrade, an unknown stack and a missing flag", async () => {
    const down = await plan("--stack", "staging", "--deployed-version", "0.99.0");
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^plan: Stack "staging": zenmlVersion "0\.98\.0" is lower than the deployed "0\.99\.0"/);
    expect(down.stderr).not.toMatch(/\n\s+at /);
    const unknown = await plan("--stack", "qa");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No stack file for "qa".*stacks: prod, staging/);
    const missing = await plan();
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--stack is required/);
  });

  /** staging's Kubernetes pin, and the minor `n` below it. */
  const k8s = (n = 0) => `1.${Number(readStackConfig(PROJECT_DIR, "staging").values["zenml-platform:kubernetesVersion"].split(".")[1]) - n}`;
  const re = (v: string) => v.replace(/\./g, "\\.");

  it("takes the deployed version of every part and prints the upgrade report in the tree and the JSON", async () => {
    const text = await plan("--stack", "staging", "--deployed", "zenml=0.98.0", "--deployed", `kubernetes=${k8s(1)}`, "--deployed", "mysql=8.4");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`Upgrade report \\(deployed -> desired\\):\\n {2}kubernetes +${re(k8s(1))} -> ${re(k8s())} {2}upgrade\\n.*EKS control plane ${re(k8s(1))} -> ${re(k8s())}`));
    expect(text.stdout).toMatch(/\n {2}zenml +0\.98\.0 -> 0\.98\.0 {2}unchanged/);
    const json = await plan("--stack", "prod", "--json", "--deployed", "mysql=8.0");
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.upgradeReport.parts.find((e: { part: string }) => e.part === "mysql")).toMatchObject({ deployed: "8.0", desired: "8.4", move: "upgrade", configKey: "dbEngineVersion" });
    expect(doc.outputs.upgradeReport).toEqual(doc.upgradeReport);
  });

  it("refuses an unknown part and reports every refused move with the report", async () => {
    const bad = await plan("--stack", "staging", "--deployed", "postgres=16");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^plan: --deployed postgres=16: unknown part "postgres" \(parts: kubernetes, addon:amazon-cloudwatch-observability, mysql, zenml, mlflow\)/);
    const two = await plan("--stack", "staging", "--deployed-version", "0.97.0", "--deployed", `kubernetes=${k8s(2)}`);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(new RegExp(`^plan: Stack "staging": kubernetesVersion ${re(k8s(2))} -> ${re(k8s())} for kubernetes is refused`));
    expect(two.stderr).toMatch(new RegExp(`kubernetes +${re(k8s(2))} -> ${re(k8s())} {2}REFUSED`));
  });

  it("--live says what AWS runs: a pin two minors below what EKS moved the cluster to is refused, naming the key, the live version and the fix", async () => {
    const pin = readStackConfig(PROJECT_DIR, "staging").values["zenml-platform:kubernetesVersion"];
    const twoAhead = `1.${Number(pin.split(".")[1]) + 2}`;
    const moved = await plan("--stack", "staging", "--live", `kubernetes=${twoAhead}`);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toMatch(new RegExp(`^plan: Stack "staging": kubernetesVersion "${pin.replace(".", "\\.")}" is below the Kubernetes ${twoAhead.replace(".", "\\.")} that AWS runs now`));
    expect(moved.stderr).toContain(`Fix: npm run bump -- --stack staging --part kubernetes --version ${twoAhead}`);
    expect(moved.stderr).toMatch(/\(0 resources registered before the program stopped\)/);
    const same = await plan("--stack", "staging", "--json", "--live", `kubernetes=${pin}`);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout).upgradeReport.parts[0]).toMatchObject({ part: "kubernetes", deployed: pin, desired: pin, move: "unchanged", live: pin });
  });

  it("--live records a move AWS made when the pin already follows it, and refuses parts AWS does not move", async () => {
    const pin = readStackConfig(PROJECT_DIR, "staging").values["zenml-platform:kubernetesVersion"];
    const before = `1.${Number(pin.split(".")[1]) - 1}`;
    const caughtUp = await plan("--stack", "staging", "--json", "--deployed", `kubernetes=${before}`, "--live", `kubernetes=${pin}`);
    expect(caughtUp.code).toBe(0);
    const doc = JSON.parse(caughtUp.stdout);
    expect(doc.upgradeReport.parts[0]).toMatchObject({ move: "unchanged", awsMove: { from: before, to: pin } });
    expect(doc.outputs.versionHistory.parts.kubernetes.awsMoves).toEqual([{ from: before, to: pin }]);
    expect(caughtUp.stderr).toMatch(/AWS runs Kubernetes .* recorded as a move AWS made/);
    const zenml = await plan("--stack", "staging", "--live", "zenml=0.99.0");
    expect(zenml).toMatchObject({ code: 2, stderr: expect.stringMatching(/^plan: --live zenml=0\.99\.0: unknown part "zenml" \(parts: kubernetes, addon:amazon-cloudwatch-observability, mysql\)/) });
    const first = await plan("--stack", "staging", "--deployed-version", "none", "--live", "kubernetes=1.35");
    expect(first).toMatchObject({ code: 2, stderr: expect.stringMatching(/a first deploy: nothing runs yet\) contradicts --live kubernetes=1\.35/) });
    const bad = await plan("--stack", "staging", "--live", "kubernetes=1.35.1");
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/--live kubernetes=1\.35\.1: "1\.35\.1" is not a version like "1\.35"/) });
  });

  it("is the script npm runs: the real process prints the same document, and exits 2 with one line on stderr", async () => {
    const [real, inProcess] = await Promise.all([planProcess(["--stack", "staging", "--json"]), plan("--stack", "staging", "--json")]);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toEqual(JSON.parse(inProcess.stdout));
    // A stack name with no file is refused before Pulumi and the program load: at once, not in 2 s.
    const withoutPulumi = ["--require", path.join(__dirname, "helpers", "forbid-pulumi.cjs")];
    const refused = await planProcess(["--stack", "qa"], withoutPulumi);
    expect(refused).toMatchObject({ code: 2, stdout: "" });
    expect(refused.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^plan: No stack file for "qa"/)]);
    // The guard itself: a run that plans does load Pulumi, and is stopped.
    expect(await planProcess(["--stack", "staging"], withoutPulumi)).toMatchObject({ code: 99, stderr: expect.stringMatching(/^forbid-pulumi: @pulumi\//) });
  });

  // That the SDK's runner loads index.ts and runs it is preview-load.test.ts's real-runner test.
  it("runs the program index.ts exports", async () => {
    expect((await import("../index.js")).default).toBe(defineStack);
  });
});

describe("secure: values in a stack file", () => {
  it("are replaced by a placeholder, never printed, and refused for settings that are not secret", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-plan-"));
    for (const f of ["Pulumi.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    const ciphertext = "v1:Zm9vYmFyYmF6cXV4:c2VjcmV0LWNpcGhlcnRleHQtbmV2ZXItcHJpbnRlZA==";
    const staging = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8").replace(/zenml-platform:certificateArn: .*/, `zenml-platform:certificateArn:\n    secure: ${ciphertext}`);
    fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), staging);

    const config = readStackConfig(dir, "staging");
    expect(config.values["zenml-platform:certificateArn"]).toBe("[secret]");
    expect(config.secretKeys).toEqual(["zenml-platform:certificateArn"]);

    const err = await runPlan({ stack: "staging", projectDir: dir }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/zenml-platform:certificateArn: is stored as a secret/);
    expect((err as Error).message).not.toContain(ciphertext);
  });
});
