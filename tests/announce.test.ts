import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main as announce } from "../tools/announce/cli";
import { parseChannel } from "../tools/announce/post";
import { scrub, SECRET_ENV } from "../tools/announce/text";
import { buildRecord } from "../tools/gitops/deploy-record";
import type { DowntimeSummary } from "../tools/prober/probe";
import { captureIo } from "./helpers/cli";
import { PROJECT_DIR } from "./helpers/plan";

const DOSSIER = path.join(PROJECT_DIR, "tests", "fixtures", "announce", "dossier-0.97.0-0.98.0.json");
const SERVERS = { staging: "https://zenml.staging.example.com", prod: "https://zenml.example.com" };
// Every secret a deploy step could hold, with values that would be recognisable in a message.
const SECRETS: NodeJS.ProcessEnv = Object.fromEntries(SECRET_ENV.map((name, i) => [name, `secret-${name.toLowerCase()}-${i}-value`]));
const NOW = () => new Date("2026-12-07T11:35:00Z");
const sha = "c".repeat(40);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "announce-"));

function recordFile(stack: string, from: string, to: string, checks: string[], downtime?: Partial<DowntimeSummary>): string {
  const file = path.join(tmp(), "deploy-record.json");
  const record = buildRecord({ stack, sha, from, to, checks, recordedAt: new Date("2026-12-07T10:00:00Z"), downtime: downtime as DowntimeSummary | undefined });
  fs.writeFileSync(file, JSON.stringify(record));
  return file;
}

/** The CLI in-process against the real stack files; gh calls are logged, never run. */
async function run(argv: string[], env: NodeJS.ProcessEnv = SECRETS, dir = PROJECT_DIR) {
  const calls: { args: string[]; input?: string }[] = [];
  const gh = (args: string[], input?: string) => {
    calls.push({ args, input });
    if (args[0] === "issue" && args[1] === "list") return JSON.stringify([{ number: 3, title: "ZenML upgrades are great" }, { number: 12, title: "ZenML upgrades" }]);
    return "";
  };
  const r = await captureIo((io) => announce([...argv, "--dir", dir], io, env, NOW, { gh }));
  return { ...r, calls };
}

/** No URL but the servers', no secret value, no internal host: what every message must satisfy. */
function expectClean(text: string) {
  for (const value of Object.values(SECRETS)) expect(text).not.toContain(value!);
  for (const url of text.match(/[a-z]+:\/\/[^\s)`]+/g) ?? []) expect([SERVERS.staging, SERVERS.prod]).toContain(url.replace(/[.,;:]+$/, ""));
  expect(text).not.toMatch(/amazonaws\.com|\.internal\b|\/home\/runner/);
}

describe("announcements (the exact texts; a dry run prints them)", () => {
  it("the upgrade PR: what changes for users from the dossier, the client, when staging, testing and prod move", async () => {
    const r = await run(["--planned", "--from", "0.97.0", "--to", "0.98.0", "--dossier", DOSSIER, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([]);
    // --print (the PR's dossier comment) is the same text alone; --from defaults to prod's pin.
    expect((await run(["--planned", "--to", "0.98.0", "--dossier", DOSSIER, "--print"])).stdout).toBe(r.stdout.slice(r.stdout.indexOf("###")));
    expect(r.stdout).toBe(`announce: dry run, nothing posted; it would go to the "ZenML upgrades" issue:

### ZenML upgrade planned: 0.97.0 -> 0.98.0

The platform will move our ZenML servers from 0.97.0 to 0.98.0.

What changes for you:
- 3 database migrations (1 that drop or rewrite data; a backup is taken first): the server is unavailable while they run.
- The rehearsal of this upgrade measured 32 s of API downtime.
- Python for the client: \`>=3.10,<3.15\` (was \`>=3.10,<3.14\`).
- Packages the client requires that change: pydantic >=2.0,<2.12 -> >=2.0,<2.13; internal-helper (new) -> @ [link removed].
- Run templates, snapshots and schedules are rebuilt for the new client by the platform after each upgrade.

When:
- Staging (https://zenml.staging.example.com): as soon as this change is merged.
- Testing: please run your pipelines on staging with the new client (\`pip install -U "zenml==0.98.0"\`, in a separate environment) for at least 24 h (promotionSoakHours).
- Prod (https://zenml.example.com): after 24 h of testing on staging first; if merged now, no earlier than Tue 2026-12-08 11:35 UTC.

Once prod runs 0.98.0, upgrade your client: \`pip install -U "zenml==0.98.0"\`.
`);
    expectClean(r.stdout);
  });

  it("staging upgraded, please test: prod's earliest time follows the soak and the window", async () => {
    const dir = tmp();
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8").replace('upgradeWindow: ""', 'upgradeWindow: "sat:02:00-sat:06:00"'));
    const record = recordFile("staging", "0.97.0", "0.98.0", ["up=success", "post-upgrade=success", "smoke-server=success"], { secondsDown: 41.5 });
    const r = await run(["--stack", "staging", "--record", record, "--dossier", DOSSIER], SECRETS, dir);
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.args.slice(0, 3).join(" "))).toEqual(["issue list --state", "issue comment 12"]);
    const posted = r.calls[1].input!;
    expect(posted).toMatch(/^### ZenML staging upgraded to 0\.98\.0: please test\n\nStaging \(https:\/\/zenml\.staging\.example\.com\) now runs ZenML 0\.98\.0 \(was 0\.97\.0\)\.\n\nPlease test your pipelines there with the new client \(`pip install -U "zenml==0\.98\.0"`, in a separate environment\) and tell the platform team what breaks\. Prod \(https:\/\/zenml\.example\.com\) follows no earlier than Sat 2026-12-12 02:00 UTC \(24 h of testing on staging first, inside its upgradeWindow sat:02:00-sat:06:00 UTC\)\./);
    expect(posted).toContain("Measured downtime during the deploy: 42 s.");
    expect(r.stdout).toContain(posted);
    expectClean(posted);
  });

  it("prod upgraded, upgrade your client; rolled back; an upgrade that did not complete; nothing when no version moved", async () => {
    const prod = await run(["--stack", "prod", "--record", recordFile("prod", "0.97.0", "0.98.0", ["up=success", "smoke-server=failure"]), "--dry-run"]);
    expect(prod.stdout).toContain(`### ZenML prod upgraded to 0.98.0: upgrade your client

Prod (https://zenml.example.com) now runs ZenML 0.98.0 (was 0.97.0).

Some checks after the upgrade failed (smoke-server): the platform team is looking; wait for the all-clear before relying on it.

Upgrade your client now: \`pip install -U "zenml==0.98.0"\`. A 0.97.0 client still connects for a while, with a warning; the platform tracks which clients still run.
`);
    const back = await run(["--stack", "prod", "--record", recordFile("prod", "0.98.0", "0.97.0", ["up=success"]), "--dry-run"]);
    expect(back.stdout).toContain(`### ZenML prod rolled back to 0.97.0

Prod (https://zenml.example.com) runs ZenML 0.97.0 again: the 0.98.0 upgrade was rolled back to its pre-upgrade backup.
- Use the 0.97.0 client: \`pip install -U "zenml==0.97.0"\`.
- Runs and artifacts recorded after the upgrade are not in the restored database: re-run what you ran since then.
`);
    const failed = await run(["--stack", "prod", "--record", recordFile("prod", "0.97.0", "0.98.0", ["up=failure", "smoke-server=skipped"]), "--dry-run"]);
    expect(failed.stdout).toContain("### ZenML prod upgrade to 0.98.0 did not complete\n\nThe upgrade of prod (https://zenml.example.com) from 0.97.0 to 0.98.0 failed and the platform team is on it. Keep your 0.97.0 client until the next announcement.\n");
    const same = await run(["--stack", "prod", "--record", recordFile("prod", "0.98.0", "0.98.0", ["up=success"])]);
    expect(same).toMatchObject({ code: 0, calls: [], stdout: "announce: nothing to announce (no version moved, or a failed deploy that was not an upgrade)\n" });
    for (const r of [prod, back, failed]) expectClean(r.stdout);
  });

  it("never lets a secret, another URL or an internal host through, whatever the input carried", () => {
    const hostile = `token ${SECRETS.GH_TOKEN} at https://hooks.slack.com/services/T0/B0/x and ${SECRETS.ANNOUNCE_WEBHOOK_URL}; db zenml-prod.cluster-abc.eu-west-1.rds.amazonaws.com, svc zenml.zenml.svc.cluster.local; ok: https://zenml.example.com.`;
    const clean = scrub(hostile, SERVERS, SECRETS);
    expect(clean).toBe("token [secret removed] at [link removed] and [secret removed]; db [internal host removed], svc [internal host removed]; ok: https://zenml.example.com.");
    expectClean(clean);
  });
});

describe("channels", () => {
  it("parses every announcementChannel value the config allows", () => {
    expect(["issue", "issue:7", "discussion:4", "webhook", "none"].map(parseChannel)).toEqual([{ kind: "issue" }, { kind: "issue", number: 7 }, { kind: "discussion", number: 4 }, { kind: "webhook" }, { kind: "none" }]);
  });

  const received: string[] = [];
  let answer = 200;
  const hook = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push(body);
      res.writeHead(answer).end("ok");
    });
  });
  const url = new Promise<string>((resolve) => hook.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/services/T0/B0/secret-path`)));
  afterAll(() => new Promise<void>((resolve) => hook.close(() => resolve())));

  /** A checkout whose prod file sets announcementChannel. */
  function checkout(channel: string): string {
    const dir = tmp();
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8").replace("announcementChannel: issue", `announcementChannel: ${channel}`));
    return dir;
  }

  it("posts Slack-compatible JSON to the webhook secret, and a failure names neither the URL nor the secret", async () => {
    const webhook = await url;
    const env = { ...SECRETS, ANNOUNCE_WEBHOOK_URL: webhook };
    const record = recordFile("prod", "0.97.0", "0.98.0", ["up=success"]);
    const ok = await run(["--stack", "prod", "--record", record], env, checkout("webhook"));
    expect(ok.code).toBe(0);
    expect(JSON.parse(received.at(-1)!)).toEqual({ text: expect.stringMatching(/^\*ZenML prod upgraded to 0\.98\.0: upgrade your client\*\n\nProd \(https:\/\/zenml\.example\.com\) now runs ZenML 0\.98\.0/) });
    answer = 500;
    const refused = await run(["--stack", "prod", "--record", record], env, checkout("webhook"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("announce: posting to the ANNOUNCE_WEBHOOK_URL webhook failed: the webhook answered HTTP 500\n");
    const missing = await run(["--stack", "prod", "--record", record], {}, checkout("webhook"));
    expect(missing.stderr).toMatch(/the ANNOUNCE_WEBHOOK_URL secret is not set in this step/);
  });

  it("comments on a discussion through gh's GraphQL API, and posts nowhere with none", async () => {
    const record = recordFile("prod", "0.97.0", "0.98.0", ["up=success"]);
    const calls: string[][] = [];
    const gh = (args: string[]) => {
      calls.push(args);
      return args.some((a) => a.startsWith("query=query")) ? JSON.stringify({ data: { repository: { discussion: { id: "D_kw1" } } } }) : "{}";
    };
    const r = await captureIo((io) => announce(["--stack", "prod", "--record", record, "--dir", checkout("discussion:4")], io, { GITHUB_REPOSITORY: "org/zenml-platform" }, NOW, { gh }));
    expect(r.code).toBe(0);
    expect(calls.map((c) => c.filter((a) => /^(owner|name|n|id)=/.test(a)))).toEqual([["owner=org", "name=zenml-platform", "n=4"], ["id=D_kw1"]]);
    expect(calls[1].find((a) => a.startsWith("body="))).toMatch(/^body=### ZenML prod upgraded to 0\.98\.0/);
    const none = await run(["--stack", "prod", "--record", record], SECRETS, checkout("none"));
    expect(none.calls).toEqual([]);
    expect(none.stdout).toMatch(/^announce: prod-upgraded posted to nowhere \(announcementChannel: none\)/);
  });
});

describe("npm run announce, bad usage", () => {
  it.each([
    [[], "announce: give --record or --planned"],
    [["--record", "r.json", "--stack", "qa"], "announce: --stack must be staging or prod with --record"],
    [["--planned"], "announce: --planned needs --to"],
  ])("%j: exit 2, the reason and the usage, nothing posted", async (argv, reason) => {
    const r = await captureIo((io) => announce(argv, io, {}, NOW, { gh: () => { throw new Error("nothing may be posted"); } }));
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr.split("\n").slice(0, 2)).toEqual([reason, expect.stringMatching(/^usage: npm run --silent announce -- /)]);
  });
});
