import { describe, expect, it } from "vitest";
import { buildRecord, main as deployRecord, parseRecord, recordSummary } from "../tools/gitops/deploy-record";
import { captureIo } from "./helpers/cli";
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

describe("npm run deploy-record, bad usage", () => {
  it.each([
    [["--stack", "staging"], "deploy-record: --stack, --sha and --from are required"],
    [["--stack", "staging", "--sha", "abc", "--from", "none", "--check", "up=success", "--to", "0.98.0"], 'deploy-record: --sha must be a full 40-character commit id, got "abc"'],
    [["--stack", "staging", "--sha", "e".repeat(40), "--from", "none", "--check", "up=fine", "--to", "0.98.0"], 'deploy-record: --check "up=fine": expected name=success|failure|cancelled|skipped'],
  ])("%j: exit 2, the reason and the usage, no record written", async (argv, reason) => {
    const r = await captureIo((io) => deployRecord(argv, io, {}));
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr.split("\n").slice(0, 2)).toEqual([reason, expect.stringMatching(/^usage: npm run --silent deploy-record -- /)]);
  });
});
