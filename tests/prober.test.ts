import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDowntime, probeOnce, type Probe, runProber, summarize } from "../tools/prober/probe";
import { main, serverUrlOf } from "../tools/prober/cli";
import { captureIo } from "./helpers/cli";

const t0 = new Date("2026-12-12T02:00:00Z");
const at = (s: number) => new Date(t0.getTime() + s * 1000).toISOString();
const up = (s: number, version = "0.98.0"): Probe => ({ at: at(s), ok: true, detail: `up ${version}`, version });
const down = (s: number, detail = "health: connection refused by zenml.example.com"): Probe => ({ at: at(s), ok: false, detail });

describe("the downtime summary", () => {
  it("counts each failing probe until the next probe: seconds down, the outage, first and last failing probe, versions", () => {
    const probes = [up(0, "0.97.0"), up(1, "0.97.0"), down(2), down(3), down(4, "version: HTTP 502 on GET /api/v1/version"), up(5), down(6), up(7)];
    const s = summarize("https://zenml.example.com", 1, t0, probes, new Date(at(8)));
    expect(s).toMatchObject({
      probes: 8,
      failed: 4,
      secondsDown: 4,
      longestOutageSeconds: 3,
      firstFailure: { at: at(2), detail: "health: connection refused by zenml.example.com" },
      lastFailure: { at: at(6) },
      versions: ["0.97.0", "0.98.0"],
    });
  });

  it("a slow probe counts for as long as it kept the next one waiting; a prober stopped while down counts to its end", () => {
    const s = summarize("u", 1, t0, [up(0), down(1), down(3.5), up(4.5), down(5)], new Date(at(7)));
    expect(s.secondsDown).toBe(5.5);
    expect(s.longestOutageSeconds).toBe(3.5);
    expect(summarize("u", 1, t0, [up(0), up(1)], new Date(at(2)))).toMatchObject({ secondsDown: 0, firstFailure: null, lastFailure: null });
  });
});

describe("the prober against a server that restarts", () => {
  // /health and /api/v1/version answer per the current phase: up on 0.97.0, down, up on 0.98.0.
  let phase: "old" | "down" | "new" = "old";
  const server = http.createServer((req, res) => {
    if (phase === "down") res.writeHead(502).end("bad gateway");
    else if (req.url === "/health") res.writeHead(200, { "content-type": "text/plain" }).end('"OK"');
    else if (req.url === "/api/v1/version") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(phase === "old" ? "0.97.0" : "0.98.0"));
    else res.writeHead(404).end();
  });
  const listening = new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("reads both endpoints each probe and names what failed", async () => {
    const url = await listening;
    phase = "old";
    expect(await probeOnce(url, 2000)).toMatchObject({ ok: true, detail: "up 0.97.0", version: "0.97.0" });
    phase = "down";
    expect(await probeOnce(url, 2000)).toMatchObject({ ok: false, detail: "health: HTTP 502 on GET /health" });
    // A port nothing listens on any more.
    const spare = http.createServer();
    const port = await new Promise<number>((resolve) => spare.listen(0, "127.0.0.1", () => resolve((spare.address() as AddressInfo).port)));
    await new Promise((resolve) => spare.close(resolve));
    const closed = await probeOnce(`http://127.0.0.1:${port}`, 2000);
    expect(closed.ok).toBe(false);
    expect(closed.detail).toBe(`health: connection refused by 127.0.0.1:${port}: server down or wrong port`);
  });

  it("runs on its beat until stopped, rewriting the summary file after every probe", async () => {
    const url = await listening;
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "prober-")), "downtime.json");
    // A clock that advances one second per beat: the loop's arithmetic, not the machine's speed, decides.
    let clock = t0.getTime();
    const stopper = new AbortController();
    const script: (typeof phase)[] = ["old", "old", "down", "down", "down", "new", "new"];
    let beat = 0;
    const summary = await runProber({
      url,
      intervalMs: 1000,
      timeoutMs: 2000,
      out,
      signal: stopper.signal,
      now: () => new Date(clock),
      probe: (u, timeoutMs) => {
        phase = script[beat++];
        return probeOnce(u, timeoutMs, () => new Date(clock));
      },
      sleep: async (ms) => {
        clock += ms;
        if (beat === script.length) stopper.abort();
        if (beat === 4) expect(parseDowntime(fs.readFileSync(out, "utf8"))).toMatchObject({ probes: 4, failed: 2 });
      },
    });
    expect(summary).toMatchObject({ probes: 7, failed: 3, secondsDown: 3, firstFailure: { at: at(2) }, lastFailure: { at: at(4) }, versions: ["0.97.0", "0.98.0"] });
    expect(parseDowntime(fs.readFileSync(out, "utf8"))).toEqual(summary);
  });
});

it("probes the server users reach: https:// and the stack file's serverHostname", () => {
  expect(serverUrlOf("prod")).toBe("https://zenml.example.com");
});

it("refuses bad usage before probing anything: exit 2, one line and the usage", async () => {
  for (const [argv, message] of [
    [["--bogus"], "prober: Unknown option '--bogus'"],
    [["--stop"], "prober: --stop needs --pid-file"],
    [["--stack", "prod", "--url", "https://x.example.com", "--out", "d.json"], "prober: give exactly one of --url and --stack"],
    [["--stack", "qa", "--out", "d.json"], 'prober: No stack file for "qa"'],
  ] as const) {
    const r = await captureIo((io) => main([...argv], io, {}));
    expect(r.code, message).toBe(2);
    expect(r.stderr.startsWith(message), r.stderr).toBe(true);
  }
});
