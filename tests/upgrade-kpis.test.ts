import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main as kpis } from "../tools/kpis/cli";
import { computeKpis } from "../tools/kpis/kpis";
import { recordsFromDir } from "../tools/kpis/sources";
import { captureIo } from "./helpers/cli";
import { PROJECT_DIR } from "./helpers/plan";

const FIXTURES = path.join(PROJECT_DIR, "tests", "fixtures", "kpis");
const RECORDS = path.join(FIXTURES, "records");
const NOW = () => new Date("2026-12-07T11:35:00Z");
const API_KEY = "ZENML_APIKEY_kpi-test-0123456789";

/** A ZenML API that answers from the recorded pages, and only as the real one would be asked. */
const seen: string[] = [];
const server = http.createServer((req, res): void => {
  const url = new URL(req.url!, "http://x");
  seen.push(`${req.method} ${url.pathname}${url.search}`);
  const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  if (url.pathname === "/api/v1/login" && req.method === "POST") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => (new URLSearchParams(body).get("password") === API_KEY ? json(200, { access_token: "tok", token_type: "bearer" }) : json(401, { detail: "bad key" })));
    return;
  }
  const file = (name: string) => res.writeHead(200, { "content-type": "application/json" }).end(fs.readFileSync(path.join(FIXTURES, name)));
  if (url.pathname === "/pypi/zenml/json") file("pypi.json");
  else if (req.headers.authorization !== "Bearer tok") json(401, { detail: "no token" });
  else if (url.pathname === "/api/v1/version") json(200, "0.98.0");
  else if (url.pathname === "/api/v1/runs" && url.searchParams.get("hydrate") === "true" && url.searchParams.get("created") === "gte:2026-11-30 11:35:00") file(`runs-page-${url.searchParams.get("page")}.json`);
  else json(404, { detail: "not found" });
});
const base = new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(extra: string[], env: NodeJS.ProcessEnv = { ZENML_API_KEY: API_KEY }) {
  const url = await base;
  return captureIo((io) => kpis(["--stack", "prod", "--records", RECORDS, "--server-url", url, ...extra], io, { RELEASE_WATCH_PYPI_URL: `${url}/pypi/zenml/json`, ...env }, NOW));
}

describe("npm run upgrade-kpis, from recorded deploy records and ZenML API answers", () => {
  it("prints the KPIs beside the seeds' targets", async () => {
    const r = await run([]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Upgrade KPIs for prod at 2026-12-07 11:35 UTC, from 7 deploy record(s) and the server's runs

KPI                                  figure                                                                                     target                                                                  verdict
downtime per upgrade                 worst 61 s, median 47 s (4 upgrade(s) probed)                                              < 2 h per upgrade                                                       met
rollback rate                        1 rollback(s) in 4 upgrade(s): 25 %                                                        < 5 %                                                                   MISSED
time to resolve post-upgrade issues  2 red upgrade deploy(s): 2 resolved (median 4 h, worst 6.3 h), 0 open                      tracked (the seeds set no number)                                       -
release-to-prod lead time            median 10.6 days, latest 14.7 days (3 release(s))                                          tracked (the seeds set no number)                                       -
adoption within a week               2 of 4 active users (50 %) on 0.98.0; 37.5 % of 8 runs in 7 days; day 2 since the upgrade  every active user on the server's version within 7 days of the upgrade  in progress

Upgrades:
  2026-09-12 02:35  0.95.0 -> 0.96.0  success  down 38 s  10.6 days after the release
  2026-10-17 02:50  0.96.0 -> 0.97.0  failure  down 52.5 s  resolved after 6.3 h  8.5 days after the release
  2026-11-28 02:30  0.97.0 -> 0.98.0  failure  down 61 s  resolved after 1.7 h
  2026-12-05 02:45  0.97.0 -> 0.98.0  success  down 41.5 s  14.7 days after the release
  2026-11-28 04:12  rollback 0.98.0 -> 0.97.0

Adoption per user (runs since 2026-11-30, server 0.98.0):
  alice: 2 of 3 run(s) on 0.98.0, latest client 0.98.0
  bob: 0 of 2 run(s) on 0.98.0, latest client 0.97.0 (not adopted)
  dave: 0 of 1 run(s) on 0.98.0, latest client unknown (not adopted)
  pipelines-bot: 1 of 2 run(s) on 0.98.0, latest client 0.98.0
`);
    // Two pages of runs, filtered by the server to the last 7 days, hydrated for the client environment.
    expect(seen.filter((s) => s.startsWith("GET /api/v1/runs")).map((s) => new URL(s.split(" ")[1], "http://x").searchParams.get("page"))).toEqual(["1", "2"]);
  });

  it("the same as JSON, and the adoption verdict once the week is over", async () => {
    const r = await run(["--json"]);
    const report = JSON.parse(r.stdout);
    expect(report.adoption).toMatchObject({ measured: true, serverVersion: "0.98.0", usersActive: 4, usersAdopted: 2, runs: 8, runsOnServerVersion: 3, met: null });
    expect(report.rollbackRate).toMatchObject({ rollbacks: 1, upgrades: 4, rate: 0.25, met: false });
    const later = computeKpis({ stack: "prod", records: recordsFromDir(RECORDS), runs: [{ user: "bob", clientVersion: "0.97.0", created: "2026-12-13T09:00:00" }], serverVersion: "0.98.0", now: new Date("2026-12-13T12:00:00Z") });
    expect(later.adoption).toMatchObject({ daysSinceUpgrade: 8.4, shareOfUsers: 0, met: false });
    // No record of the upgrade (the rehearsal's server, or records expired): the week cannot be placed.
    const unplaced = computeKpis({ stack: "prod", records: [], runs: [{ user: "bob", clientVersion: "0.97.0", created: "2026-12-13T09:00:00" }], serverVersion: "0.98.0", now: new Date("2026-12-13T12:00:00Z") });
    expect(unplaced.adoption).toMatchObject({ upgradedAt: null, shareOfUsers: 0, met: null });
  });

  it("writes a chart (adoption per user, downtime per upgrade against 2 h) and Markdown with text bars for the job summary", async () => {
    const chart = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kpis-")), "kpis.svg");
    const r = await run(["--markdown", "--chart", chart]);
    expect(r.stdout).toMatch(/^### Upgrade KPIs: prod\n\n\| KPI \| figure \| target \| verdict \|/);
    expect(r.stdout).toContain("| bob | `▱▱▱▱▱▱▱▱▱▱` 0/2 | 0.97.0 (not adopted) |");
    expect(r.stdout).toContain("| alice | `▰▰▰▰▰▰▰▱▱▱` 2/3 | 0.98.0 |");
    const svg = fs.readFileSync(chart, "utf8");
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain(">Adoption: runs in the last 7 days by a 0.98.0 client, per user</text>");
    // alice's bar: 2/3 of the 320-pixel track; the 61 s upgrade: 61/7200 of it.
    expect(svg).toContain('width="213.3" height="16" fill="#2e7d32"');
    expect(svg).toContain('width="2.7" height="16" fill="#1565c0"');
  });

  it("without an API key it reports adoption as not measured instead of guessing, and a rejected key is one line", async () => {
    const none = await run(["--no-release-dates"], {});
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("adoption within a week               not measured: no ZENML_API_KEY to ask the server for its runs");
    expect(none.stdout).toContain("release-to-prod lead time            no release date known");
    const bad = await run([], { ZENML_API_KEY: "ZENML_APIKEY_wrong" });
    expect(bad).toMatchObject({ code: 1, stdout: "" });
    expect(bad.stderr).toBe("upgrade-kpis: HTTP 401 on POST /api/v1/login: API key rejected (wrong, expired or inactive)\n");
  });
});

describe("npm run upgrade-kpis, bad usage", () => {
  it.each([
    [["--json"], "upgrade-kpis: --stack is required (a stack name)"],
    [["--stack", "prod", "--json", "--markdown"], "upgrade-kpis: --json and --markdown exclude each other"],
    [["--stack", "prod", "--csv"], "upgrade-kpis: Unknown option '--csv'"],
  ])("%j: exit 2, the reason and the usage, nothing read", async (argv, reason) => {
    const r = await captureIo((io) => kpis(argv, io, {}));
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr.split("\n").slice(0, 2)).toEqual([expect.stringContaining(reason), expect.stringMatching(/^usage: npm run --silent upgrade-kpis -- --stack <stack>/)]);
  });
});
