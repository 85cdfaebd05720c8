// alarm-watch against a fake CloudWatch: in-process for the watch logic, and over HTTP (AWS JSON
// 1.0, what the SDK speaks) on 127.0.0.1 for the real client. No network, no credentials.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cloudWatchSource, main, parseWatchArgs } from "../tools/alarm-watch";
import { captureTool } from "./helpers/cli";
import { watchAlarms, type AlarmSource, type AlarmState } from "../tools/alarms/watch";
import { PROJECT_DIR } from "./helpers/plan";

/** A clock that advances only when the watch sleeps. */
function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: async (ms: number) => { sleeps.push(ms); t += ms; } };
}

/** Alarms as a script: each poll returns the next state list (the last one repeats). */
function scripted(...polls: AlarmState[][]): AlarmSource & { prefixes: string[] } {
  const prefixes: string[] = [];
  let i = 0;
  return { prefixes, alarms: async (prefix) => { prefixes.push(prefix); return polls[Math.min(i++, polls.length - 1)]; } };
}

const ok = (name: string): AlarmState => ({ name, state: "OK", reason: "Threshold Crossed: no datapoints were breaching" });

describe("watching alarms after a deploy", () => {
  it("passes when every alarm stays quiet for the whole window, polling at the interval", async () => {
    const source = scripted([ok("zenml-prod-alb-5xx"), { name: "zenml-prod-rds-cpu", state: "INSUFFICIENT_DATA", reason: "" }]);
    const clock = fakeClock();
    expect(await watchAlarms(source, clock, { stack: "prod", minutes: 5, intervalSeconds: 60 })).toEqual({ ok: true, alarms: 2, polls: 6 });
    expect(clock.sleeps).toEqual([60_000, 60_000, 60_000, 60_000, 60_000]);
    expect(source.prefixes[0]).toBe("zenml-prod-");
  });

  it("fails as soon as an alarm fires, naming it and why", async () => {
    const firing: AlarmState = { name: "zenml-prod-alb-5xx", state: "ALARM", reason: "Threshold Crossed: 2 out of the last 3 datapoints [42.0, 37.0] were greater than the threshold (10.0)" };
    const clock = fakeClock();
    const result = await watchAlarms(scripted([ok("zenml-prod-alb-5xx")], [ok("zenml-prod-alb-5xx")], [firing]), clock, { stack: "prod", minutes: 30, intervalSeconds: 30 });
    expect(result).toEqual({ ok: false, message: `ALARM zenml-prod-alb-5xx: ${firing.reason}` });
    expect(clock.now()).toBe(60_000);
  });

  it("fails when the environment has no alarms at all", async () => {
    expect(await watchAlarms(scripted([]), fakeClock(), { stack: "prod", minutes: 5, intervalSeconds: 30 })).toEqual({ ok: false, message: "no CloudWatch alarms named zenml-prod-* exist for stack prod" });
  });
});

describe("alarm-watch CLI arguments", () => {
  it("takes the region from the stack file and refuses bad usage", () => {
    expect(parseWatchArgs(["--stack", "prod", "--minutes", "15"], PROJECT_DIR)).toEqual({ stack: "prod", minutes: 15, intervalSeconds: 30, region: "eu-west-1" });
    expect(() => parseWatchArgs(["--stack", "prod"], PROJECT_DIR)).toThrow(/--minutes must be an integer 1\.\.180/);
    expect(() => parseWatchArgs(["--stack", "qa", "--minutes", "5"], PROJECT_DIR)).toThrow(/No stack file for "qa"/);
    expect(() => parseWatchArgs(["--minutes", "5"], PROJECT_DIR)).toThrow(/--stack is required/);
  });
});

describe("the CloudWatch client against a fake CloudWatch", () => {
  let server: http.Server | undefined;
  const saved = { ...process.env };
  afterEach(async () => {
    process.env = { ...saved };
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  async function fakeCloudWatch(pages: { MetricAlarms: { AlarmName: string; StateValue: string; StateReason: string }[]; NextToken?: string }[]) {
    const seen: { target: string; body: Record<string, unknown> }[] = [];
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const parsed = JSON.parse(body || "{}") as Record<string, unknown>;
        seen.push({ target: String(req.headers["x-amz-target"]), body: parsed });
        const page = pages[parsed.NextToken ? Number(parsed.NextToken) : 0];
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify({ ...page, CompositeAlarms: [] }));
      });
    });
    // issue 14's port block
    await new Promise<void>((r, j) => server!.listen(44017, "127.0.0.1", r).once("error", j));
    const { port } = server.address() as AddressInfo;
    Object.assign(process.env, { AWS_ENDPOINT_URL_CLOUDWATCH: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: "AKIDFAKE", AWS_SECRET_ACCESS_KEY: "fake", AWS_SESSION_TOKEN: "fake", AWS_EC2_METADATA_DISABLED: "true" });
    return seen;
  }

  it("reads every page of the environment's alarms", async () => {
    const seen = await fakeCloudWatch([
      { MetricAlarms: [{ AlarmName: "zenml-prod-alb-5xx", StateValue: "OK", StateReason: "fine" }], NextToken: "1" },
      { MetricAlarms: [{ AlarmName: "zenml-prod-rds-cpu", StateValue: "ALARM", StateReason: "CPU 97%" }] },
    ]);
    const alarms = await cloudWatchSource("eu-west-1").alarms("zenml-prod-");
    expect(alarms).toEqual([
      { name: "zenml-prod-alb-5xx", state: "OK", reason: "fine" },
      { name: "zenml-prod-rds-cpu", state: "ALARM", reason: "CPU 97%" },
    ]);
    expect(seen.map((s) => s.target)).toEqual(["GraniteServiceVersion20100801.DescribeAlarms", "GraniteServiceVersion20100801.DescribeAlarms"]);
    expect(seen[0].body).toMatchObject({ AlarmNamePrefix: "zenml-prod-" });
  });

  it("exits 1 naming the alarm that fired", async () => {
    await fakeCloudWatch([{ MetricAlarms: [{ AlarmName: "zenml-prod-alb-unhealthy-targets", StateValue: "ALARM", StateReason: "1 unhealthy target" }] }]);
    const r = await captureTool(main, ["--stack", "prod", "--minutes", "1", "--interval-seconds", "5"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("alarm-watch: ALARM zenml-prod-alb-unhealthy-targets: 1 unhealthy target\n");
  });
});
