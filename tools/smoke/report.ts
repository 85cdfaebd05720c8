// Rendering of a SmokeReport: an aligned table for humans, JSON for CI.
import type { SmokeReport } from "./checks";

const MARK = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;

export function formatTable(r: SmokeReport, product = "ZenML"): string {
  const rows = r.steps.map((s) => [s.name, MARK[s.status], s.status === "skip" ? "-" : `${(s.durationMs / 1000).toFixed(2)}s`, String(s.attempts), s.detail]);
  const head = ["STEP", "RESULT", "TIME", "TRIES", "DETAIL"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  const failed = r.steps.find((s) => s.status === "fail");
  const verdict = r.ok
    ? `OK: ${r.url} runs ${product} ${r.expectedVersion} (${(r.durationMs / 1000).toFixed(2)}s)`
    : `FAILED at ${failed?.name ?? "?"}: ${failed?.detail ?? "unknown"}`;
  return [`${product} smoke check: ${r.url}`, line(head), ...rows.map(line), verdict].join("\n");
}

export function formatJson(r: SmokeReport): string {
  return JSON.stringify(r, null, 2);
}
