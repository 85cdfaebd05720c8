// Two consecutive ZenML upgrades through the documented loop (docs/UPGRADING.md, "The loop"),
// replayed in a temporary Git repository with a bare `origin`: bump, PR to staging, merge, staging
// deploy + record, promote, PR to staging, merge, staging deploy + record, PR staging -> main,
// fast-forward, gate, prod deploy + record; then the same again. Every PR's previews are the
// offline plan of the PR's merge result against what each stack runs at that point (the outputs of
// its last simulated deploy), and a stack the PR cannot change must plan exactly as before.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { StackOutputsByName } from "../tools/offline/mocks";
import { ORGANIZATION } from "../tools/offline/plan-inputs";
import type { Plan } from "../tools/offline/plan-result";
import { buildRecord, movesText, partMoves } from "../tools/gitops/deploy-record";
import { pinnedVersions } from "../tools/gitops/pin-file";
import { TIMING_RECORD_KIND } from "../tools/gitops/migration-gate";
import { fakeGh } from "./helpers/fake-gh";
import { migration, writeFakeWheel } from "./helpers/fake-wheel";
import { PROJECT_DIR, cachedPlan, cachedRunPlan } from "./helpers/plan";
import { captureIo } from "./helpers/cli";
import { withEnvAsync } from "./helpers/env";
import { npmStandIn } from "./helpers/npm-stand-in";
import { main as bump } from "../tools/gitops/bump";
import { main as promote } from "../tools/gitops/promote";

const STACKS = ["staging", "prod"] as const;
type Stack = (typeof STACKS)[number];
const ref = (stack: Stack) => `${ORGANIZATION}/zenml-platform/${stack}`;
const GREEN = ["up", "post-upgrade", "smoke-server", "smoke-pipelines"].map((c) => `${c}=success`);

/** The commands of the runbook's loop (docs/UPGRADING.md), by step: every `git ...` or `npm ...` span. */
export function documentedLoop(): Map<number, string[]> {
  const text = fs.readFileSync(path.join(PROJECT_DIR, "docs", "UPGRADING.md"), "utf8");
  const section = text.slice(text.indexOf("## The loop"), text.indexOf("\n## ", text.indexOf("## The loop") + 3));
  const steps = new Map<number, string[]>();
  for (const m of section.matchAll(/^(\d)\. (.*)$/gm)) steps.set(Number(m[1]), [...m[2].matchAll(/`((?:git|npm) [^`]+)`/g)].map((c) => c[1]));
  return steps;
}

const workflowStep = (file: string, job: string, pattern: RegExp) => {
  const wf = parse(fs.readFileSync(path.join(PROJECT_DIR, ".github", "workflows", file), "utf8")) as { jobs: Record<string, { steps: { id?: string; run?: string }[] }> };
  return wf.jobs[job].steps.find((s) => pattern.test(s.run ?? ""))!.run!;
};

/** The preview workflow's own docs-only / quiet-stacks filter, run against the real diff. */
const filterScript = workflowStep("preview.yml", "changes", /quiet-stacks/);
/** deploy-prod.yml's gate step, run as written. */
const gateScript = workflowStep("deploy-prod.yml", "gate", /staging-gate/);
/** migration-timing.yml's step that decides whether a push to staging is timed, run as written. */
const timingPinScript = workflowStep("migration-timing.yml", "time", /pin-changes/);

const LOOP = documentedLoop();

/** Wheels of the releases the replay moves through: bump's and promote's dossiers come from them, never from an index. */
function releaseWheels(dir: string): Record<string, string> {
  const migrations: Record<string, string> = {};
  let previous: string | null = null;
  for (const version of ["0.97.0", "0.98.0", "0.99.0"]) {
    migrations[`${version.replace(/\./g, "_")}.py`] = migration(version, previous, `Release ${version}`, "pass");
    writeFakeWheel(dir, { version, migrations: { ...migrations } });
    previous = version;
  }
  return { UPGRADE_NOTES_WHEELS: dir, PIP_NO_INDEX: "1", PIP_FIND_LINKS: dir };
}

class Replay {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-replay-"));
  readonly origin = path.join(this.root, "origin.git");
  readonly work = path.join(this.root, "work");
  readonly gh = fakeGh();
  /** `npm run` in the steps: the stand-in that runs the same package.json scripts (tests/npm-stand-in.test.ts holds it to npm). */
  private readonly npmBin = npmStandIn();
  readonly wheelsEnv = releaseWheels(path.join(this.root, "wheels"));
  /** What each stack reports as deployed: the outputs of its last deploy. */
  deployed: StackOutputsByName = {};
  /** The commit each stack last deployed. */
  deployedAt: Partial<Record<Stack, string>> = {};
  private runId = 1;
  private clock = Date.parse("2026-11-01T00:00:00Z");
  readonly log: string[] = [];

  constructor() {
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", this.origin]);
    execFileSync("git", ["clone", "-q", this.origin, this.work], { stdio: "ignore" });
    this.git("config", "user.name", "Platform Team");
    this.git("config", "user.email", "platform@example.com");
    // The project's scripts, so `npm run ...` works in the checkout as in the real repository.
    fs.copyFileSync(path.join(PROJECT_DIR, "package.json"), path.join(this.work, "package.json"));
    for (const dir of ["node_modules", "tools"]) fs.symlinkSync(path.join(PROJECT_DIR, dir), path.join(this.work, dir));
    fs.appendFileSync(path.join(this.work, ".git", "info", "exclude"), "package.json\nnode_modules\ntools\n");
  }

  /** Both stacks deployed from one commit on main and staging: the project's stack files, edited. */
  async start(message: string, edit: (stackFile: string) => string): Promise<void> {
    for (const stack of STACKS) fs.writeFileSync(path.join(this.work, `Pulumi.${stack}.yaml`), edit(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")));
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(this.work, "Pulumi.yaml"));
    this.git("add", ".");
    this.git("commit", "-qm", message);
    this.git("push", "-q", "origin", "HEAD:main", "HEAD:staging");
    const c0 = this.git("rev-parse", "HEAD");
    await this.deploy("staging", c0);
    await this.deploy("prod", c0);
  }

  /** A command from the docs (or a workflow step), in the checkout, with the stand-in gh. */
  sh(command: string, env: Record<string, string> = {}): string {
    const r = spawnSync("bash", ["-e", "-c", command], { cwd: this.work, encoding: "utf8", env: { ...process.env, ...this.wheelsEnv, PATH: `${this.gh.bin}:${this.npmBin}:${process.env.PATH}`, GH_TOKEN: "replay", ...env } });
    if (r.status !== 0) throw new Error(`\`${command}\` exited ${r.status}: ${r.stderr.trim().split("\n").pop()}`);
    return r.stdout;
  }

  /**
   * A docs command whose `npm run bump|promote` part runs in-process, planning through the suite's
   * cache: a Kubernetes dossier plans the stack, about 1.5 s per command as a process. The git part
   * runs in the shell as written; `upgrade()` runs every command through npm.
   */
  async shInProcess(command: string): Promise<string> {
    const m = /^(.*) && npm run (bump|promote)(?: -- (.*))?$/.exec(command);
    if (!m) throw new Error(`not a docs command ending in npm run bump|promote: ${command}`);
    this.sh(m[1]);
    const tool = m[2] === "bump" ? bump : promote;
    const env = { ...process.env, PATH: `${this.gh.bin}:${process.env.PATH}`, GH_TOKEN: "replay" };
    // The dossier reads the wheels' folder from the environment, as the process would.
    const r = await withEnvAsync(this.wheelsEnv, () => captureIo((io) => tool(["--dir", this.work, ...(m[3] ?? "").split(" ").filter(Boolean)], io, env, cachedRunPlan)));
    if (r.code !== 0) throw new Error(`\`${command}\` exited ${r.code}: ${r.stderr.trim().split("\n").pop()}`);
    return r.stdout;
  }

  git(...args: string[]): string {
    return execFileSync("git", args, { cwd: this.work, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  }

  pin(stack: Stack, rev = "HEAD", part = "zenml"): string {
    return pinnedVersions(this.git("show", `${rev}:Pulumi.${stack}.yaml`), `Pulumi.${stack}.yaml`)[part];
  }

  private readonly plans = new Map<string, Plan>();

  /** The plan of a stack at a commit against what runs now (the same inputs give the same plan). */
  private async plan(stack: Stack, rev: string): Promise<Plan> {
    const project = this.git("show", `${rev}:Pulumi.yaml`);
    const file = this.git("show", `${rev}:Pulumi.${stack}.yaml`);
    const key = JSON.stringify([stack, project, file, this.deployed]);
    if (!this.plans.has(key)) {
      // Through the suite's plan cache: the same inputs planned by an earlier run are not planned again.
      const computed = await cachedPlan(["replay", key], async () => {
        // Loaded on a cache miss only: with every plan cached, this file never loads Pulumi.
        const { runPlan } = await import("../tools/offline/plan.js");
        const dir = fs.mkdtempSync(path.join(this.root, `tree-${stack}-`));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project);
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), file + "\n");
        return runPlan({ stack, projectDir: dir, stackOutputs: structuredClone(this.deployed) });
      });
      this.plans.set(key, computed);
    }
    return this.plans.get(key)!;
  }

  /** The PR's checks as CI would run them on its merge commit; returns the merge commit. */
  async openPr(branch: string, base: "staging" | "main"): Promise<string> {
    this.git("push", "-q", "origin", branch);
    this.git("fetch", "-q", "origin");
    // GitHub checks a PR out as its merge into the base.
    this.git("switch", "-q", "--detach", `origin/${base}`);
    this.git("merge", "-q", "--no-ff", "--no-edit", `origin/${branch}`);
    const merge = this.git("rev-parse", "HEAD");
    const out = path.join(this.root, `filter-${merge}`);
    execFileSync("bash", ["-e", "-c", filterScript], { cwd: this.work, env: { ...process.env, GITHUB_OUTPUT: out, GITHUB_BASE_REF: base, GITHUB_HEAD_REF: branch }, stdio: "ignore" });
    const quiet = JSON.parse(/quiet-stacks=(.*)/.exec(fs.readFileSync(out, "utf8"))![1]) as Stack[];
    for (const stack of STACKS) {
      const head = await this.plan(stack, merge);
      if (quiet.includes(stack)) {
        // No changes = the PR's desired state is the desired state of the commit the stack runs.
        const running = await this.plan(stack, this.deployedAt[stack]!);
        expect(isDeepStrictEqual(head.resources, running.resources) && isDeepStrictEqual(head.outputs, running.outputs), `${branch} -> ${base}: ${stack}'s preview must show no changes`).toBe(true);
        expect((head.upgradeReport as { parts: { move: string }[] }).parts.every((e) => e.move === "unchanged")).toBe(true);
      }
      const moving = (head.upgradeReport as { parts: { part: string; deployed: string | null; desired: string; move: string }[] }).parts.filter((e) => e.move !== "unchanged");
      const previews = moving.map((e) => `${e.part === "zenml" ? "" : `${e.part} `}${e.deployed ?? "none"} -> ${e.desired}`).join(", ");
      this.log.push(`PR ${branch} -> ${base}: ${stack} previews ${quiet.includes(stack) || !previews ? "no changes" : previews}`);
    }
    return merge;
  }

  /** Merges the PR (a merge commit, as GitHub's button makes) and pushes the base. */
  merge(branch: string, base: "staging"): string {
    this.git("switch", "-q", "-C", base, `origin/${base}`);
    this.git("merge", "-q", "--no-ff", "--no-edit", `origin/${branch}`);
    this.git("push", "-q", "origin", base);
    return this.git("rev-parse", "HEAD");
  }

  /** deploy-staging.yml / deploy-prod.yml: `up` (the plan against what runs), then the record of every part's move. */
  async deploy(stack: Stack, sha: string): Promise<void> {
    const before = this.deployed[ref(stack)];
    const from = (before?.zenmlVersion as string | undefined) ?? "none";
    const up = await this.plan(stack, sha);
    this.deployed[ref(stack)] = up.outputs;
    this.deployedAt[stack] = sha;
    const run = { databaseId: this.runId++, headSha: sha, status: "completed", conclusion: "success", createdAt: new Date((this.clock += 3_600_000)).toISOString(), url: `https://github.invalid/runs/${this.runId}` };
    // What the workflow's --from-parts passes: the partVersions output before `up`.
    const parts = partMoves((before?.partVersions as Record<string, string> | undefined) ?? {}, pinnedVersions(this.git("show", `${sha}:Pulumi.${stack}.yaml`), `Pulumi.${stack}.yaml`));
    const record = buildRecord({ stack, sha, from, to: this.pin(stack, sha), checks: GREEN, parts });
    this.gh.addRun(stack, run, record);
    this.log.push(`deploy ${stack} at ${sha.slice(0, 7)}: ${movesText(record)}`);
  }

  /**
   * migration-timing.yml on a push to staging that changes Pulumi.prod.yaml: its own step decides
   * what to time; the timing needs AWS, so its record (a 4-minute migration) stands in.
   */
  timeMigration(before: string, sha: string): void {
    const out = path.join(this.root, `timing-${sha}`);
    fs.writeFileSync(out, "");
    this.sh(timingPinScript, { GITHUB_OUTPUT: out, EVENT: "push", BEFORE: before, TO_INPUT: "" });
    const decided = Object.fromEntries(fs.readFileSync(out, "utf8").trim().split("\n").map((l) => l.split("=") as [string, string]));
    expect(decided).toEqual({ run: "true", to: this.pin("prod", sha) });
    const run = { databaseId: this.runId++, headSha: sha, status: "completed", conclusion: "success", createdAt: new Date((this.clock += 600_000)).toISOString(), url: `https://github.invalid/runs/${this.runId}` };
    this.gh.addTiming(run, { kind: TIMING_RECORD_KIND, source: "prod", target: "staging", snapshot: "rds:zenml-prod-nightly", snapshotCreatedAt: new Date(this.clock).toISOString(), fromRevisions: [], to: decided.to, result: "passed", seconds: 240, minutes: 4, sizeMb: 900, allocatedStorageGb: 100, instanceClass: "db.m7g.large", copyDeleted: true, measuredAt: new Date(this.clock).toISOString() });
    this.log.push(`migration-timing at ${sha.slice(0, 7)}: prod's data migrates to ${decided.to} in 4 min`);
  }

  /** The promotion to main: a fast-forward to staging's head, then deploy-prod's gate and deploy. */
  async promoteToMain(): Promise<void> {
    await this.openPr("staging", "main");
    this.git("fetch", "-q", "origin");
    const before = this.git("rev-parse", "origin/main");
    // Step 4's command: no merge commit, main becomes exactly the commit staging deployed.
    for (const command of LOOP.get(4)!) this.sh(command);
    this.git("fetch", "-q", "origin");
    const head = this.git("rev-parse", "origin/main");
    expect(head).toBe(this.git("rev-parse", "origin/staging"));
    // deploy-prod.yml checks out the pushed commit and runs its gate step as written.
    this.git("switch", "-q", "--detach", head);
    this.log.push(this.sh(gateScript, { GITHUB_SHA: head, BEFORE: before }).trim());
    await this.deploy("prod", head);
  }

  /** Steps 1-2 of the loop for any part: bump staging on a branch, PR, merge, deploy. The docs' commands with --part. */
  async bumpPart(part: string, version: string): Promise<string> {
    const command = LOOP.get(1)![0].replace("upgrade-zenml-X.Y.Z", `upgrade-${part}-${version}`).replace("--version X.Y.Z", `--part ${part} --version ${version}`);
    const out = await this.shInProcess(command);
    this.git("commit", "-qam", `Upgrade ${part} to ${version} on staging`);
    await this.openPr(`upgrade-${part}-${version}`, "staging");
    await this.deploy("staging", this.merge(`upgrade-${part}-${version}`, "staging"));
    return out;
  }

  /** Steps 3-5 for any part: promote on a branch, PR, merge, staging redeploys, main fast-forwards, gate, prod deploys. */
  async promotePart(part: string): Promise<string> {
    this.git("fetch", "-q", "origin");
    const branch = `promote-${part}-${this.runId}`;
    const out = await this.shInProcess(LOOP.get(3)![0].replace("promote-zenml-X.Y.Z", branch).replace(/npm run promote$/, `npm run promote -- --part ${part}`));
    this.git("commit", "-qam", `Promote ${part} to prod`);
    await this.openPr(branch, "staging");
    await this.deploy("staging", this.merge(branch, "staging"));
    await this.promoteToMain();
    return out;
  }

  /**
   * One upgrade, exactly as the five documented steps say. `inProcess` runs bump and promote
   * in-process (the git part of their steps still in the shell): the first upgrade proves the
   * commands as written, the second what follows from the first.
   */
  async upgrade(version: string, { inProcess }: { inProcess: boolean }): Promise<void> {
    const run = async (step: number) => {
      const commands = LOOP.get(step)!.map((command) => command.replace(/X\.Y\.Z/g, version));
      return (await Promise.all(commands.map((c) => (inProcess ? this.shInProcess(c) : this.sh(c))))).join("");
    };
    // 1. Bump on a branch off staging, PR to staging; its PR body carries the dossier of the move.
    this.git("fetch", "-q", "origin");
    const [stagingPin, prodPin] = [this.pin("staging", "origin/staging"), this.pin("prod", "origin/staging")];
    expect(await run(1)).toContain(`## Upgrade dossier: ZenML ${stagingPin} -> ${version}`);
    this.git("commit", "-qam", `Upgrade ZenML to ${version} on staging`);
    await this.openPr(`upgrade-zenml-${version}`, "staging");
    // 2. Merge: staging deploys and records.
    await this.deploy("staging", this.merge(`upgrade-zenml-${version}`, "staging"));
    // 3. Promote on a branch off staging, PR to staging, merge: staging redeploys that commit.
    expect(await run(3)).toContain(`## Upgrade dossier: ZenML ${prodPin} -> ${version}`);
    this.git("commit", "-qam", `Promote ZenML ${version} to prod`);
    await this.openPr(`promote-zenml-${version}`, "staging");
    const before = this.git("rev-parse", "origin/staging");
    const promoted = this.merge(`promote-zenml-${version}`, "staging");
    await this.deploy("staging", promoted);
    // The same push changes prod's pin: migration-timing.yml times prod's migration to it.
    this.timeMigration(before, promoted);
    // 4 and 5. PR staging -> main, fast-forward, gate, prod deploys.
    await this.promoteToMain();
  }
}

describe("two consecutive upgrades through the documented commands", () => {
  it("the docs' loop has the commands the replay runs, and the loop and the branch model are each told once", () => {
    expect([...LOOP.keys()]).toEqual([1, 2, 3, 4, 5]);
    expect(LOOP.get(1)).toEqual([expect.stringMatching(/origin\/staging && npm run bump -- --stack staging --version X\.Y\.Z$/)]);
    expect(LOOP.get(3)).toEqual([expect.stringMatching(/origin\/staging && npm run promote$/)]);
    expect(LOOP.get(4)).toEqual(["git fetch origin && git push origin origin/staging:main"]);
    const docs = ["README.md", ...fs.readdirSync(path.join(PROJECT_DIR, "docs")).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));
    const telling = (line: string) => docs.filter((f) => fs.readFileSync(path.join(PROJECT_DIR, f), "utf8").includes(line));
    // Other docs link to these sections instead of retelling them (and drifting apart).
    expect(telling("1. Every change lands on `staging` by PR")).toEqual(["docs/GITOPS.md"]);
    expect(telling("1. `git fetch origin && git switch -c upgrade-zenml-X.Y.Z origin/staging")).toEqual(["docs/UPGRADING.md"]);
    const gitops = fs.readFileSync(path.join(PROJECT_DIR, "docs", "GITOPS.md"), "utf8");
    const model = gitops.slice(gitops.indexOf("1. Every change lands"), gitops.indexOf("\n\n", gitops.indexOf("1. Every change lands")));
    expect(model.split("\n")).toHaveLength(5);
  });

  it("moves Kubernetes 1.33 -> 1.34 -> 1.35 the same way: staging one minor per update, then prod two steps behind takes each step staging performed, past the gate", async () => {
    const r = new Replay();
    await r.start("Both stacks on Kubernetes 1.33", (text) => text.replace(/zenmlVersion: \S+/, "zenmlVersion: 0.98.0").replace(/kubernetesVersion: \S+/, 'kubernetesVersion: "1.33"'));

    expect(await r.bumpPart("kubernetes", "1.34")).toMatch(/(^|\n)staging: Kubernetes 1\.33 -> 1\.34\n/);
    expect(await r.bumpPart("kubernetes", "1.35")).toMatch(/(^|\n)staging: Kubernetes 1\.34 -> 1\.35\n/);
    // Prod is two steps behind: promote writes the step staging performed, and names the next one.
    const first = await r.promotePart("kubernetes");
    expect(first).toMatch(/(^|\n)prod: Kubernetes 1\.33 -> 1\.34\nStaging performed Kubernetes 1\.33 -> 1\.34 green at \w{12} \(by staging's deploy records\)\.\nThen: 1\.34 -> 1\.35 \(staging performed it green at \w{12}\)/);
    expect(first).toContain("## Upgrade dossier: Kubernetes 1.33 -> 1.34 (prod)");
    const second = await r.promotePart("kubernetes");
    expect(second).toMatch(/(^|\n)prod: Kubernetes 1\.34 -> 1\.35\n/);
    if (process.env.REPLAY_LOG) console.log(r.log.join("\n"));

    for (const stack of STACKS) expect(r.deployed[ref(stack)], stack).toMatchObject({ versionHistory: { parts: { kubernetes: { deployed: "1.35", versions: ["1.33", "1.34", "1.35"] } } } });
    expect(r.log.filter((l) => l.startsWith("staging-gate:"))).toEqual([
      expect.stringMatching(/prod may deploy \w+ \(Kubernetes 1\.33 -> 1\.34\)/),
      expect.stringMatching(/prod may deploy \w+ \(Kubernetes 1\.34 -> 1\.35\)/),
    ]);
    expect(r.log.filter((l) => l.startsWith("PR upgrade-kubernetes-1.35"))).toEqual([
      "PR upgrade-kubernetes-1.35 -> staging: staging previews kubernetes 1.34 -> 1.35, addon:amazon-cloudwatch-observability v1.34.0-eksbuild.1 -> v1.35.0-eksbuild.1",
      "PR upgrade-kubernetes-1.35 -> staging: prod previews no changes",
    ]);
    expect(r.log.filter((l) => l.startsWith("deploy prod"))).toEqual([
      expect.stringMatching(/^deploy prod at \w+: .*Kubernetes \(first deploy\) -> 1\.33/),
      expect.stringMatching(/^deploy prod at \w+: .*Kubernetes 1\.33 -> 1\.34/),
      expect.stringMatching(/^deploy prod at \w+: .*Kubernetes 1\.34 -> 1\.35/),
    ]);
  }, 300_000);

  it("every PR previews green on both stacks, staging-only PRs leave prod unchanged and the reverse, and the gate lets each promotion through", async () => {
    const r = new Replay();
    // The starting point: both stacks run 0.97.0 from the same commit on main and staging.
    await r.start("Both stacks on 0.97.0", (text) => text.replace(/zenmlVersion: \S+/, "zenmlVersion: 0.97.0"));

    await r.upgrade("0.98.0", { inProcess: false });
    await r.upgrade("0.99.0", { inProcess: true });
    if (process.env.REPLAY_LOG) console.log(r.log.join("\n"));

    const ran = { zenmlVersion: "0.99.0", versionHistory: { parts: { zenml: { deployed: "0.99.0", versions: ["0.97.0", "0.98.0", "0.99.0"] } } } };
    expect(r.deployed[ref("staging")]).toMatchObject(ran);
    expect(r.deployed[ref("prod")]).toMatchObject(ran);
    // main never diverged: it is staging's head, and every file on staging matches prod's deploy.
    r.git("fetch", "-q", "origin");
    expect(r.git("rev-parse", "origin/main")).toBe(r.git("rev-parse", "origin/staging"));
    expect(r.log.filter((l) => l.startsWith("staging-gate:"))).toEqual([
      expect.stringMatching(/prod may deploy \w+ \(ZenML 0\.97\.0 -> 0\.98\.0\)/),
      expect.stringMatching(/prod may deploy \w+ \(ZenML 0\.98\.0 -> 0\.99\.0\)/),
    ]);
    // Which stack each PR could change: the bump touches staging only, the promotion prod only.
    expect(r.log.filter((l) => l.startsWith("PR upgrade-zenml-0.99.0"))).toEqual(["PR upgrade-zenml-0.99.0 -> staging: staging previews 0.98.0 -> 0.99.0", "PR upgrade-zenml-0.99.0 -> staging: prod previews no changes"]);
    expect(r.log.filter((l) => l.startsWith("PR promote-zenml-0.99.0"))).toEqual(["PR promote-zenml-0.99.0 -> staging: staging previews no changes", "PR promote-zenml-0.99.0 -> staging: prod previews 0.98.0 -> 0.99.0"]);
    expect(r.log.filter((l) => l.startsWith("PR staging -> main")).slice(-2)).toEqual(["PR staging -> main: staging previews no changes", "PR staging -> main: prod previews 0.98.0 -> 0.99.0"]);

    // A commit that reaches main without staging (a hotfix pushed past it) is refused by the gate.
    r.git("switch", "-q", "-c", "hotfix", "origin/main");
    fs.appendFileSync(path.join(r.work, "Pulumi.prod.yaml"), "# hotfix\n");
    r.git("commit", "-qam", "Hotfix straight to main");
    expect(() => r.sh(gateScript, { GITHUB_SHA: r.git("rev-parse", "HEAD"), BEFORE: r.git("rev-parse", "origin/main") })).toThrow(/exited 1: staging-gate: staging never deployed commit \w{12}/);
    // And promote refuses a branch that does not contain staging's head (the old "branch off main").
    r.git("switch", "-q", "-c", "stale", "origin/main~3");
    expect(() => r.sh("npm run promote")).toThrow(/exited 2: promote: this checkout does not contain origin\/staging/);
  }, 240_000);
});
