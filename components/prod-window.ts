// When prod may take an upgrade, as pure functions: only after staging has run the version for
// `promotionSoakHours` (the seeds' 1-2 days of user acceptance testing on staging) and only inside
// the stack's `upgradeWindow` (a low-activity slot, UTC), unless `upgradeTimingOverrideReason`
// names that very version with a reason. Rollbacks, first deploys and deploys that move no version
// are never held: waiting would only lengthen an outage or protect users who are not there yet.
// Read by config.ts (validation), prod's staging gate and the deploy job's last check before `up`.
import * as semver from "semver";

export const SOAK_KEY = "promotionSoakHours";
export const WINDOW_KEY = "upgradeWindow";
export const TIMING_OVERRIDE_KEY = "upgradeTimingOverrideReason";
export const MAX_SOAK_HOURS = 24 * 30;
/** maxMigrationMinutes when a stack file does not set it: here, so prod's gate reads it without the config schema. */
export const DEFAULT_MAX_MIGRATION_MINUTES = 10;

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const MINUTE = 60_000;
const WEEK_MINUTES = 7 * 24 * 60;
/** A window shorter than a deploy cannot hold one. */
export const MIN_WINDOW_MINUTES = 30;

/** A weekly slot in UTC: `start` minutes after Monday 00:00, `length` minutes (it may wrap past Sunday). */
export interface UpgradeWindow {
  text: string;
  start: number;
  length: number;
}

/** Parses "ddd:hh:mm-ddd:hh:mm" (UTC); "" is no window (any time). Returns an error text when malformed. */
export function parseUpgradeWindow(text: string): UpgradeWindow | null | string {
  if (text.trim() === "") return null;
  const m = /^(\w{3}):([01]\d|2[0-3]):([0-5]\d)-(\w{3}):([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  const startDay = m ? DAYS.indexOf(m[1] as (typeof DAYS)[number]) : -1;
  const endDay = m ? DAYS.indexOf(m[4] as (typeof DAYS)[number]) : -1;
  if (!m || startDay < 0 || endDay < 0) return `"${text}" is not of the form ddd:hh:mm-ddd:hh:mm (UTC, days ${DAYS.join("|")}), e.g. "sat:02:00-sat:06:00"`;
  const start = startDay * 1440 + Number(m[2]) * 60 + Number(m[3]);
  const end = endDay * 1440 + Number(m[5]) * 60 + Number(m[6]);
  const length = (((end - start) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  if (length < MIN_WINDOW_MINUTES) return `"${text}" lasts ${length} minutes; an upgrade window needs at least ${MIN_WINDOW_MINUTES}`;
  return { text: text.trim(), start, length };
}

export const explainUpgradeWindow = (text: string): string | undefined => {
  const parsed = parseUpgradeWindow(text);
  return typeof parsed === "string" ? parsed : undefined;
};

/** An override names the version it is for, so a reason left in the file never excuses the next upgrade. */
export interface TimingOverride {
  version: string;
  reason: string;
}

/** "" is none; otherwise "X.Y.Z: why" with a reason of 10+ characters. Returns an error text when malformed. */
export function parseTimingOverride(text: string): TimingOverride | null | string {
  if (text.trim() === "") return null;
  const m = /^(\d+\.\d+(?:\.\d+)?)\s*:\s*(.*)$/.exec(text.trim());
  if (!m || m[2].trim().length < 10) return `"${text}" is not "<version>: <reason of 10+ characters>" (e.g. "0.99.0: CVE-2026-1234 fix cannot wait for the window")`;
  return { version: m[1], reason: m[2].trim() };
}

export const explainTimingOverride = (text: string): string | undefined => {
  const parsed = parseTimingOverride(text);
  return typeof parsed === "string" ? parsed : undefined;
};

export const minuteOfWeek = (at: Date): number => ((at.getUTCDay() + 6) % 7) * 1440 + at.getUTCHours() * 60 + at.getUTCMinutes() + at.getUTCSeconds() / 60;

/** Minutes since the window opened when `at` is inside it, else undefined. */
function minutesInto(w: UpgradeWindow, at: Date): number | undefined {
  const into = (((minuteOfWeek(at) - w.start) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  return into < w.length ? into : undefined;
}

/** The first moment at or after `from` that lies inside the window. */
export function nextOpening(w: UpgradeWindow, from: Date): Date {
  if (minutesInto(w, from) !== undefined) return from;
  const wait = (((w.start - minuteOfWeek(from)) % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES;
  // Whole minutes: the window opens on the minute.
  return new Date(Math.ceil((from.getTime() + wait * MINUTE) / MINUTE) * MINUTE);
}

/** "Sat 2026-12-12 02:00 UTC" */
export function utc(at: Date): string {
  const day = DAYS[(at.getUTCDay() + 6) % 7];
  return `${day[0].toUpperCase()}${day.slice(1)} ${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;

export type Move = "upgrade" | "rollback" | "first deploy" | "none";

export function classifyMove(from: string | null, to: string): Move {
  if (from === null) return "first deploy";
  if (from === to) return "none";
  return semver.valid(from) && semver.valid(to) && semver.lt(to, from) ? "rollback" : "upgrade";
}

/** What the soak reads of one staging run and its deploy record (the gate's WorkflowRun and DeployRecord fit). */
export interface SoakRun {
  headSha: string;
  status: string;
  conclusion: string;
  createdAt: string;
}
export interface SoakRecord {
  result: string;
  to: string;
  recordedAt?: string;
}

/** How long staging ran `version`: its longest unbroken stretch, from a green deploy that reached it until staging ran another pin (or now). */
export interface Soak {
  since?: Date;
  until?: Date;
  ms: number;
}

export function soakOf<R extends SoakRun>(version: string, runs: R[], pinAt: (sha: string) => string | undefined, recordOf: (run: R) => SoakRecord | undefined, now: Date): Soak {
  const completed = runs.filter((r) => r.status === "completed").sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  let best: Soak = { ms: 0 };
  let since: Date | undefined;
  const close = (until: Date | undefined) => {
    if (since && (until ?? now).getTime() - since.getTime() >= best.ms) best = { since, until, ms: Math.max(0, (until ?? now).getTime() - since.getTime()) };
    since = undefined;
  };
  for (const run of completed) {
    if (pinAt(run.headSha) !== version) {
      close(new Date(run.createdAt));
      continue;
    }
    if (since || run.conclusion !== "success") continue;
    const record = recordOf(run);
    if (record?.result === "success" && record.to === version) since = new Date(record.recordedAt ?? run.createdAt);
  }
  close(undefined);
  return best;
}

export interface TimingSettings {
  soakHours: number;
  window: UpgradeWindow | null;
  override: TimingOverride | null;
}

export interface TimingCheck {
  name: "soak" | "upgrade window";
  ok: boolean;
  detail: string;
}

const overrideHint = (to: string) => `or set ${TIMING_OVERRIDE_KEY}: "${to}: <why it cannot wait>" in Pulumi.prod.yaml`;

/** The soak and window checks of a move from -> to at `now`; the soak is only read for an upgrade. */
export function timingChecks(from: string | null, to: string, now: Date, settings: TimingSettings, soak: () => Soak): TimingCheck[] {
  const move = classifyMove(from, to);
  if (move !== "upgrade") {
    const why = move === "none" ? `no version moves (${to})` : move === "rollback" ? `a rollback ${from} -> ${to} is never held` : `a first deploy (${to}) has no users to protect`;
    return [
      { name: "soak", ok: true, detail: `${SOAK_KEY} does not apply: ${why}` },
      { name: "upgrade window", ok: true, detail: `${WINDOW_KEY} does not apply: ${why}` },
    ];
  }
  const override = settings.override?.version === to ? settings.override : null;
  const stale = settings.override && !override ? ` (${TIMING_OVERRIDE_KEY} names ${settings.override.version}, not ${to}: ignored)` : "";
  const overridden = (why: string) => `OVERRIDDEN: ${why}. ${TIMING_OVERRIDE_KEY}: ${override!.reason}`;
  const checks: TimingCheck[] = [];

  if (settings.soakHours === 0) checks.push({ name: "soak", ok: true, detail: `${SOAK_KEY} is 0: no soak on staging required` });
  else {
    const s = soak();
    const needMs = settings.soakHours * 3_600_000;
    const ran = s.since ? `staging has run ${to} for ${hours(s.ms)} (from ${utc(s.since)}${s.until ? ` until ${utc(s.until)}` : ""})` : `staging has not run ${to} green`;
    if (s.ms >= needMs) checks.push({ name: "soak", ok: true, detail: `${ran}; ${SOAK_KEY} is ${settings.soakHours}` });
    else if (override) checks.push({ name: "soak", ok: true, detail: overridden(`${ran}, less than ${SOAK_KEY} ${settings.soakHours}`) });
    else {
      const when = s.since && !s.until ? `prod may take it from ${utc(new Date(s.since.getTime() + needMs))}` : `deploy it on staging and let users test it ${settings.soakHours} h`;
      checks.push({ name: "soak", ok: false, detail: `${ran}, less than ${SOAK_KEY} ${settings.soakHours} (the users' test time on staging): ${when}, ${overrideHint(to)}${stale}` });
    }
  }

  const w = settings.window;
  if (!w) checks.push({ name: "upgrade window", ok: true, detail: `no ${WINDOW_KEY}: prod may upgrade at any time` });
  else if (minutesInto(w, now) !== undefined) {
    const left = Math.floor(w.length - minutesInto(w, now)!);
    checks.push({ name: "upgrade window", ok: true, detail: `${utc(now)} is inside ${WINDOW_KEY} ${w.text} UTC (${left} min left)` });
  } else if (override) checks.push({ name: "upgrade window", ok: true, detail: overridden(`${utc(now)} is outside ${WINDOW_KEY} ${w.text} UTC`) });
  else {
    checks.push({ name: "upgrade window", ok: false, detail: `${utc(now)} is outside ${WINDOW_KEY} ${w.text} UTC: re-run this deploy from ${utc(nextOpening(w, now))}, ${overrideHint(to)}${stale}` });
  }
  return checks;
}

/** The three timing keys as a stack file holds them (fully qualified: "zenml-platform:upgradeWindow"). */
export function timingSettings(config: (key: string) => unknown): TimingSettings {
  const soak = config(SOAK_KEY) ?? 24;
  if (typeof soak !== "number" || !Number.isInteger(soak) || soak < 0 || soak > MAX_SOAK_HOURS) throw new Error(`${SOAK_KEY}: ${JSON.stringify(soak)} is not an integer 0..${MAX_SOAK_HOURS}`);
  const window = parseUpgradeWindow(String(config(WINDOW_KEY) ?? ""));
  if (typeof window === "string") throw new Error(`${WINDOW_KEY}: ${window}`);
  const override = parseTimingOverride(String(config(TIMING_OVERRIDE_KEY) ?? ""));
  if (typeof override === "string") throw new Error(`${TIMING_OVERRIDE_KEY}: ${override}`);
  return { soakHours: soak, window, override };
}
