import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { findKubernetes, findMysql, findPypi, finalReleases, readSettings, type WatchSettings } from "../tools/upgrade-notes/release-watch";
import { main } from "../tools/upgrade-notes/release-watch-cli";
import { defaultSources, pinnedRequirements, type ClusterVersions, type ReleaseSources, type EngineVersions, type MajorEngineVersions, type PypiProject } from "../tools/upgrade-notes/release-sources";
import { captureIo } from "./helpers/cli";
import { migration, writeFakeWheel } from "./helpers/fake-wheel";
import { PROJECT_DIR, cachedRunPlan } from "./helpers/plan";

const WORKFLOW = path.join(PROJECT_DIR, ".github", "workflows", "zenml-release-watch.yml");
const FIXTURES = path.join(PROJECT_DIR, "tests", "fixtures", "release-watch");
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const wheel = { packagetype: "bdist_wheel", yanked: false };
const pypi = (releases: Record<string, object[]>): PypiProject => ({ releases }) as PypiProject;
const fixture = <T>(name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as T;
const NOTHING: WatchSettings = { hold: "", supportMarginDays: 60, parts: {} };
const at = (day: string) => new Date(`${day}T12:00:00Z`);

describe("what the watch finds for each part", () => {
  const project = pypi({
    "0.97.0": [wheel],
    "0.98.0": [wheel],
    "0.99.0rc1": [wheel],
    "0.99.0.dev3": [wheel],
    "0.99.0": [{ ...wheel, yanked: true }],
    "0.99.1": [wheel],
    "0.100.0": [{ packagetype: "sdist", yanked: false }],
  });

  it("PyPI: only final, not yanked releases with a wheel, newest first, unless held or skipped", () => {
    expect(finalReleases(project)).toEqual(["0.97.0", "0.98.0", "0.99.1"]);
    expect(findPypi("zenml", "0.98.0", project, NOTHING)).toEqual({ part: "zenml", pin: "0.98.0", candidates: ["0.99.1"], reason: "ZenML 0.99.1 is out; staging pins 0.98.0" });
    expect(findPypi("zenml", "0.97.0", project, NOTHING).candidates).toEqual(["0.99.1", "0.98.0"]);
    expect(findPypi("zenml", "0.98.0", project, { ...NOTHING, parts: { zenml: { hold: "", skip: ["0.99.1"] } } })).toMatchObject({ candidates: [], reason: "every newer ZenML is in release-watch.yaml's skip list (0.99.1)" });
    expect(findPypi("mlflow", "3.17.2", pypi({ "3.18.0": [wheel] }), { ...NOTHING, parts: { mlflow: { hold: "waiting for 3.18.1", skip: [] } } }).reason).toBe("MLflow held by release-watch.yaml: waiting for 3.18.1 (newer: 3.18.0)");
    expect(findPypi("zenml", "0.99.1", project, NOTHING)).toMatchObject({ candidates: [], reason: "staging pins ZenML 0.99.1, the newest offered" });
  });

  it("Kubernetes: the next minor only, once the pin is within the margin of the end of standard support (AWS's dates)", () => {
    const versions = fixture<ClusterVersions>("eks-describe-cluster-versions.json");
    expect(findKubernetes("1.35", versions, NOTHING, at("2026-12-07"))).toMatchObject({ candidates: [], reason: "Kubernetes 1.35 is in standard support until 2027-03-27 (110 days, margin 60); 1.36 is offered and will be proposed from 2027-01-26" });
    expect(findKubernetes("1.35", versions, NOTHING, at("2027-02-01"))).toMatchObject({ candidates: ["1.36"], reason: "Kubernetes 1.35 leaves standard support on 2027-03-27, in 54 days: 1.36, one minor" });
    // Two versions past support: still one minor per update (the next step is 1.34, past support itself, not 1.35).
    expect(findKubernetes("1.33", versions, NOTHING, at("2026-12-07"))).toMatchObject({ candidates: ["1.34"], reason: "Kubernetes 1.33 left standard support on 2026-07-29: 1.34, one minor (1.34 leaves standard support on 2026-12-02 too: the next minor follows it)" });
    expect(findKubernetes("1.36", versions, NOTHING, at("2026-12-07"))).toMatchObject({ candidates: [], reason: "EKS offers nothing newer than 1.36" });
    expect(findKubernetes("1.34", versions, NOTHING, at("2026-12-07"))).toMatchObject({ candidates: ["1.35"], reason: "Kubernetes 1.34 left standard support on 2026-12-02: 1.35, one minor" });
    expect(findKubernetes("1.34", versions, { ...NOTHING, supportMarginDays: 0 }, at("2026-11-01")).candidates).toEqual([]);
  });

  it("MySQL: the next major RDS upgrades to in place, once the pinned major is within the margin of its end of standard support", () => {
    const engines = fixture<EngineVersions>("rds-describe-db-engine-versions-mysql.json");
    const majors = fixture<MajorEngineVersions>("rds-describe-db-major-engine-versions-mysql.json");
    expect(findMysql("8.0", engines, majors, NOTHING, at("2026-12-07"))).toMatchObject({ candidates: ["8.4"], reason: "MySQL 8.0 left RDS standard support on 2026-07-31: 8.4" });
    expect(findMysql("8.0", engines, majors, NOTHING, at("2026-01-01")).reason).toMatch(/^MySQL 8\.0 is in RDS standard support until 2026-07-31 \(211 days, margin 60\); 8\.4 waits$/);
    expect(findMysql("8.4", engines, majors, NOTHING, at("2026-12-07"))).toMatchObject({ candidates: [], reason: "RDS offers no major upgrade from MySQL 8.4" });
  });
});

describe("release-watch.yaml", () => {
  const settings = (text: string | undefined) => {
    const dir = tmp("hold-");
    if (text !== undefined) fs.writeFileSync(path.join(dir, "release-watch.yaml"), text);
    return () => readSettings(dir);
  };

  it("the repository's file holds nothing and proposes infrastructure 60 days ahead", () => {
    expect(readSettings(PROJECT_DIR)).toEqual({ hold: "", supportMarginDays: 60, parts: {} });
  });

  it("reads a hold, a margin and each part's hold and skip list; a missing file holds nothing", () => {
    expect(settings('hold: "  staging rebuild  "\nsupportMarginDays: 30\nparts:\n  mlflow: { hold: "", skip: ["3.18.0"] }\n  kubernetes: { hold: "pending #12" }\n')()).toEqual({
      hold: "staging rebuild",
      supportMarginDays: 30,
      parts: { mlflow: { hold: "", skip: ["3.18.0"] }, kubernetes: { hold: "pending #12", skip: [] } },
    });
    expect(settings(undefined)()).toEqual({ hold: "", supportMarginDays: 60, parts: {} });
  });

  it("reports every problem at once, naming the key and what is allowed", () => {
    expect(settings("hold: 3\nskip: [v0.99.0]\nsupportMarginDays: -1\nparts:\n  postgres: {}\n  kubernetes: { skip: [1.36.0], pause: true }\n")).toThrow(
      [
        'release-watch.yaml: unknown key "skip" (allowed: hold, supportMarginDays, parts)',
        "release-watch.yaml: hold must be a reason (a string) or empty, got 3",
        "release-watch.yaml: supportMarginDays must be a whole number of days, 0..365, got -1",
        "release-watch.yaml: parts.postgres is not a part (parts: kubernetes, addon:amazon-cloudwatch-observability, mysql, zenml, mlflow)",
        "release-watch.yaml: parts.kubernetes.pause is unknown (allowed: hold, skip)",
        'release-watch.yaml: parts.kubernetes.skip entry "1.36.0" "1.36.0" is not a version like "1.35"',
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

  it("runs on a schedule (and by hand), never on pull requests, one at a time", () => {
    expect(Object.keys(w.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(w.concurrency).toEqual({ group: "zenml-release-watch", "cancel-in-progress": false });
  });

  it("has least privilege: nothing at the top, one job that may push a branch, open a PR and assume the read-only AWS role", () => {
    expect(w.permissions).toEqual({});
    expect(Object.keys(w.jobs)).toHaveLength(1);
    // actions: write only to start the images workflow on the bump branch; id-token: the read-only AWS role.
    expect(job.permissions).toEqual({ contents: "write", "pull-requests": "write", actions: "write", "id-token": "write" });
    expect(job["timeout-minutes"]).toBeGreaterThan(0);
    expect(job.environment).toBe("release-watch");
    const aws = job.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!;
    expect(aws.with).toMatchObject({ "role-to-assume": "${{ vars.AWS_ROLE_ARN }}" });
    expect(job.steps.indexOf(aws)).toBeLessThan(job.steps.findIndex((s) => s.id === "watch"));
  });

  it("pins actions by SHA and never leaves the token in the checkout", () => {
    for (const s of job.steps.filter((s) => s.uses)) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    for (const line of text.split("\n").filter((l) => /^\s*-?\s*uses:/.test(l))) expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))!;
    expect(checkout.with).toMatchObject({ ref: "staging", "persist-credentials": false });
  });

  it("decides with npm run release-watch, applies exactly that part and version, pins images for ZenML only, and opens the PR to staging", () => {
    expect(runs).toContain('npm run --silent release-watch -- --github-output "$GITHUB_OUTPUT"');
    expect(runs).toContain('npm run --silent release-watch -- --apply --part "$PART" --version "$VERSION" --body-file "$RUNNER_TEMP/pr-body.md"');
    expect(job.steps.find((s) => /pin-images/.test(s.run ?? ""))!.if).toMatch(/steps\.watch\.outputs\.part == 'zenml'/);
    expect(runs).toMatch(/gh pr create --base staging --head "\$BRANCH" --title "\$TITLE" --body-file "\$RUNNER_TEMP\/pr-body\.md"/);
    // The new version's built image (ZenML: the post-upgrade Job's, MLflow: its server's): requirements
    // locked and committed with the pin, then built on the branch; other parts build nothing.
    const lock = job.steps.find((s) => /lock-images/.test(s.run ?? ""))!;
    expect(lock.if).toMatch(/steps\.watch\.outputs\.part == 'zenml' \|\| steps\.watch\.outputs\.part == 'mlflow'/);
    expect(lock.run).toContain('npm run --silent lock-images -- --image "$([ "$PART" = zenml ] && echo post-upgrade || echo mlflow)" --version "$VERSION"');
    expect(runs).toMatch(/git add components\/post-upgrade\/image\/locks components\/mlflow\/image\/locks\n\s*git commit -am/);
    expect(runs.indexOf('then gh workflow run images.yml --ref "$BRANCH"; fi')).toBeGreaterThan(runs.indexOf('git push origin "HEAD:refs/heads/$BRANCH"'));
    // Expressions reach scripts through env only (no template injection into run:).
    expect(runs).not.toMatch(/\$\{\{/);
  });
});

describe("npm run release-watch over every part (a stand-in PyPI, fake wheels, AWS fixtures)", () => {
  let server: http.Server;
  let wheels: string;
  // One set of sources for every run below, as one process would hold them: pip answers each
  // requirement set once (38 pip runs took 31 s of this file before).
  let sources: ReleaseSources;
  // 47000-47099 is this project's test port block for the upgrade dossier.
  const PORT = 47011;
  const migrations = (versions: string[]) => Object.fromEntries(versions.map((v, i) => [`${v}.py`, migration(v, i === 0 ? null : versions[i - 1], `Release ${v}`, "pass")]));
  beforeAll(async () => {
    wheels = tmp("watch-wheels-");
    writeFakeWheel(wheels, { version: "0.97.0", migrations: migrations(["0.97.0"]) });
    writeFakeWheel(wheels, { version: "0.98.0", migrations: migrations(["0.97.0", "0.98.0"]) });
    writeFakeWheel(wheels, { version: "0.99.0", migrations: migrations(["0.97.0", "0.98.0", "0.99.0"]) });
    // 0.99.1 asks for a release of a dependency nobody published: it does not install.
    writeFakeWheel(wheels, { version: "0.99.1", migrations: migrations(["0.97.0", "0.98.0", "0.99.0", "0.99.1"]), requiresDist: ["notpublished==9.9.9"] });
    for (const v of ["3.17.2", "3.18.0"]) writeFakeWheel(wheels, { name: "mlflow", version: v, migrations: {} });
    writeFakeWheel(wheels, { name: "pytest", version: "8.4.2", migrations: {} });
    writeFakeWheel(wheels, { name: "PyMySQL", version: "1.1.2", migrations: {} });
    const releases: Record<string, object> = { zenml: { releases: { "0.98.0": [wheel], "0.99.0": [wheel], "0.99.1": [wheel], "0.100.0rc1": [wheel] } }, mlflow: { releases: { "3.17.2": [wheel], "3.18.0": [wheel] } } };
    server = http.createServer((req, res) => {
      const project = /^\/pypi\/([^/]+)\/json$/.exec(req.url ?? "")?.[1];
      if (!project || !releases[project]) res.writeHead(404, { connection: "close" }).end();
      else res.writeHead(200, { "content-type": "application/json", connection: "close" }).end(JSON.stringify(releases[project]));
    });
    await new Promise<void>((resolve) => server.listen(PORT, "127.0.0.1", resolve));
    for (const [k, v] of Object.entries({ RELEASE_WATCH_PYPI: `http://127.0.0.1:${PORT}/pypi`, RELEASE_WATCH_AWS_FIXTURES: FIXTURES, UPGRADE_NOTES_WHEELS: wheels, PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheels })) vi.stubEnv(k, v);
    sources = defaultSources(process.env);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
  /** A project whose staging lags on every part: Kubernetes 1.34, a pinned add-on, MySQL 8.0, ZenML 0.98.0, MLflow 3.17.2. */
  const project = () => {
    const dir = tmp("watch-project-");
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "release-watch.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    for (const stack of ["staging", "prod"]) {
      const file = path.join(dir, `Pulumi.${stack}.yaml`);
      const set = (text: string, key: string, value: string) => text.replace(new RegExp(`(zenml-platform:${key}: ).*`), `$1${value}`);
      let text = fs.readFileSync(file, "utf8");
      for (const [key, value] of Object.entries({ kubernetesVersion: '"1.34"', dbEngineVersion: '"8.0"', zenmlVersion: stack === "prod" ? "0.97.0" : "0.98.0", eksAddonVersions: '["amazon-cloudwatch-observability=v4.0.0-eksbuild.1"]', mlflowVersion: "3.17.2", mlflowImage: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow-server:3.17.2@${DIGEST}`, mlflowHostname: `mlflow.${stack}.example.com` })) text = set(text, key, value);
      fs.writeFileSync(file, text);
    }
    for (const f of ["smoke/requirements.txt", "components/registration/requirements.txt"]) fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, "smoke", "requirements.txt"), "zenml==0.98.0\npytest==8.4.2\n");
    fs.writeFileSync(path.join(dir, "components", "registration", "requirements.txt"), "zenml[server,connectors-aws]==0.98.0\npytest==8.4.2\n");
    fs.mkdirSync(path.join(dir, "components", "mlflow", "image"), { recursive: true });
    fs.writeFileSync(path.join(dir, "components", "mlflow", "image", "requirements.txt"), "# as the image pins them\nmlflow[auth]==${MLFLOW_VERSION}\nPyMySQL==1.1.2\n");
    return dir;
  };
  /** The same main() the script runs, in-process; plans through the suite's cache. */
  const watch = (dir: string, args: string[]) => captureIo((io) => main(["--dir", dir, "--today", "2026-12-07", ...args], io, process.env, cachedRunPlan, sources));
  const outputsOf = (file: string) => Object.fromEntries(fs.readFileSync(file, "utf8").trim().split("\n").slice(-5).map((l) => l.split("=") as [string, string]));

  it("proposes one part per run, in the engine's order, each applied as the workflow does: Kubernetes, the add-on, MySQL, ZenML (skipping the release that does not install), MLflow", async () => {
    const dir = project();
    const proposed: string[] = [];
    for (let round = 0; round < 6; round++) {
      const out = path.join(dir, `github-output-${round}`);
      const decided = await watch(dir, ["--github-output", out]);
      expect(decided.code, decided.stderr).toBe(0);
      const o = outputsOf(out);
      if (o.action !== "bump") {
        expect(decided.stdout).toMatch(/release-watch: nothing to propose\n$/);
        break;
      }
      proposed.push(`${o.part} ${o.version}`);
      if (round === 0) {
        expect(decided.stdout).toContain("release-watch: kubernetes: Kubernetes 1.34 left standard support on 2026-12-02: 1.35, one minor\n");
        expect(decided.stdout).toMatch(/release-watch: zenml: ZenML 0\.99\.1 is out; staging pins 0\.98\.0; 0\.99\.1 skipped: it and our pinned dependencies do not install \(.*notpublished.*\); proposing 0\.99\.0 \(waits: one part per PR, in the engine's order\)\n/);
        expect(o).toMatchObject({ branch: "upgrade-kubernetes-1.35", title: "Upgrade Kubernetes to 1.35 on staging" });
      }
      const body = path.join(dir, `body-${round}.md`);
      const applied = await watch(dir, ["--apply", "--part", o.part, "--version", o.version, "--body-file", body]);
      expect(applied.code, applied.stderr).toBe(0);
      const title = { kubernetes: "Kubernetes", "addon:amazon-cloudwatch-observability": "EKS add-on amazon-cloudwatch-observability", mysql: "MySQL", zenml: "ZenML", mlflow: "MLflow" }[o.part];
      expect(fs.readFileSync(body, "utf8"), o.part).toContain(`## Upgrade dossier: ${title} `);
      if (o.part === "kubernetes") {
        // The Kubernetes PR carries AWS's calendar too, so the program knows every version it offers.
        expect(fs.readFileSync(body, "utf8")).toContain("EKS calendar refreshed from `aws eks describe-cluster-versions` (1.36 (new) -> 2027-07-30).");
        expect(JSON.parse(fs.readFileSync(path.join(dir, "components", "eks-calendar.json"), "utf8"))).toMatchObject({ read: "2026-12-07", standardSupportEnds: { "1.35": "2027-03-27", "1.36": "2027-07-30" } });
      }
    }
    expect(proposed).toEqual(["kubernetes 1.35", "addon:amazon-cloudwatch-observability v4.1.0-eksbuild.2", "mysql 8.4", "zenml 0.99.0", "mlflow 3.18.0"]);
    const staging = fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8");
    for (const line of ['kubernetesVersion: "1.35"', 'eksAddonVersions: ["amazon-cloudwatch-observability=v4.1.0-eksbuild.2"]', 'dbEngineVersion: "8.4"', "zenmlVersion: 0.99.0", "mlflowVersion: 3.18.0"]) expect(staging).toContain(`zenml-platform:${line}`);
  }, 240_000);

  it("refuses to apply anything but what it decides on, changing nothing", async () => {
    const dir = project();
    const before = fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8");
    const r = await watch(dir, ["--apply", "--part", "zenml", "--version", "0.99.0", "--body-file", path.join(dir, "b.md")]);
    expect(r).toMatchObject({ code: 1, stderr: "release-watch: the watch now proposes kubernetes 1.35, not zenml 0.99.0: nothing changed, the next run proposes it\n" });
    expect(fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8")).toBe(before);
  });

  it("opens nothing while release-watch.yaml holds, and a part's hold lets the next part through", async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, "release-watch.yaml"), 'hold: "staging is being rebuilt"\n');
    const out = path.join(dir, "github-output");
    const held = await watch(dir, ["--github-output", out]);
    expect(held.stdout).toMatch(/release-watch: held by release-watch\.yaml: staging is being rebuilt\n$/);
    expect(fs.readFileSync(out, "utf8")).toMatch(/^action=none\n/);
    fs.writeFileSync(path.join(dir, "release-watch.yaml"), 'parts:\n  kubernetes: { hold: "after the quarter close" }\n');
    const next = await watch(dir, []);
    expect(next.stdout).toContain("release-watch: kubernetes: Kubernetes held by release-watch.yaml: after the quarter close (newer: 1.35)\n");
    // The add-on then waits for nothing: EKS lists none newer for 1.34 than the pinned one.
    expect(next.stdout).toContain("release-watch: addon:amazon-cloudwatch-observability: staging pins EKS add-on amazon-cloudwatch-observability v4.0.0-eksbuild.1, the newest offered\n");
    expect(next.stdout).toMatch(/release-watch: proposing mysql 8\.4\n$/);
  });
});

describe("the requirements a proposed release must install with", () => {
  // Read from where the repository keeps them: a test tree with an older layout hid a missing file.
  it("are the repository's own files: ZenML's beside the registration and smoke suites, MLflow's image", () => {
    const zenml = pinnedRequirements(PROJECT_DIR, "zenml", "0.99.0");
    expect(zenml).toContain("zenml[server,connectors-aws]==0.99.0");
    expect(zenml.filter((l) => /^zenml\b/.test(l))).toEqual(["zenml[server,connectors-aws]==0.99.0"]);
    expect(zenml.some((l) => l.startsWith("pytest=="))).toBe(true);
    const mlflow = pinnedRequirements(PROJECT_DIR, "mlflow", "3.18.0");
    expect(mlflow).toContain("mlflow[auth]==3.18.0");
    expect(mlflow.some((l) => l.startsWith("PyMySQL=="))).toBe(true);
  });
});
