// The KPI report as text (terminal), Markdown (the prod job's summary: text bars where a picture
// reads faster than a table) and a small hand-written SVG chart (adoption per user, downtime per
// upgrade against the 2 h target).
import type { KpiReport } from "./kpis";

const pct = (x: number | null) => (x === null ? "n/a" : `${Math.round(x * 1000) / 10} %`);
const verdict = (met: boolean | null, pending = "not yet known") => (met === true ? "met" : met === false ? "MISSED" : pending);
const seconds = (s: number | null) => (s === null ? "n/a" : s < 120 ? `${s} s` : `${Math.round(s / 6) / 10} min`);

/** One row per KPI: name, figure, target, verdict. */
export function kpiRows(r: KpiReport): [string, string, string, string][] {
  const d = r.downtime;
  const rb = r.rollbackRate;
  const t = r.timeToResolve;
  const l = r.leadTime;
  const a = r.adoption;
  const adoption = a.measured
    ? `${a.usersAdopted} of ${a.usersActive} active users (${pct(a.shareOfUsers)}) on ${a.serverVersion}; ${pct(a.shareOfRuns)} of ${a.runs} runs in ${7} days` + (a.daysSinceUpgrade !== null ? `; day ${Math.floor(a.daysSinceUpgrade)} since the upgrade` : "")
    : `not measured: ${a.note}`;
  return [
    ["downtime per upgrade", d.measured ? `worst ${seconds(d.worstSeconds)}, median ${seconds(d.medianSeconds)} (${d.measured} upgrade(s) probed)` : "no upgrade probed yet", d.target, verdict(d.met)],
    ["rollback rate", rb.upgrades ? `${rb.rollbacks} rollback(s) in ${rb.upgrades} upgrade(s): ${pct(rb.rate)}` : "no upgrade yet", rb.target, verdict(rb.met)],
    ["time to resolve post-upgrade issues", t.issues ? `${t.issues} red upgrade deploy(s): ${t.resolved} resolved (median ${t.medianHours} h, worst ${t.worstHours} h), ${t.open} open` : "no red upgrade deploy", t.target, t.open > 0 ? `${t.open} open` : "-"],
    ["release-to-prod lead time", l.releases ? `median ${l.medianDays} days, latest ${l.latestDays} days (${l.releases} release(s))` : "no release date known", l.target, "-"],
    ["adoption within a week", adoption, a.target, verdict(a.met, a.measured ? "in progress" : "not measured")],
  ];
}

export function renderText(r: KpiReport): string {
  const rows = [["KPI", "figure", "target", "verdict"], ...kpiRows(r)];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = [`Upgrade KPIs for ${r.stack} at ${r.generatedAt.slice(0, 16).replace("T", " ")} UTC, from ${r.records} deploy record(s)${r.adoption.measured ? " and the server's runs" : ""}`, ""];
  for (const row of rows) lines.push(row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  "));
  if (r.upgrades.length) {
    lines.push("", "Upgrades:");
    for (const u of r.upgrades) lines.push(`  ${u.at.slice(0, 16).replace("T", " ")}  ${u.from} -> ${u.to}  ${u.result}${u.upFailed ? " (up failed)" : ""}  down ${seconds(u.secondsDown)}${u.result === "failure" ? `  resolved after ${u.resolvedAfterHours ?? "(open)"} h` : ""}${u.leadTimeDays !== null ? `  ${u.leadTimeDays} days after the release` : ""}`);
  }
  for (const rb of r.rollbacks) lines.push(`  ${rb.at.slice(0, 16).replace("T", " ")}  rollback ${rb.from} -> ${rb.to}`);
  if (r.adoption.users.length) {
    lines.push("", `Adoption per user (runs since ${r.adoption.since.slice(0, 10)}, server ${r.adoption.serverVersion}):`);
    for (const u of r.adoption.users) lines.push(`  ${u.user}: ${u.onServerVersion} of ${u.runs} run(s) on ${r.adoption.serverVersion}, latest client ${u.latestClient ?? "unknown"}${u.adopted ? "" : " (not adopted)"}`);
  }
  return lines.join("\n") + "\n";
}

const bar = (share: number, width = 10) => "▰".repeat(Math.round(share * width)) + "▱".repeat(width - Math.round(share * width));
const cell = (s: string) => s.replace(/\|/g, "\\|");

export function renderMarkdown(r: KpiReport): string {
  const lines = [`### Upgrade KPIs: ${r.stack}`, "", "| KPI | figure | target | verdict |", "| --- | --- | --- | --- |", ...kpiRows(r).map((row) => `| ${row.map(cell).join(" | ")} |`)];
  if (r.adoption.users.length) {
    lines.push("", `Adoption per user: share of each user's runs in the last 7 days by a ${r.adoption.serverVersion} client`, "", "| user | runs on " + r.adoption.serverVersion + " | latest client |", "| --- | --- | --- |");
    for (const u of r.adoption.users) lines.push(`| ${cell(u.user)} | \`${bar(u.onServerVersion / u.runs)}\` ${u.onServerVersion}/${u.runs} | ${u.latestClient ?? "unknown"}${u.adopted ? "" : " (not adopted)"} |`);
  }
  if (r.upgrades.length) {
    lines.push("", "| upgrade | when (UTC) | result | downtime | resolved after |", "| --- | --- | --- | --- | --- |");
    for (const u of r.upgrades) lines.push(`| ${u.from} -> ${u.to} | ${u.at.slice(0, 16).replace("T", " ")} | ${u.result} | ${seconds(u.secondsDown)} | ${u.result === "failure" ? `${u.resolvedAfterHours ?? "open"} h` : "-"} |`);
  }
  return lines.join("\n") + "\n";
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Two panels of horizontal bars: adoption per user (0-100 %), downtime per upgrade (scaled to the 2 h target). */
export function renderSvg(r: KpiReport): string {
  const rowHeight = 22;
  const labelWidth = 190;
  const barWidth = 320;
  const parts: string[] = [];
  let y = 24;
  const heading = (text: string) => {
    parts.push(`<text x="8" y="${y}" font-weight="bold">${esc(text)}</text>`);
    y += 14;
  };
  const row = (label: string, share: number, value: string, color: string) => {
    const w = Math.max(0, Math.min(1, share)) * barWidth;
    parts.push(
      `<text x="8" y="${y + 15}">${esc(label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${barWidth}" height="16" fill="#eee"/>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="16" fill="${color}"/>`,
      `<text x="${labelWidth + barWidth + 8}" y="${y + 15}">${esc(value)}</text>`,
    );
    y += rowHeight;
  };
  const a = r.adoption;
  heading(a.measured ? `Adoption: runs in the last 7 days by a ${a.serverVersion} client, per user` : `Adoption: not measured (${a.note})`);
  for (const u of a.users) row(u.user, u.onServerVersion / u.runs, `${u.onServerVersion}/${u.runs}`, u.adopted ? "#2e7d32" : "#ef6c00");
  y += 16;
  heading("Downtime per upgrade (full bar = the 2 h target)");
  for (const u of r.upgrades) row(`${u.from} -> ${u.to}`, (u.secondsDown ?? 0) / 7200, u.secondsDown === null ? "not probed" : seconds(u.secondsDown), (u.secondsDown ?? 0) < 7200 ? "#1565c0" : "#c62828");
  const height = y + 8;
  const width = labelWidth + barWidth + 110;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join("\n")}\n</svg>\n`;
}
