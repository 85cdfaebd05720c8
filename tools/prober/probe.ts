// The downtime prober: once a second, GET /health and /api/v1/version of the ZenML server; a probe
// is down unless both answer 200 (and the version is a version) within the timeout. The summary
// (seconds down, first and last failing probe, versions seen) is rewritten after every probe, so a
// prober stopped at any moment leaves a complete file. The deploy workflows run it beside
// `pulumi up`; the rehearsal runs the same one beside its local upgrade.
import * as fs from "node:fs";
import { requestJson, StepFailure } from "../smoke/http";

export const DOWNTIME_KIND = "zenml-platform/downtime";

export interface Probe {
  /** When the probe started (ISO). */
  at: string;
  ok: boolean;
  /** "up 0.98.0", or the first failure: "health: connection refused by host". */
  detail: string;
  version?: string;
}

export interface FailingProbe {
  at: string;
  detail: string;
}

export interface DowntimeSummary {
  kind: typeof DOWNTIME_KIND;
  url: string;
  intervalSeconds: number;
  startedAt: string;
  endedAt: string;
  probes: number;
  failed: number;
  /** Time from each failing probe to the next probe (or the end), summed. */
  secondsDown: number;
  longestOutageSeconds: number;
  firstFailure: FailingProbe | null;
  lastFailure: FailingProbe | null;
  /** Distinct versions the server reported, in the order first seen (0.97.0 then 0.98.0 across an upgrade). */
  versions: string[];
}

const round = (s: number) => Math.round(s * 10) / 10;

export function summarize(url: string, intervalSeconds: number, startedAt: Date, probes: Probe[], endedAt: Date): DowntimeSummary {
  const times = probes.map((p) => Date.parse(p.at));
  let down = 0;
  let longest = 0;
  let outageStart: number | undefined;
  probes.forEach((p, i) => {
    const next = times[i + 1] ?? Math.max(endedAt.getTime(), times[i]);
    if (p.ok) {
      outageStart = undefined;
      return;
    }
    down += next - times[i];
    outageStart ??= times[i];
    longest = Math.max(longest, next - outageStart);
  });
  const failing = probes.filter((p) => !p.ok);
  const pick = (p: Probe | undefined) => (p ? { at: p.at, detail: p.detail } : null);
  return {
    kind: DOWNTIME_KIND,
    url,
    intervalSeconds,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    probes: probes.length,
    failed: failing.length,
    secondsDown: round(down / 1000),
    longestOutageSeconds: round(longest / 1000),
    firstFailure: pick(failing[0]),
    lastFailure: pick(failing.at(-1)),
    versions: [...new Set(probes.map((p) => p.version).filter((v): v is string => v !== undefined))],
  };
}

/** One probe: both endpoints at once, each within `timeoutMs`. */
export async function probeOnce(url: string, timeoutMs: number, now: () => Date = () => new Date()): Promise<Probe> {
  const at = now().toISOString();
  const [health, version] = await Promise.allSettled([
    requestJson({ method: "GET", url: `${url}/health`, timeoutMs, expect: "text" }),
    requestJson({ method: "GET", url: `${url}/api/v1/version`, timeoutMs }),
  ]);
  const why = (name: string, r: PromiseSettledResult<unknown>) => (r.status === "rejected" ? `${name}: ${r.reason instanceof StepFailure ? r.reason.message : String(r.reason)}` : undefined);
  const reported = version.status === "fulfilled" ? version.value.body : undefined;
  const versionText = typeof reported === "string" && /^\d+\.\d+\.\d+/.test(reported) ? reported : undefined;
  const failure = why("health", health) ?? why("version", version) ?? (versionText ? undefined : `version: answered ${JSON.stringify(reported)?.slice(0, 40)}, not a version`);
  return { at, ok: failure === undefined, detail: failure ?? `up ${versionText}`, ...(versionText ? { version: versionText } : {}) };
}

export function writeAtomically(file: string, summary: DowntimeSummary): void {
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, JSON.stringify(summary, null, 2) + "\n");
  fs.renameSync(partial, file);
}

export interface ProberOptions {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  /** The summary file, rewritten after each probe; omitted in tests that only read the result. */
  out?: string;
  /** Stops the loop (SIGTERM in the CLI, the end of --duration-seconds). */
  signal: AbortSignal;
  now?: () => Date;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  probe?: (url: string, timeoutMs: number) => Promise<Probe>;
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });

/** Probes on a fixed beat (a slow probe skips beats, never piles up) until the signal stops it. */
export async function runProber(o: ProberOptions): Promise<DowntimeSummary> {
  const now = o.now ?? (() => new Date());
  const sleep = o.sleep ?? abortableSleep;
  const probe = o.probe ?? ((url, timeoutMs) => probeOnce(url, timeoutMs, now));
  const startedAt = now();
  const probes: Probe[] = [];
  let summary = summarize(o.url, o.intervalMs / 1000, startedAt, probes, startedAt);
  while (!o.signal.aborted) {
    probes.push(await probe(o.url, o.timeoutMs));
    summary = summarize(o.url, o.intervalMs / 1000, startedAt, probes, now());
    if (o.out) writeAtomically(o.out, summary);
    const elapsed = now().getTime() - startedAt.getTime();
    await sleep(o.intervalMs - (elapsed % o.intervalMs), o.signal);
  }
  summary = summarize(o.url, o.intervalMs / 1000, startedAt, probes, now());
  if (o.out) writeAtomically(o.out, summary);
  return summary;
}

/** Parses a summary read back from a file; undefined when it is not one. */
export function parseDowntime(text: string): DowntimeSummary | undefined {
  try {
    const d = JSON.parse(text) as Partial<DowntimeSummary>;
    return d.kind === DOWNTIME_KIND && typeof d.secondsDown === "number" ? (d as DowntimeSummary) : undefined;
  } catch {
    return undefined;
  }
}

export const downtimeLine = (d: DowntimeSummary): string =>
  d.failed === 0
    ? `no failing probe in ${d.probes} (${d.url}, every ${d.intervalSeconds} s)`
    : `${d.secondsDown} s down (${d.failed} of ${d.probes} probes failed, longest outage ${d.longestOutageSeconds} s; first failing probe ${d.firstFailure!.at}: ${d.firstFailure!.detail}; last ${d.lastFailure!.at})`;
