// Pure: what the wait tool says about a post-upgrade report (components/post-upgrade/post_upgrade.py's JSON).
export interface EntryCheck { name: string; status: "pass" | "fail" | "staging-only"; detail: string }
export interface EntryReport { entry: string; status: "pass" | "fail"; checks: EntryCheck[]; seconds?: number }
export interface UnownedItem { kind: string; name: string; status: "fail" | "ignored"; detail: string }
/** A named item of an inventory: the post-upgrade Job's, or the pre-upgrade inventory's. */
export interface InventoryItem { kind?: string; name: string }
/** The kinds both inventories list by name. */
export const INVENTORIED_KINDS = ["snapshots", "run_templates", "schedules"] as const;

export interface PostUpgradeReport {
  ok: boolean;
  /** What the upgraded server held before the rebuild, by kind. */
  inventory?: Partial<Record<(typeof INVENTORIED_KINDS)[number], InventoryItem[]>>;
  error?: string;
  client_version?: string;
  server_version?: string;
  entries: EntryReport[];
  unowned_stale: UnownedItem[];
  stale_after_owned?: string[];
}

/** One line per failed entry (naming its failed checks), unowned stale item, or script error. */
export function failureLines(report: PostUpgradeReport): string[] {
  const lines: string[] = [];
  if (report.error) lines.push(`post-upgrade: FAILED: ${report.error}`);
  for (const e of report.entries ?? []) {
    if (e.status === "pass") continue;
    const failed = e.checks.filter((c) => c.status === "fail");
    lines.push(`post-upgrade: FAILED entry ${e.entry}: ${failed.map((c) => `${c.name}: ${c.detail}`).join("; ") || "no check passed"}`);
  }
  for (const u of report.unowned_stale ?? []) if (u.status === "fail") lines.push(`post-upgrade: FAILED ${u.detail}`);
  for (const name of report.stale_after_owned ?? []) lines.push(`post-upgrade: FAILED ${name} is still stale after the rebuild`);
  if (!report.ok && lines.length === 0) lines.push("post-upgrade: FAILED: the report is not green");
  return lines;
}

/** The Job's report from its log: the last line with the prefix; undefined when there is none. */
export function reportFromLog(log: string, prefix: string): PostUpgradeReport | undefined {
  const line = log.split("\n").reverse().find((l) => l.startsWith(prefix));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(prefix.length)) as PostUpgradeReport;
  } catch {
    return undefined;
  }
}

/**
 * What the pre-upgrade inventory listed (components/pre-upgrade/inventory.py) and the upgraded
 * server no longer holds, one line each: the migration lost it, or someone deleted it meanwhile.
 */
export function missingSinceInventory(before: Partial<Record<string, InventoryItem[]>>, report: PostUpgradeReport): string[] {
  if (!report.inventory) return [];
  const lines: string[] = [];
  for (const kind of INVENTORIED_KINDS) {
    const now = new Set((report.inventory[kind] ?? []).map((i) => i.name));
    for (const item of before[kind] ?? []) {
      if (!now.has(item.name)) lines.push(`post-upgrade: FAILED ${kind.replace(/s$/, "").replace("_", " ")} ${item.name} was on the server before the upgrade (pre-upgrade inventory) and is gone`);
    }
  }
  return lines;
}
