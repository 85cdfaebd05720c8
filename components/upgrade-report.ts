// Pure: the upgrade report as text, for the plan and for refusals. The JSON form is the entries.
import type { PartReportEntry } from "./version-policy";

const MOVE_TEXT: Record<PartReportEntry["move"], string> = {
  "first-deploy": "first deploy",
  "first-record": "recorded for the first time",
  unchanged: "unchanged",
  upgrade: "upgrade",
  rollback: "rollback",
  refused: "REFUSED",
};

export function upgradeReportText(entries: readonly PartReportEntry[]): string {
  const width = Math.max(...entries.map((e) => e.part.length), 4);
  const lines = ["Upgrade report (deployed -> desired):"];
  for (const e of entries) {
    lines.push(`  ${e.part.padEnd(width)}  ${e.deployed ?? "(none)"} -> ${e.desired}  ${MOVE_TEXT[e.move]}${e.refused && e.move !== "refused" ? ` (refused: ${e.refused})` : ""}`);
    for (const effect of e.effects) lines.push(`  ${" ".repeat(width)}    - ${effect}`);
  }
  return lines.join("\n");
}
