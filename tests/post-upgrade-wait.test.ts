// post-upgrade:wait against a fake Kubernetes API: what it waits for, what it writes, how it exits.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { POST_UPGRADE_NAMESPACE, POST_UPGRADE_REPORT_PREFIX } from "../components/post-upgrade/pipeline-catalogue";
import { NAMESPACE } from "../components/zenml-server";
import { targetFromKubeconfig } from "../tools/post-upgrade/kube";
import { main, type WaitDeps } from "../tools/post-upgrade/wait";
import { captureTool, linesOf } from "./helpers/cli";
import { PROJECT_DIR } from "./helpers/plan";
import { json, startFake, type FakeServer, type Handler } from "./smoke/fake-server";

const JOB = "zenml-post-upgrade-0123456789";
const TOKEN = "k8s-bearer-token-value";
const JOB_PATH = `GET /apis/batch/v1/namespaces/zenml/jobs/${JOB}`;

const green = { ok: true, entries: [{ entry: "smoke-check", status: "pass", checks: [{ name: "smoke-run", status: "pass", detail: "completed" }] }], unowned_stale: [] };
const red = {
  ok: false,
  entries: [
    { entry: "smoke-check", status: "pass", checks: [] },
    { entry: "train", status: "fail", checks: [{ name: "snapshot", status: "pass", detail: "ok" }, { name: "smoke-run", status: "fail", detail: "run train-1 failed" }] },
  ],
  unowned_stale: [{ kind: "schedule", name: "old-nightly", status: "fail", detail: "stale schedule old-nightly (client 0.97.0) is owned by no catalogue entry and not ignored" }],
};

let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function kubeconfig(server: string): string {
  return JSON.stringify({ "current-context": "c", contexts: [{ name: "c", context: { cluster: "k", user: "u" } }], clusters: [{ name: "k", cluster: { server } }], users: [{ name: "u", user: { token: TOKEN } }] });
}

/** A Job that is active for `activePolls` reads, then ends with `condition`, its pod logging `log`. */
function jobRoutes(activePolls: number, condition: "Complete" | "Failed", log: string): Map<string, Handler> {
  let polls = 0;
  const authorized = (h: Handler): Handler => (q, res) => (q.headers.authorization === `Bearer ${TOKEN}` ? h(q, res) : json(res, 401, { message: "Unauthorized" }));
  return new Map<string, Handler>([
    [JOB_PATH, authorized((_q, res) => {
      polls += 1;
      json(res, 200, polls <= activePolls ? { status: { active: 1 } } : { status: { conditions: [{ type: condition, status: "True", message: condition === "Failed" ? "BackoffLimitExceeded" : undefined }] } });
    })],
    ["GET /api/v1/namespaces/zenml/pods", authorized((_q, res) => json(res, 200, { items: [{ metadata: { name: `${JOB}-abcde`, creationTimestamp: "2026-12-02T10:00:00Z" } }] }))],
    [`GET /api/v1/namespaces/zenml/pods/${JOB}-abcde/log`, authorized((_q, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end(log); })],
  ]);
}

async function runWait(extra: string[], outputs: Record<string, unknown> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wait-"));
  const report = path.join(dir, "out", "post-upgrade.json");
  let clock = 0;
  const argv = ["--stack", "staging", "--timeout-minutes", "1", "--report", report, "--poll-seconds", "5", ...extra];
  const deps: WaitDeps = {
    readOutputs: () => ({ postUpgradeJob: JOB, kubeconfig: kubeconfig(fake!.url), ...outputs }),
    sleep: async (ms) => { clock += ms; },
    now: () => clock,
  };
  const { code, stdout, stderr } = await captureTool(main, argv, {}, deps);
  // One chunk per write: stdout writes a line at a time, stderr one message with the usage.
  const out = linesOf(stdout);
  const err = stderr === "" ? [] : [stderr];
  return { code, out, err, report: fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, "utf8")) : undefined };
}

const logWith = (report: unknown) => `[post-upgrade] inventory...\n${POST_UPGRADE_REPORT_PREFIX}${JSON.stringify(report)}\n`;

describe("post-upgrade:wait", () => {
  it("waits for the Job named by the stack output, writes its report and exits 0 when green", async () => {
    fake = await startFake(jobRoutes(3, "Complete", logWith(green)));
    const r = await runWait([]);
    expect(r.code).toBe(0);
    expect(r.report).toMatchObject({ stack: "staging", job: JOB, namespace: "zenml", job_status: "complete", ok: true, waited_seconds: 15, report: green });
    expect(r.out).toEqual([expect.stringMatching(/^post-upgrade: zenml-post-upgrade-0123456789 green \(1 entry, 15s\); report /)]);
    expect(fake.requests.filter((q) => q.path.endsWith(`/jobs/${JOB}`))).toHaveLength(4);
    expect(fake.requests.find((q) => q.path.endsWith("/log"))).toBeDefined();
  });

  it("prints one line per failed entry and unowned stale item, and exits 1 on a red report", async () => {
    fake = await startFake(jobRoutes(0, "Failed", logWith(red)));
    const r = await runWait([]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      "post-upgrade: FAILED entry train: smoke-run: run train-1 failed",
      "post-upgrade: FAILED stale schedule old-nightly (client 0.97.0) is owned by no catalogue entry and not ignored",
      expect.stringMatching(/^report: /),
    ]);
    expect(r.report).toMatchObject({ job_status: "failed", ok: false, report: red });
  });

  it("fails an upgrade that lost what the pre-upgrade inventory listed, and says nothing without one", async () => {
    // The inventory the rehearsal's inventory Job wrote: snapshots smoke-check and smoke-check-template, template smoke-check-template, schedule smoke-check-nightly.
    const inventory = path.join(PROJECT_DIR, "tests", "fixtures", "pre-upgrade", "released", "inventory.json");
    const kept = { ...green, inventory: { snapshots: [{ kind: "snapshot", name: "smoke-check" }, { kind: "snapshot", name: "smoke-check-template" }], run_templates: [{ kind: "run_template", name: "smoke-check-template" }], schedules: [{ kind: "schedule", name: "smoke-check-nightly" }] } };
    fake = await startFake(jobRoutes(0, "Complete", logWith(kept)));
    expect((await runWait(["--inventory", inventory])).code).toBe(0);
    await fake.close();
    const lost = { ...kept, inventory: { ...kept.inventory, schedules: [] } };
    fake = await startFake(jobRoutes(0, "Complete", logWith(lost)));
    const r = await runWait(["--inventory", inventory]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual(["post-upgrade: FAILED schedule smoke-check-nightly was on the server before the upgrade (pre-upgrade inventory) and is gone", expect.stringMatching(/^report: /)]);
    expect(r.report.missing_since_inventory).toHaveLength(1);
    await fake.close();
    fake = await startFake(jobRoutes(0, "Complete", logWith(lost)));
    expect((await runWait(["--inventory", path.join(os.tmpdir(), "no-upgrade-no-inventory.json")])).code).toBe(0);
  });

  it("fails a Job that completed without a report line", async () => {
    fake = await startFake(jobRoutes(0, "Complete", "pip install ...\nsomething crashed\n"));
    const r = await runWait([]);
    expect(r.code).toBe(1);
    expect(r.out[0]).toBe(`post-upgrade: FAILED: Job ${JOB} complete: the Job's log carries no POST_UPGRADE_REPORT line`);
    expect(r.report).toMatchObject({ ok: false, report: null });
  });

  it("times out after --timeout-minutes, still writing a report", async () => {
    fake = await startFake(jobRoutes(1000, "Complete", logWith(green)));
    const r = await runWait([]);
    expect(r.code).toBe(1);
    expect(r.out[0]).toBe(`post-upgrade: FAILED: Job ${JOB} did not finish within 1 minutes`);
    expect(r.report).toMatchObject({ job_status: "timeout", ok: false, waited_seconds: 60 });
  });

  it("says when the Job never appeared", async () => {
    fake = await startFake(new Map());
    const r = await runWait(["--job", "zenml-post-upgrade-missing"]);
    expect(r.code).toBe(1);
    expect(r.out[0]).toBe("post-upgrade: FAILED: Job zenml/zenml-post-upgrade-missing was never found");
  });

  it("exits 2 with one line on bad usage or a stack without the output, and never prints the token", async () => {
    fake = await startFake(jobRoutes(0, "Complete", logWith(green)));
    const bad = await runWait(["--timeout-minutes", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.err[0].split("\n")[0]).toBe("post-upgrade:wait: --timeout-minutes must be a positive number");
    const old = await runWait([], { postUpgradeJob: undefined });
    expect(old.code).toBe(2);
    expect(old.err[0]).toMatch(/stack staging has no output postUpgradeJob/);
    expect([...bad.out, ...bad.err, ...old.out, ...old.err].join("\n")).not.toContain(TOKEN);
  });
});

describe("kubeconfig", () => {
  it("takes the token from an exec plugin (aws eks get-token) once", () => {
    const calls: string[][] = [];
    const cfg = { "current-context": "c", contexts: [{ name: "c", context: { cluster: "k", user: "u" } }], clusters: [{ name: "k", cluster: { server: "https://eks.example/", "certificate-authority-data": Buffer.from("CA").toString("base64") } }], users: [{ name: "u", user: { exec: { command: "aws", args: ["eks", "get-token", "--cluster-name", "zenml-staging"] } } }] };
    const target = targetFromKubeconfig(JSON.stringify(cfg), (cmd, args) => { calls.push([cmd, ...args]); return JSON.stringify({ status: { token: "t-1" } }); });
    expect(target.server).toBe("https://eks.example");
    expect(target.ca).toBe("CA");
    expect([target.token(), target.token()]).toEqual(["t-1", "t-1"]);
    expect(calls).toEqual([["aws", "eks", "get-token", "--cluster-name", "zenml-staging"]]);
  });

  it("waits in the namespace that holds the admin credentials the Job logs in with", () => {
    expect(POST_UPGRADE_NAMESPACE).toBe(NAMESPACE);
  });
});
