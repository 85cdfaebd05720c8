// Pure: the upgrade report as text, for the plan, refusals and the PR comment. The JSON form is the entries.
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
    const aws = e.awsMove ? ` (AWS moved it ${e.awsMove.from} -> ${e.awsMove.to})` : "";
    lines.push(`  ${e.part.padEnd(width)}  ${e.deployed ?? "(none)"} -> ${e.desired}  ${MOVE_TEXT[e.move]}${aws}${e.refused && e.move !== "refused" ? ` (refused: ${e.refused})` : ""}`);
    for (const effect of e.effects) lines.push(`  ${" ".repeat(width)}    - ${effect}`);
  }
  return lines.join("\n");
}

/** The report as a Markdown table, one row per part: what a reviewer checks in the PR comment. */
export function upgradeReportMarkdown(stack: string, entries: readonly PartReportEntry[]): string {
  const rows = entries.map((e) => {
    const what = e.move === "refused" ? `**REFUSED**: ${e.refused}` : e.effects.length > 0 ? e.effects.join("; ") : e.awsMove ? `AWS moved it ${e.awsMove.from} -> ${e.awsMove.to}: recorded` : "";
    return `| ${e.part} | \`${e.configKey}\` | ${e.deployed ?? "(none)"} | ${e.desired} | ${MOVE_TEXT[e.move]} | ${what.replace(/\|/g, "\\|")} |`;
  });
  return [`#### Every part on ${stack}`, "", "| part | pin | deployed | desired | move | what applying it does |", "| --- | --- | --- | --- | --- | --- |", ...rows, ""].join("\n");
}
