// Pure: what the deploy record says about the work before a ZenML upgrade: where the inventory is,
// what it counted, whether runs held the upgrade (and which, when they refused it), and whether the
// pre-upgrade snapshot was restored, checked and its copy deleted. Read from the documents the Jobs
// wrote to upgrades/<stack>/<from>-<to>/ (components/pre-upgrade/), which the deploy workflow copies.
import * as fs from "node:fs";
import * as path from "node:path";

interface Run {
  run: string;
  pipeline: string | null;
  user: string | null;
  status: string;
  started_at: string;
}

export interface PreUpgradeRecord {
  /** Where the documents are: the workflow's copy of upgrades/<stack>/<from>-<to>/. */
  folder: string;
  inventory?: { takenAt: string; counts: Record<string, number>; alembicHeads: string[] };
  drain?: { result: string; waitedSeconds: number; heldBy: string[]; stillBusy: string[]; overrideReason?: string };
  restoreTest?: { ok: boolean; restoreSeconds?: number; seconds?: number; deleted?: boolean; checks: { name: string; ok: boolean; detail: string }[]; error?: string };
}

const runLine = (r: Run) => `run ${r.run} (pipeline ${r.pipeline ?? "?"}, user ${r.user ?? "?"}, ${r.status}, started ${r.started_at})`;
const scheduleLine = (s: { schedule: string; next_run_at: string }) => `schedule ${s.schedule} (next run ${s.next_run_at})`;
type Busy = { runs?: Run[]; schedules?: { schedule: string; next_run_at: string }[] };
const busyLines = (b: Busy | undefined) => [...(b?.runs ?? []).map(runLine), ...(b?.schedules ?? []).map(scheduleLine)];

function read(dir: string, file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The section from a folder holding inventory.json, drain.json and restore-test.json (each optional); undefined when it holds none. */
export function readPreUpgrade(dir: string, label = dir): PreUpgradeRecord | undefined {
  const inv = read(dir, "inventory.json");
  const drain = read(dir, "drain.json");
  const restore = read(dir, "restore-test.json");
  if (!inv && !drain && !restore) return undefined;
  const out: PreUpgradeRecord = { folder: label };
  if (inv) out.inventory = { takenAt: String(inv.taken_at), counts: (inv.counts ?? {}) as Record<string, number>, alembicHeads: (inv.alembic_heads ?? []) as string[] };
  if (drain) {
    out.drain = { result: String(drain.result), waitedSeconds: Number(drain.waited_seconds), heldBy: busyLines(drain.held_by as Busy), stillBusy: busyLines(drain.still_busy as Busy) };
    if (typeof drain.override_reason === "string") out.drain.overrideReason = drain.override_reason;
  }
  if (restore) {
    const checks = ((restore.checks ?? []) as { name: string; ok: boolean; detail: string }[]).map((c) => ({ name: c.name, ok: c.ok, detail: c.detail }));
    out.restoreTest = { ok: restore.ok === true, restoreSeconds: restore.restore_seconds as number | undefined, seconds: restore.seconds as number | undefined, deleted: restore.deleted as boolean | undefined, checks };
    if (typeof restore.error === "string") out.restoreTest.error = restore.error;
  }
  return out;
}

/** Markdown lines of the section, for the deploy record's job summary. */
export function preUpgradeSummary(p: PreUpgradeRecord): string[] {
  const lines = ["#### Before the server moved", "", `Documents: \`${p.folder}\``, ""];
  if (p.inventory) lines.push(`- inventory (${p.inventory.takenAt}, alembic ${p.inventory.alembicHeads.join(", ")}): ${Object.entries(p.inventory.counts).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  else lines.push("- inventory: **missing**");
  if (p.drain) {
    const held = p.drain.heldBy.length ? `, held by ${p.drain.heldBy.length}: ${p.drain.heldBy.join("; ")}` : "";
    lines.push(`- drain: **${p.drain.result}** after ${p.drain.waitedSeconds}s${held}`);
    for (const b of p.drain.stillBusy) lines.push(`  - still busy: ${b}`);
    if (p.drain.overrideReason) lines.push(`  - override reason: ${p.drain.overrideReason}`);
  }
  if (p.restoreTest) {
    const r = p.restoreTest;
    lines.push(`- restore-test: **${r.ok ? "pass" : "FAIL"}** (restored in ${r.restoreSeconds ?? "?"}s, ${r.seconds ?? "?"}s in all, copy deleted: ${r.deleted === true ? "yes" : "**no**"})${r.error ? `: ${r.error}` : ""}`);
    for (const c of r.checks) lines.push(`  - ${c.name}: ${c.ok ? "pass" : "**FAIL**"} (${c.detail})`);
  }
  return [...lines, ""];
}

/** What failed before the server moved, one line each, for the record's error annotation. */
export function preUpgradeFailures(p: PreUpgradeRecord): string[] {
  const out: string[] = [];
  if (p.drain?.result === "refused") out.push(`drain refused: ${p.drain.stillBusy.join("; ") || "runs in progress"}`);
  if (p.restoreTest && !p.restoreTest.ok) out.push(`restore-test failed: ${p.restoreTest.error ?? p.restoreTest.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join("; ")}`);
  return out;
}
