import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRecord, type DeployRecord, failedEntries, RECORD_FILE } from "../tools/gitops/deploy-record";
import { captureIo } from "./helpers/cli";
import { fakeGh } from "./helpers/fake-gh";
import { evaluateGate, type GateSources, main as stagingGate, missingTooling, overrideReason, type WorkflowRun } from "../tools/gitops/staging-gate";
import type { MigrationTimingRecord } from "../tools/gitops/migration-gate";
import { annotationLine } from "../tools/gitops/workflow-commands";
import { PROJECT_DIR } from "./helpers/plan";
import { stackFilesCheckout } from "./helpers/stack-checkout";

const sha = (n: number) => n.toString(16).padStart(40, "a");
const GREEN = ["up", "post-upgrade", "smoke-server", "smoke-pipelines"].map((c) => `${c}=success`);

interface FakeRun {
  run: WorkflowRun;
  record?: DeployRecord;
}

let nextId = 1;
function run(workflow: "staging" | "prod", commit: string, opts: { from?: string; to: string; conclusion?: string; status?: string; checks?: string[]; at: string }): FakeRun {
  const id = nextId++;
  const conclusion = opts.conclusion ?? "success";
  const status = opts.status ?? "completed";
  const checks = opts.checks ?? (conclusion === "success" ? GREEN : ["up=success", "post-upgrade=success", "smoke-server=failure", "smoke-pipelines=success"]);
  return {
    run: { databaseId: id, headSha: commit, status, conclusion: status === "completed" ? conclusion : "", createdAt: opts.at, url: `https://github.invalid/runs/${id}` },
    record: status === "completed" ? buildRecord({ stack: workflow, sha: commit, from: opts.from ?? "none", to: opts.to, checks }) : undefined,
  };
}

/** Sources from lists of runs; `pins` maps a commit to staging's pin there. */
function sources(staging: FakeRun[], prod: FakeRun[], pins: Record<string, string>): GateSources {
  const all = [...staging, ...prod];
  return {
    runs: (workflow) => (workflow === "deploy-staging.yml" ? staging : prod).map((r) => r.run),
    record: (r) => all.find((x) => x.run.databaseId === r.databaseId)?.record,
    pinAt: (commit) => pins[commit],
  };
}

const TIMED: MigrationTimingRecord = {
  kind: "zenml-platform/migration-timing-record", source: "prod", target: "staging", snapshot: "rds:zenml-prod-2026-11-02-02-10", snapshotCreatedAt: "2026-11-02T02:10:00Z", fromRevisions: ["0.97.0"],
  to: "0.98.0", result: "passed", seconds: 360, minutes: 6, sizeMb: 812.4, allocatedStorageGb: 100, instanceClass: "db.m7g.large", copyDeleted: true, measuredAt: "2026-11-02T03:00:00Z",
};

describe("prod's staging gate", () => {
  // Staging ran 0.97 -> 0.98 at c1 and then the promotion commit c2 (prod's pin 0.98, staging unchanged).
  const c1 = sha(1);
  const c2 = sha(2);
  const pins = { [c1]: "0.98.0", [c2]: "0.98.0" };
  const prodAt097 = [run("prod", sha(0), { from: "0.96.0", to: "0.97.0", at: "2026-11-01T00:00:00Z" })];
  const base = [run("staging", c1, { from: "0.97.0", to: "0.98.0", at: "2026-11-02T00:00:00Z" }), run("staging", c2, { from: "0.98.0", to: "0.98.0", at: "2026-11-03T00:00:00Z" })];
  const input = { sha: c2, prodPin: "0.98.0", overrideReason: "" };

  it("passes a commit staging deployed green whose upgrade staging performed, naming each check", () => {
    const v = evaluateGate(input, sources(base, prodAt097, pins));
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => [c.name, c.ok])).toEqual([["commit", true], ["latest staging run", true], ["upgrade path", true]]);
    expect(v.checks[2].detail).toMatch(/staging performed ZenML 0\.97\.0 -> 0\.98\.0 green at aaaa/);
    expect(v.message).toMatch(/prod may deploy .*ZenML 0\.97\.0 -> 0\.98\.0/);
  });

  it("refuses a commit staging never deployed, although its version was green on staging", () => {
    // main received a commit that changes components/ but keeps the pin: it never ran on staging.
    const v = evaluateGate({ ...input, sha: sha(9) }, sources(base, prodAt097, pins));
    expect(v.ok).toBe(false);
    expect(v.message).toBe(`staging never deployed commit ${sha(9).slice(0, 12)}: push it to staging and let deploy-staging pass first (main only takes commits staging deployed)`);
  });

  it("refuses when the latest staging run of the commit is red, even after a green one", () => {
    const redLater = [...base, run("staging", c2, { from: "0.98.0", to: "0.98.0", conclusion: "failure", at: "2026-11-04T00:00:00Z" })];
    const v = evaluateGate(input, sources(redLater, prodAt097, pins));
    expect(v.ok).toBe(false);
    expect(v.checks.find((c) => !c.ok)?.name).toBe("latest staging run");
    expect(v.message).toMatch(/^the latest staging run of aaaa\w+ ended failure \(https:\/\/github\.invalid\/runs\/\d+\); re-run it green before promoting$/);
    // ...and a later green re-run of the same commit lets it through again.
    const greenAgain = [...redLater, run("staging", c2, { from: "0.98.0", to: "0.98.0", at: "2026-11-05T00:00:00Z" })];
    expect(evaluateGate(input, sources(greenAgain, prodAt097, pins)).ok).toBe(true);
  });

  it("refuses while the commit's latest staging run is still running", () => {
    const running = [...base, run("staging", c2, { to: "0.98.0", status: "in_progress", at: "2026-11-04T00:00:00Z" })];
    expect(evaluateGate(input, sources(running, prodAt097, pins)).message).toMatch(/is still in_progress/);
  });

  it("refuses a green run that left no deploy record of this commit", () => {
    const noRecord = base.map((r) => (r.run.headSha === c2 ? { run: r.run } : r));
    expect(evaluateGate(input, sources(noRecord, prodAt097, pins)).message).toMatch(/has no green deploy record for this commit/);
  });

  it("refuses an upgrade path staging did not perform (staging 0.98 -> 0.99, prod 0.97 -> 0.99)", () => {
    const c3 = sha(3);
    const c4 = sha(4);
    const staging = [
      ...base,
      run("staging", c3, { from: "0.98.0", to: "0.99.0", at: "2026-11-05T00:00:00Z" }),
      run("staging", c4, { from: "0.99.0", to: "0.99.0", at: "2026-11-06T00:00:00Z" }),
    ];
    const p = { ...pins, [c3]: "0.99.0", [c4]: "0.99.0" };
    const v = evaluateGate({ sha: c4, prodPin: "0.99.0", overrideReason: "" }, sources(staging, prodAt097, p));
    expect(v.ok).toBe(false);
    expect(v.message).toBe("prod would move ZenML 0.97.0 -> 0.99.0, which staging never performed green (staging did: 0.98.0 -> 0.99.0); promote the step staging performed (npm run promote -- --part zenml), or set zenml-platform:promotionOverrideReason in Pulumi.prod.yaml");
    // The recorded override lets the path through, loudly; it never excuses the other two checks.
    const overridden = evaluateGate({ sha: c4, prodPin: "0.99.0", overrideReason: "CVE-2026-0001, 0.98 has a data-loss bug" }, sources(staging, prodAt097, p));
    expect(overridden).toMatchObject({ ok: true, overridden: true });
    expect(overridden.checks[2].detail).toMatch(/^OVERRIDDEN: prod would move ZenML 0\.97\.0 -> 0\.99\.0.*promotionOverrideReason: CVE-2026-0001/);
    expect(evaluateGate({ sha: sha(9), prodPin: "0.99.0", overrideReason: "CVE-2026-0001, 0.98 has a data-loss bug" }, sources(staging, prodAt097, p)).ok).toBe(false);
  });

  it("a red staging run of the upgrade does not count as having performed it", () => {
    const red = [run("staging", c1, { from: "0.97.0", to: "0.98.0", conclusion: "failure", at: "2026-11-02T00:00:00Z" }), base[1]];
    expect(evaluateGate(input, sources(red, prodAt097, pins)).message).toMatch(/staging did: no green staging deploy reached 0\.98\.0/);
  });

  it("takes prod's version from its newest record whose up succeeded, else main's previous head", () => {
    const prodSmokeRed = [...prodAt097, run("prod", sha(5), { from: "0.97.0", to: "0.98.0", conclusion: "failure", at: "2026-11-04T00:00:00Z" })];
    // prod's up to 0.98 succeeded (only smoke failed): prod runs 0.98, nothing left to upgrade.
    expect(evaluateGate(input, sources(base, prodSmokeRed, pins)).checks[2].detail).toBe("prod stays at ZenML 0.98.0: no upgrade");
    const upFailed = [...prodAt097, run("prod", sha(5), { from: "0.97.0", to: "0.98.0", conclusion: "failure", checks: ["up=failure", "smoke-server=skipped"], at: "2026-11-04T00:00:00Z" })];
    expect(evaluateGate(input, sources(base, upFailed, pins)).checks[2].detail).toMatch(/performed ZenML 0\.97\.0 -> 0\.98\.0/);
    // No prod record left (expired): the prod pin at the push's `before` commit.
    const src = sources(base, [], { ...pins });
    src.pinAt = (commit, stack) => (stack === "prod" && commit === sha(7) ? "0.97.0" : pins[commit]);
    expect(evaluateGate({ ...input, before: sha(7) }, src).checks[2].detail).toMatch(/performed ZenML 0\.97\.0 -> 0\.98\.0/);
  });

  it("checks every part prod's file pins: each move must be one staging performed green, whatever part it is", () => {
    // Staging's records carry every part: c1 moved Kubernetes 1.33 -> 1.34 (ZenML unchanged), green.
    const parts = (k8s: [string | null, string]) => ({ zenml: { from: "0.98.0", to: "0.98.0" }, kubernetes: { from: k8s[0], to: k8s[1] } });
    const stagingRun = (commit: string, k8s: [string | null, string], at: string) => {
      const r = run("staging", commit, { from: "0.98.0", to: "0.98.0", at });
      return { ...r, record: { ...r.record!, parts: parts(k8s) } };
    };
    const prodRun = { ...run("prod", sha(20), { from: "0.98.0", to: "0.98.0", at: "2026-11-01T00:00:00Z" }) };
    prodRun.record = { ...prodRun.record!, parts: parts(["1.33", "1.33"]) };
    const k8sPins: Record<string, Record<string, string>> = { [c1]: { zenml: "0.98.0", kubernetes: "1.34" }, [c2]: { zenml: "0.98.0", kubernetes: "1.34" } };
    const src = (staging: FakeRun[]): GateSources => ({ ...sources(staging, [prodRun], pins), pinAt: (commit, _stack, part = "zenml") => k8sPins[commit]?.[part] });
    const prodPins = { zenml: "0.98.0", kubernetes: "1.34" };
    const ok = evaluateGate({ sha: c2, prodPin: "0.98.0", prodPins, overrideReason: "" }, src([stagingRun(c1, ["1.33", "1.34"], "2026-11-02T00:00:00Z"), stagingRun(c2, ["1.34", "1.34"], "2026-11-03T00:00:00Z")]));
    expect(ok.ok).toBe(true);
    expect(ok.checks.find((c) => c.name === "upgrade path")!.detail).toMatch(/^staging performed Kubernetes 1\.33 -> 1\.34 green at aaaa/);
    expect(ok.message).toMatch(/\(Kubernetes 1\.33 -> 1\.34\): staging deployed/);
    // Staging got to 1.34 only because AWS moved it, and deployed 1.35 since: prod's 1.33 -> 1.34 is nothing staging performed.
    const refused = evaluateGate({ sha: c2, prodPin: "0.98.0", prodPins, overrideReason: "" }, src([stagingRun(c1, ["1.34", "1.34"], "2026-11-02T00:00:00Z"), stagingRun(c2, ["1.34", "1.34"], "2026-11-03T00:00:00Z")]));
    expect(refused.message).toMatch(/^prod would move Kubernetes 1\.33 -> 1\.34, which staging never performed green \(staging did: no green staging deploy reached 1\.34\); promote the step staging performed \(npm run promote -- --part kubernetes\)/);
  });

  it("reads a part's version from an older prod record (ZenML only) through the pin of the commit it deployed", () => {
    const old = run("prod", sha(30), { from: "0.97.0", to: "0.98.0", at: "2026-11-01T00:00:00Z" });
    const src: GateSources = { ...sources(base, [old], pins), pinAt: (commit, stack, part = "zenml") => (commit === sha(30) && stack === "prod" && part === "kubernetes" ? "1.34" : part === "zenml" ? pins[commit] : undefined) };
    const v = evaluateGate({ sha: c2, prodPin: "0.98.0", prodPins: { zenml: "0.98.0", kubernetes: "1.34" }, overrideReason: "" }, src);
    expect(v.checks.find((c) => c.name === "upgrade path")!.detail).toBe("prod stays at ZenML 0.98.0, Kubernetes 1.34: no upgrade");
  });

  it("reads the override reason from the real prod file's key", () => {
    const prod = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8");
    expect(overrideReason(prod)).toBe("");
    expect(overrideReason(prod.replace('promotionOverrideReason: ""', 'promotionOverrideReason: "  staging region outage  "'))).toBe("staging region outage");
    expect(overrideReason("config: {}\n")).toBe("");
  });

  it("says in one line what is missing: gh, or a token", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-gh-"));
    expect(missingTooling({ PATH: empty, GH_TOKEN: "x" })).toMatch(/^the GitHub CLI `gh` is not on PATH/);
    fs.writeFileSync(path.join(empty, "gh"), "#!/bin/sh\n", { mode: 0o755 });
    expect(missingTooling({ PATH: empty })).toMatch(/^no GitHub token: set GH_TOKEN/);
    expect(missingTooling({ PATH: empty, GITHUB_TOKEN: "x" })).toBeUndefined();
  });
});

describe("the deploy record", () => {
  it("is green only when every check succeeded", () => {
    expect(buildRecord({ stack: "staging", sha: sha(1), from: "0.97.0", to: "0.98.0", checks: GREEN }).result).toBe("success");
    const red = buildRecord({ stack: "staging", sha: sha(1), from: "none", to: "0.98.0", checks: ["up=success", "smoke-server=skipped"] });
    expect(red).toMatchObject({ result: "failure", from: null });
  });

  it.each([
    ["a short sha", { sha: "abc" }, /--sha must be a full 40-character commit id/],
    ["an unknown outcome", { checks: ["up=green"] }, /--check "up=green": expected name=success\|failure\|cancelled\|skipped/],
    ["no check", { checks: [] }, /at least one --check/],
  ])("refuses %s", (_what, change, message) => {
    expect(() => buildRecord({ stack: "staging", sha: sha(1), from: "none", to: "0.98.0", checks: GREEN, ...change })).toThrow(message);
  });

  it("lists the failed entries of the reports the checks wrote", () => {
    const smoke = JSON.stringify({ ok: false, steps: [{ name: "health", status: "pass", detail: "200" }, { name: "login", status: "fail", detail: "401 Unauthorized\nmore" }] });
    const rehearsal = JSON.stringify({ checks: [{ name: "old-artifacts-load", status: "fail", detail: "KeyError" }, { name: "x", status: "staging-only" }] });
    expect(failedEntries(smoke)).toEqual(["login: 401 Unauthorized"]);
    expect(failedEntries(rehearsal)).toEqual(["old-artifacts-load: KeyError"]);
    expect(failedEntries("not json")).toEqual([]);
    expect(failedEntries(undefined)).toEqual([]);
  });

  it("escapes an annotation so a reason stays one line", () => {
    expect(annotationLine("error", "smoke: a, b", "100% down\nnext")).toBe("::error title=smoke%3A a%2C b::100%25 down%0Anext");
  });
});

describe("the CLIs as the workflows call them (a stand-in gh on PATH)", () => {

  it("deploy-record writes the record, the summary naming the failed check, and an error annotation", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "record-"));
    const summary = path.join(tmp, "summary.md");
    fs.writeFileSync(path.join(tmp, "smoke-report.json"), JSON.stringify({ ok: false, steps: [{ name: "login", status: "fail", detail: "401" }] }));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), path.join(tmp, "Pulumi.staging.yaml"));
    const fromParts = JSON.stringify({ kubernetes: "1.34", "addon:amazon-cloudwatch-observability": "v1.34.0-eksbuild.1", mysql: "8.4", zenml: "0.97.0" });
    const r = spawnSync(process.execPath, [path.join(PROJECT_DIR, "tools", "cli.cjs"), "deploy-record", "--stack", "staging", "--sha", sha(1), "--from", "0.97.0", "--from-parts", fromParts, "--to", "0.98.0", "--check", "up=success", "--check", "smoke-server=failure", "--report", "smoke-server=smoke-report.json", "--dir", tmp], {
      cwd: tmp,
      env: { ...process.env, GITHUB_STEP_SUMMARY: summary },
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`::error title=staging%3A smoke-server failure::smoke-server failure on staging at ${sha(1)} (login: 401)`);
    expect(fs.readFileSync(summary, "utf8")).toMatch(/Failed: smoke-server\.[\s\S]*- login: 401/);
    const record = JSON.parse(fs.readFileSync(path.join(tmp, RECORD_FILE), "utf8"));
    expect(record).toMatchObject({ result: "failure", from: "0.97.0", to: "0.98.0" });
    // Every part the stack file pins, from what ran before (--from-parts); an add-on at AWS's default has no pin to record.
    const k8s = fs.readFileSync(path.join(tmp, "Pulumi.staging.yaml"), "utf8").match(/kubernetesVersion: "(\S+)"/)![1];
    expect(record.parts).toEqual({ kubernetes: { from: "1.34", to: k8s }, mysql: { from: "8.4", to: "8.4" }, zenml: { from: "0.97.0", to: "0.98.0" } });
  }, 30_000);

  /** A git repo with staging's pin at c1, and a gh that serves runs and records from files (prod's data timed for 0.98.0 in 6 minutes). */
  function world(stagingRuns: FakeRun[], prodRuns: FakeRun[]) {
    const { cwd, head } = stackFilesCheckout("zenml-gate-");
    const gh = fakeGh();
    for (const [stack, runs] of [["staging", stagingRuns], ["prod", prodRuns]] as const) {
      for (const r of runs) gh.addRun(stack, { ...r.run, headSha: head }, r.record && { ...r.record, sha: head });
    }
    gh.addTiming({ databaseId: 900, headSha: head, status: "completed", conclusion: "success", createdAt: "2026-11-02T01:00:00Z", url: "https://github.invalid/runs/900" }, TIMED);
    const bin = gh.bin;
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, GH_TOKEN: "t" };
    /** The script npm runs, as a real process. */
    const gateProcess = (...args: string[]) => spawnSync(process.execPath, [path.join(PROJECT_DIR, "tools", "cli.cjs"), "staging-gate", "--sha", head, ...args], { cwd, env, encoding: "utf8" });
    /** The same main() in-process, with this world's gh, token and checkout. */
    const gate = (...args: string[]) => gateIn(["--sha", head, ...args], env, cwd);
    return { head, gate, gateProcess, bin };
  }

  const gateIn = async (argv: string[], env: NodeJS.ProcessEnv, cwd: string) => {
    const { code, stdout, stderr } = await captureIo((io) => stagingGate(argv, io, env, cwd));
    return { status: code, stdout, stderr };
  };

  it("passes (exit 0) and refuses a red latest run (exit 1, one line and an error annotation)", async () => {
    // The real files: staging 0.98.0, prod 0.97.0.
    const staging = [run("staging", sha(100), { from: "0.97.0", to: "0.98.0", at: "2026-11-02T00:00:00Z" })];
    const prod = [run("prod", sha(101), { from: "none", to: "0.97.0", at: "2026-11-01T00:00:00Z" })];
    const w = world(staging, prod);
    // The promotion: prod's file pins 0.98.0, the move 0.97.0 -> 0.98.0 that staging made.
    const promoted = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "prod-file-")), "Pulumi.prod.yaml");
    fs.writeFileSync(promoted, fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8").replace("zenmlVersion: 0.97.0", "zenmlVersion: 0.98.0"));
    const ok = w.gateProcess("--prod-file", promoted);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^staging-gate: prod may deploy \w{12} \(ZenML 0\.97\.0 -> 0\.98\.0\)/m);

    const red = world([...staging, run("staging", sha(100), { from: "0.98.0", to: "0.98.0", conclusion: "failure", at: "2026-11-03T00:00:00Z" })], prod);
    const refused = await red.gate("--prod-file", promoted);
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^staging-gate: the latest staging run of \w{12} ended failure/)]);
    expect(refused.stdout).toMatch(/^::error title=staging gate%3A latest staging run::/);
  }, 60_000);

  it("exit 2 with one line for --help, a missing token and a missing gh", async () => {
    const w = world([], []);
    const help = await w.gate("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run --silent staging-gate -- --sha <commit>/);
    const env = (extra: NodeJS.ProcessEnv) => gateIn(["--sha", w.head], { PATH: path.dirname(process.execPath), ...extra }, PROJECT_DIR);
    const noGh = await env({});
    expect(noGh.status).toBe(2);
    expect(noGh.stderr).toMatch(/^staging-gate: the GitHub CLI `gh` is not on PATH[^\n]*\n$/);
    const noToken = await env({ PATH: `${w.bin}:${path.dirname(process.execPath)}` });
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toMatch(/^staging-gate: no GitHub token: set GH_TOKEN[^\n]*\n$/);
    const badSha = await w.gate("--sha", "main");
    expect(badSha.status).toBe(2);
  }, 60_000);
});
