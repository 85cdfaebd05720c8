import { describe, expect, it } from "vitest";
import { buildRecord, parseRecord, recordSummary } from "../tools/gitops/deploy-record";
import { summarize } from "../tools/prober/probe";

describe("the deploy record carries what the prober saw and when it was written", () => {
  const t0 = new Date("2026-12-12T02:10:00Z");
  const at = (s: number) => new Date(t0.getTime() + s * 1000).toISOString();
  const probes = [
    { at: at(0), ok: true, detail: "up 0.97.0", version: "0.97.0" },
    { at: at(1), ok: false, detail: "health: HTTP 503 on GET /health" },
    { at: at(2), ok: false, detail: "health: HTTP 503 on GET /health" },
    { at: at(3), ok: true, detail: "up 0.98.0", version: "0.98.0" },
  ];
  const downtime = summarize("https://zenml.example.com", 1, t0, probes, new Date(at(4)));
  const record = buildRecord({ stack: "prod", sha: "d".repeat(40), from: "0.97.0", to: "0.98.0", checks: ["up=success"], recordedAt: new Date("2026-12-12T02:25:00Z"), downtime, timingOverride: "0.98.0: CVE-2026-1234 cannot wait" });

  it("seconds down, first and last failing probe, without the prober's URL", () => {
    expect(record).toMatchObject({ recordedAt: "2026-12-12T02:25:00.000Z", timingOverride: "0.98.0: CVE-2026-1234 cannot wait", downtime: { secondsDown: 2, failed: 2, probes: 4, firstFailure: { at: at(1) }, lastFailure: { at: at(2) }, versions: ["0.97.0", "0.98.0"] } });
    expect(JSON.stringify(record)).not.toContain("https://");
    expect(parseRecord(JSON.stringify(record))).toEqual(record);
  });

  it("says it in the job summary", () => {
    const text = recordSummary(record);
    expect(text).toContain(`Downtime during up: 2 s (2 of 4 probes failed; first failing probe ${at(1)}, last ${at(2)}).`);
    expect(text).toContain("Soak and window overridden: 0.98.0: CVE-2026-1234 cannot wait.");
  });
});
