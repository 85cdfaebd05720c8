import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as semver from "semver";
import { describe, expect, it } from "vitest";
import { main } from "../tools/mirror-check";
import { MirrorInputError, checkMirror, componentFiles, readAllowList, type MirrorOptions } from "../tools/mirror/check";
import { compareStacks, flatten, normalise, unusedAllowances, type Side } from "../tools/mirror/compare";
import type { Plan, PlannedResource } from "../tools/offline/plan";
import { captureTool } from "./helpers/cli";
import { PROJECT_DIR, cachedRunPlan } from "./helpers/plan";

const FIXTURES = path.join(PROJECT_DIR, "tests", "fixtures", "mirror");
const fixture = (name: string, stack: string) => path.join(FIXTURES, name, `Pulumi.${stack}.yaml`);
const label = (name: string, stack: string) => `tests/fixtures/mirror/${name}/Pulumi.${stack}.yaml`;
const runCli = (args: string[]) => captureTool(main, args, {}, { planner: cachedRunPlan });
/** checkMirror on the project, its plans through the suite's cache. */
const mirror = (options: Omit<MirrorOptions, "projectDir" | "planner"> = {}) => checkMirror({ planner: cachedRunPlan, projectDir: PROJECT_DIR, ...options });
/** The script npm runs, as a real process. */
const runProcess = (args: string[]) =>
  promisify(execFile)(process.execPath, [path.join(PROJECT_DIR, "tools", "cli.cjs"), "mirror-check", ...args], { cwd: PROJECT_DIR, maxBuffer: 16 << 20 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe("mirror-check on the real stack files", () => {
  it("passes, with every difference declared and explained", async () => {
    const result = await mirror();
    expect(result.violations).toEqual([]);
    const allowedKeys = result.differences.filter((d) => d.kind !== "setting" && d.kind !== "resource-missing").map((d) => d.where);
    expect(allowedKeys).toEqual(expect.arrayContaining(["zenml-platform:zenmlVersion", "zenml-platform:dbInstanceClass", "zenml-platform:serverHostname"]));
    for (const d of result.differences) expect(d.note.length).toBeGreaterThan(5);
  });

  it("lists the allowances only an upgrade or rollback in flight needs as unused, not as failures", async () => {
    const { unused } = await mirror();
    expect(unused).toEqual(expect.arrayContaining(["aws:rds/snapshot:Snapshot (in one stack only)", "config zenml-platform:rollbackSnapshot"]));
  });
});

describe("mirror-check on fixtures that each break the mirror one way", () => {
  it("a config key present in one file only", async () => {
    const { violations } = await mirror({ prodFile: fixture("missing-key", "prod") });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ kind: "config-key-missing", where: "zenml-platform:pipelinesNamespace", edit: [label("missing-key", "prod")] });
    expect(violations[0].note).toMatch(/set zenml-platform:pipelinesNamespace in tests\/fixtures\/mirror\/missing-key\/Pulumi\.prod\.yaml too/);
  });

  it("a config key present in the other file only (a provider setting)", async () => {
    const { violations } = await mirror({ stagingFile: fixture("extra-key", "staging") });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ kind: "config-key-missing", where: "aws:allowedAccountIds", left: JSON.stringify(["123456789012"]), edit: ["Pulumi.prod.yaml"] });
  });

  it("prod ahead of staging on the MySQL major (config + RDS + parameter group)", async () => {
    const { violations, differences } = await mirror({ stagingFile: fixture("engine-differs", "staging") });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ kind: "version-order", where: "zenml-platform:dbEngineVersion", left: "8.0", right: "8.4", edit: [label("engine-differs", "staging"), "Pulumi.prod.yaml"] });
    expect(violations[0].note).toMatch(/prod \(8\.4\) must never be ahead of staging \(8\.0\)/);
    // the derived differences are the ones a major upgrade in flight makes, each declared
    expect(differences.filter((d) => d.allowed).map((d) => `${d.kind} ${d.where} ${d.path ?? ""}`.trim())).toEqual(
      expect.arrayContaining([
        "setting aws:rds/instance:Instance zenml-database-instance engineVersion",
        "resource-missing aws:rds/parameterGroup:ParameterGroup zenml-database-params-mysql8-0",
        "resource-missing aws:rds/parameterGroup:ParameterGroup zenml-database-params-mysql8-4",
      ]),
    );
  });

  it("a database window changed in prod only", async () => {
    const { violations } = await mirror({ prodFile: fixture("window-differs", "prod") });
    expect(violations.map((v) => `${v.kind} ${v.where} ${v.path ?? ""}`.trim())).toEqual(["config-value zenml-platform:dbBackupWindow", "setting aws:rds/instance:Instance zenml-database-instance backupWindow"]);
    expect(violations[1]).toMatchObject({ left: "02:00-03:00", right: "01:00-02:00" });
  });

  it("prod ahead of staging", async () => {
    const { violations } = await mirror({ prodFile: fixture("prod-ahead", "prod") });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ kind: "version-order", where: "zenml-platform:zenmlVersion", left: "0.98.0", right: "0.99.0" });
    expect(violations[0].note).toMatch(/prod \(0\.99\.0\) must never be ahead of staging \(0\.98\.0\)/);
  });

  it("a resource in one stack only that nothing allows", async () => {
    const { violations } = await mirror({ allowFile: path.join(FIXTURES, "no-promotion-allowance", "mirror.allow.yaml") });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ kind: "resource-missing", where: "pulumi:pulumi:StackReference promotion-source" });
    expect(violations[0].note).toMatch(/exists only in prod; no unallowed config difference explains it: declare it with a reason in tests\/fixtures\/mirror\/no-promotion-allowance\/mirror\.allow\.yaml/);
  });

  it("an allow list with a misspelt field is refused, not read as a wider allowance", async () => {
    const allowFile = path.join(FIXTURES, "typo-allow", "mirror.allow.yaml");
    expect(() => readAllowList(allowFile)).toThrow(MirrorInputError);
    expect(() => readAllowList(allowFile)).toThrow(/resources\.\d+: Unrecognized key: "paht"/);
    const cli = await runCli(["--allow", allowFile]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/mirror-check: mirror\.allow\.yaml: resources\.\d+: Unrecognized key/);
  });

  it("prod ahead of staging on Kubernetes", async () => {
    const { violations } = await mirror({ stagingFile: fixture("k8s-differs", "staging") });
    expect(violations.map((v) => `${v.kind} ${v.where}`)).toEqual(["version-order zenml-platform:kubernetesVersion"]);
    expect(violations[0].note).toMatch(/prod \(1\.\d+\) must never be ahead of staging \(1\.31\)/);
  });

  it("staging ahead on Kubernetes is a rollout in flight: allowed, cluster and add-on included", async () => {
    const { violations, differences } = await mirror({ prodFile: fixture("k8s-staging-ahead", "prod") });
    expect(violations).toEqual([]);
    expect(differences.map((d) => `${d.kind} ${d.where} ${d.path ?? ""}`.trim())).toEqual(
      expect.arrayContaining(["version-order zenml-platform:kubernetesVersion", "setting eks:index:Cluster zenml-cluster version", "setting aws:eks/addon:Addon zenml-logging-addon addonVersion"]),
    );
  });

  it("the CLI exits 1 with a JSON report for CI", async () => {
    const failed = await runCli(["--json", "--prod-file", fixture("prod-ahead", "prod")]);
    expect(failed.code).toBe(1);
    const report = JSON.parse(failed.stdout);
    expect(report.ok).toBe(false);
    expect(report.violations[0]).toMatchObject({ where: "zenml-platform:zenmlVersion", edit: ["Pulumi.staging.yaml", label("prod-ahead", "prod")] });
  });

  it("the CLI exits 2 with its usage on a bad argument or a missing file", async () => {
    const bad = await runCli(["--stagin-file", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--stagin-file'[\s\S]*usage: npm run mirror-check/);
    const missing = await runCli(["--prod-file", "nope.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yaml not found/);
    // The script npm runs, as a real process: the same refusal, exit code and single line. It
    // refuses before planning; a real process that plans costs 2 s of CPU and plan-cli has one.
    const real = await runProcess(["--prod-file", "nope.yaml"]);
    expect(real).toMatchObject({ code: 2, stdout: "" });
    expect(real.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^mirror-check: .*nope\.yaml not found/)]);
  });

  it("the CLI exits 0 on the real files and prints the readable report", async () => {
    const ok = await runCli([]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^mirror-check: staging vs prod — 0 violation\(s\), \d+ allowed difference\(s\)/);
    expect(ok.stdout).toMatch(/ok {3}zenml-platform:zenmlVersion — a rollout in flight/);
  });

  it("each fixture still differs from the real file only where intended (regenerate it if not)", () => {
    const lines = (f: string) => fs.readFileSync(f, "utf8").split("\n");
    const changed = (real: string, copy: string) => {
      const a = lines(real);
      const b = lines(copy);
      return [...a.filter((l) => !b.includes(l)).map((l) => `- ${l.trim()}`), ...b.filter((l) => !a.includes(l)).map((l) => `+ ${l.trim()}`)];
    };
    const real = (f: string) => path.join(PROJECT_DIR, path.basename(f));
    for (const dir of fs.readdirSync(FIXTURES).filter((d) => fs.statSync(path.join(FIXTURES, d)).isDirectory())) {
      for (const f of fs.readdirSync(path.join(FIXTURES, dir))) {
        const copy = path.join(FIXTURES, dir, f);
        const delta = changed(real(f), copy);
        expect(delta.length, `${dir}/${f}: ${delta.join(" | ")}`).toBeGreaterThanOrEqual(1);
        expect(delta.length, `${dir}/${f} drifted from ${f}: ${delta.join(" | ")}`).toBeLessThanOrEqual(3); // one setting (old and new line), or one 3-line allow-list entry
      }
    }
    // prod-ahead only breaks the mirror while its pin is above staging's real pin
    const pin = (f: string) => /zenmlVersion: (\S+)/.exec(fs.readFileSync(f, "utf8"))![1];
    expect(semver.gt(pin(fixture("prod-ahead", "prod")), pin(path.join(PROJECT_DIR, "Pulumi.staging.yaml"))), "prod-ahead must pin a version above Pulumi.staging.yaml's: regenerate it").toBe(true);
  });
});

describe("comparison rules", () => {
  const resource = (type: string, name: string, inputs: Record<string, unknown>, protect = false): PlannedResource => ({ urn: `urn:${type}::${name}`, type, name, parent: null, custom: true, inputs, options: { protect, retainOnDelete: false, dependsOn: [], aliases: [] } });
  const side = (stack: string, resources: PlannedResource[], config: Record<string, string> = {}): Side => ({ stack, file: `Pulumi.${stack}.yaml`, config, plan: { stack, project: "p", note: "", resources, outputs: {}, warnings: [] } as Plan });
  const allow = readAllowList(path.join(PROJECT_DIR, "mirror.allow.yaml"));

  it("reports a resource that exists in one stack only", () => {
    const diffs = compareStacks(side("staging", [resource("aws:sqs/queue:Queue", "jobs", {})]), side("prod", []), allow);
    expect(diffs).toEqual([expect.objectContaining({ kind: "resource-missing", where: "aws:sqs/queue:Queue jobs", allowed: false, note: expect.stringMatching(/exists only in staging/) })]);
  });

  it("ignores the stack's own name inside values but nothing else", () => {
    expect(normalise("arn:aws:iam::1:role/zenml-staging-connector", "staging")).toBe("arn:aws:iam::1:role/zenml-<stack>-connector");
    expect(normalise("stagingarea", "staging")).toBe("stagingarea");
    const diffs = compareStacks(side("staging", [resource("t:a:B", "x", { name: "zenml-staging", size: 1 })]), side("prod", [resource("t:a:B", "x", { name: "zenml-prod", size: 2 })]), allow);
    expect(diffs.map((d) => d.path)).toEqual(["size"]);
  });

  it("opens JSON documents held in strings, so one changed statement is named", () => {
    const flat = flatten({ policy: JSON.stringify({ Statement: [{ Action: "s3:GetObject" }] }) });
    expect([...flat.keys()]).toEqual(["policy#Statement.0.Action"]);
  });

  it("says which component file to fix when no config explains a difference", () => {
    const db = "urn:pulumi:S::p::zenml-platform:index:ZenmlEnvironment$zenml-platform:index:Database::zenml-database";
    const withParent = (r: PlannedResource): PlannedResource => ({ ...r, parent: db });
    const diffs = compareStacks(
      side("staging", [withParent(resource("aws:rds/instance:Instance", "db", { storageType: "gp3" }))]),
      side("prod", [withParent(resource("aws:rds/instance:Instance", "db", { storageType: "io2" }))]),
      allow,
      { componentFiles: componentFiles(PROJECT_DIR) },
    );
    expect(diffs).toEqual([expect.objectContaining({ path: "storageType", allowed: false, edit: ["mirror.allow.yaml", "components/database.ts"] })]);
    expect(diffs[0].note).toMatch(/or make components\/database\.ts treat both stacks alike/);
  });

  it("compares dependsOn and parent, with the stack name left out of URNs", () => {
    const dep = (stack: string) => `urn:pulumi:${stack}::p::zenml-platform:index:Database$aws:rds/snapshot:Snapshot::snap`;
    const r = (stack: string, deps: string[]) => ({ ...resource("t:a:B", "x", {}), parent: `urn:pulumi:${stack}::p::zenml-platform:index:ZenmlServer::srv`, options: { protect: false, retainOnDelete: false, dependsOn: deps, aliases: [] } });
    expect(compareStacks(side("staging", [r("staging", [dep("staging")])]), side("prod", [r("prod", [dep("prod")])]), allow)).toEqual([]);
    const diffs = compareStacks(side("staging", [r("staging", [dep("staging")])]), side("prod", [r("prod", [])]), allow);
    expect(diffs.map((d) => d.path)).toEqual(['options.dependsOn["aws:rds/snapshot:Snapshot::snap"]']);
  });

  it("compares secure values as secrets, not as ciphertexts", () => {
    const diffs = compareStacks(side("staging", [], { "p:token": "[secret]" }), side("prod", [], { "p:token": "[secret]" }), allow);
    expect(diffs).toEqual([]);
  });

  it("refuses an allowance for a key the project does not declare", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mirror-")), "allow.yaml");
    fs.writeFileSync(file, "config:\n  - key: zenml-platform:dbInstanceClas\n    reason: size of the database\n");
    expect(() => readAllowList(file, PROJECT_DIR)).toThrow(/config\.0\.key: zenml-platform:dbInstanceClas is not declared in Pulumi\.yaml/);
  });

  it("reports allowances no difference used", () => {
    expect(unusedAllowances({ config: [{ key: "k", reason: "r" }], resources: [{ type: "t", path: "p", reason: "r" }] }, [])).toEqual(["config k", "t :: p"]);
  });

  it("requires a reason for every allowed difference", () => {
    expect(allow.config.every((c) => c.reason.length > 5) && allow.resources.every((r) => r.reason.length > 5)).toBe(true);
  });
});
