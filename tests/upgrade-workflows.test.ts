// The people side of the deploy workflows, run as the workflows run it: the prober around
// `pulumi up`, its summary in the deploy record, the announcement after it (a stand-in gh takes the
// post), prod's last look at the window before up, the KPIs in prod's job summary, and the
// announcement an upgrade PR's dossier comment carries.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { npmStandIn } from "./helpers/npm-stand-in";
import { PROJECT_DIR } from "./helpers/plan";

interface Step { id?: string; name?: string; run?: string; if?: string; env?: Record<string, string>; "continue-on-error"?: boolean }
interface Job { permissions?: Record<string, string>; steps: Step[] }
const job = (file: string, name: string) => (parse(fs.readFileSync(path.join(PROJECT_DIR, ".github", "workflows", file), "utf8")) as { jobs: Record<string, Job> }).jobs[name];
const index = (j: Job, pattern: RegExp) => j.steps.findIndex((s) => pattern.test(s.run ?? ""));
const step = (j: Job, pattern: RegExp) => j.steps[index(j, pattern)];

const NPM = npmStandIn();

/** A workflow step's shell, in `cwd`, with `env` over the test's own, as the runner would run it (npm: the stand-in). */
function shell(script: string, cwd: string, env: Record<string, string> = {}) {
  return spawnSync("bash", ["-e", "-c", script], { cwd, env: { ...process.env, ...env, PATH: `${NPM}:${env.PATH ?? process.env.PATH}` }, encoding: "utf8", timeout: 60_000 });
}

/** A checkout: the project's files the steps read, node_modules linked. */
function checkout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-checkout-"));
  for (const f of ["package.json", "Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
  for (const d of ["node_modules", "tools", "components"]) fs.symlinkSync(path.join(PROJECT_DIR, d), path.join(dir, d));
  return dir;
}

describe.each(["staging", "prod"] as const)("deploy-%s", (stack) => {
  const deploy = job(`deploy-${stack}.yml`, "deploy");

  it("probes while up runs, stops the prober after it, records the downtime, then announces", () => {
    const order = [/npm run --silent prober -- --stack/, /^pulumi up /, /prober -- --stop/, /npm run --silent deploy-record/, /npm run --silent announce/].map((re) => index(deploy, re));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(step(deploy, /deploy-record/).run).toContain("--downtime downtime.json");
    for (const re of [/prober -- --stop/, /npm run --silent announce/]) expect(step(deploy, re)).toMatchObject({ if: "${{ !cancelled() }}", "continue-on-error": true });
    expect(step(deploy, /npm run --silent announce/).env).toEqual({ GH_TOKEN: "${{ github.token }}", ANNOUNCE_WEBHOOK_URL: "${{ secrets.ANNOUNCE_WEBHOOK_URL }}" });
    expect(deploy.permissions).toMatchObject({ issues: "write", discussions: "write" });
  });

  it("the steps' own shells: the prober starts in the background, stops on request and the record carries what it saw", () => {
    const dir = checkout();
    const started = shell(step(deploy, /npm run --silent prober -- --stack/).run!, dir);
    expect(started.status).toBe(0);
    const pid = Number(fs.readFileSync(path.join(dir, "prober.pid"), "utf8"));
    // Let it probe until one has failed (example.com hosts do not answer here, as during an outage):
    // the summary is rewritten after each probe.
    const failedProbes = () => (JSON.parse(fs.readFileSync(path.join(dir, "downtime.json"), "utf8")) as { failed: number }).failed;
    for (let waited = 0; !(fs.existsSync(path.join(dir, "downtime.json")) && failedProbes() > 0); waited += 100) {
      if (waited > 20_000) throw new Error("the prober wrote no failed probe in 20 s");
      spawnSync("sleep", ["0.1"]);
    }
    const stopped = shell(step(deploy, /prober -- --stop/).run!, dir);
    expect(stopped.stderr).toBe("");
    expect(stopped.stdout).toMatch(/^prober: [\d.]+ s down \(\d+ of \d+ probes failed/);
    expect(() => process.kill(pid, 0)).toThrow();
    const record = shell(step(deploy, /deploy-record/).run!, dir, { GITHUB_SHA: "e".repeat(40), FROM: "0.97.0", UP: "success", POST_UPGRADE: "success", SMOKE_SERVER: "success", SMOKE_PIPELINES: "success", SMOKE_MLFLOW: "success", ALARM_WATCH: "success" });
    expect(record.status).toBe(0);
    const written = JSON.parse(fs.readFileSync(path.join(dir, "deploy-record.json"), "utf8"));
    expect(written.downtime.secondsDown).toBeGreaterThan(0);
    expect(written.downtime.firstFailure.detail).toMatch(/^health: /);
  }, 60_000);
});

describe("announcing from the deploy job, with a stand-in gh", () => {
  it("posts the record's announcement on the 'ZenML upgrades' issue, opening it the first time", () => {
    const dir = checkout();
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "gh-bin-"));
    const log = path.join(bin, "log");
    fs.writeFileSync(path.join(bin, "gh"), `#!/bin/sh\necho "$*" >> '${log}'\nif [ "$1 $2" = "issue list" ]; then echo '[]'; fi\nif [ "$1 $2" = "issue create" ]; then echo 'https://github.com/org/zenml-platform/issues/41'; fi\nif [ "$1 $2" = "issue comment" ]; then cat >> '${log}'; fi\n`, { mode: 0o755 });
    const record = { kind: "zenml-platform/deploy-record", stack: "prod", sha: "f".repeat(40), from: "0.97.0", to: "0.98.0", result: "success", checks: [{ name: "up", outcome: "success" }], recordedAt: "2026-12-12T02:40:00Z", downtime: { secondsDown: 12.2, longestOutageSeconds: 12.2, probes: 600, failed: 12, firstFailure: null, lastFailure: null, versions: [] } };
    fs.writeFileSync(path.join(dir, "deploy-record.json"), JSON.stringify(record));
    const announce = step(job("deploy-prod.yml", "deploy"), /npm run --silent announce/);
    const r = shell(announce.run!, dir, { PATH: `${bin}:${process.env.PATH}`, GH_TOKEN: "ghs_stand-in-token-000" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const calls = fs.readFileSync(log, "utf8");
    expect(calls).toMatch(/^issue list --state open --search ZenML upgrades in:title --json number,title --limit 50\nissue create --title ZenML upgrades --body Announcements of ZenML server upgrades/);
    expect(calls).toContain("issue comment 41 --body-file -\n### ZenML prod upgraded to 0.98.0: upgrade your client\n\nProd (https://zenml.example.com) now runs ZenML 0.98.0 (was 0.97.0).");
    expect(calls).toContain("Measured downtime during the deploy: 13 s.");
    expect(calls).not.toContain("ghs_stand-in-token-000");
  }, 60_000);
});

describe("prod only", () => {
  const deploy = job("deploy-prod.yml", "deploy");

  it("looks at the upgrade window again right before up, and refuses outside it in one line", () => {
    const window = index(deploy, /npm run --silent upgrade-window/);
    expect(window).toBeGreaterThan(deploy.steps.findIndex((s) => s.id === "before"));
    expect(window).toBeLessThan(index(deploy, /^pulumi up /));
    const dir = checkout();
    // A window three days from today: closed now, whenever the test runs.
    const now = new Date();
    const day = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][(now.getUTCDay() + 3) % 7];
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8").replace('upgradeWindow: ""', `upgradeWindow: "${day}:02:00-${day}:03:00"`).replace("zenmlVersion: 0.97.0", "zenmlVersion: 0.98.0"));
    const refused = shell(step(deploy, /upgrade-window/).run!, dir, { FROM: "0.97.0" });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^upgrade-window: \\w{3} [\\d-]+ [\\d:]+ UTC is outside upgradeWindow ${day}:02:00-${day}:03:00 UTC: re-run this deploy from .*\\n$`));
    // Not an upgrade (prod already runs the pin): never held.
    expect(shell(step(deploy, /upgrade-window/).run!, dir, { FROM: "0.98.0" }).status).toBe(0);
  }, 60_000);

  it("writes the KPIs into the job summary with the chart beside the reports", () => {
    const kpis = step(deploy, /upgrade-kpis/);
    expect(kpis.run).toContain("npm run --silent upgrade-kpis -- --stack prod --record deploy-record.json --markdown --chart upgrade-kpis.svg > upgrade-kpis.md");
    expect(kpis.run).toContain('cat upgrade-kpis.md >> "$GITHUB_STEP_SUMMARY"');
    expect(kpis.env).toEqual({ GH_TOKEN: "${{ github.token }}", ZENML_API_KEY: "${{ secrets.ZENML_API_KEY }}" });
    expect(deploy.permissions?.actions).toBe("read");
    expect(index(deploy, /upgrade-kpis/)).toBeGreaterThan(index(deploy, /deploy-record/));
  });
});

it("the upgrade PR's dossier comment carries the teams' announcement for a staging pin change", () => {
  const dossier = job("preview.yml", "dossier").steps.find((s) => /pin-changes/.test(s.run ?? ""))!;
  expect(dossier.run).toContain('npm run --silent announce -- --planned --to "$to" --print');
  expect(dossier.run).toMatch(/if \[ "\$stack" = staging \]; then[\s\S]*Announcement for the teams/);
});
