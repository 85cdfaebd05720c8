// Pure arithmetic for RDS windows. RDS wants UTC windows of at least 30 minutes and rejects
// a backup window that overlaps the maintenance window, but only at apply time; we check first.

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
export const MIN_WINDOW_MINUTES = 30;

/** A span of minutes in a week, start inclusive, length > 0; may wrap past the week's end. */
export interface WeeklySpan {
  start: number;
  length: number;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minutesOf(hhmm: string): number | undefined {
  const m = TIME.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

function lengthBetween(start: number, end: number, period: number): number {
  return (((end - start) % period) + period) % period;
}

/** Parses a daily backup window "hh:mm-hh:mm" (UTC). Returns an error text or the span of one day. */
export function parseDailyWindow(text: string): { start: number; length: number } | string {
  const parts = text.split("-");
  const start = parts.length === 2 ? minutesOf(parts[0]) : undefined;
  const end = parts.length === 2 ? minutesOf(parts[1]) : undefined;
  if (start === undefined || end === undefined) return `"${text}" is not of the form hh:mm-hh:mm (UTC)`;
  const length = lengthBetween(start, end, MINUTES_PER_DAY);
  if (length < MIN_WINDOW_MINUTES) return `"${text}" lasts ${length} minutes; RDS needs at least ${MIN_WINDOW_MINUTES}`;
  return { start, length };
}

/** Parses a weekly maintenance window "ddd:hh:mm-ddd:hh:mm" (UTC). */
export function parseWeeklyWindow(text: string): WeeklySpan | string {
  const m = /^([a-z]{3}):(\d\d:\d\d)-([a-z]{3}):(\d\d:\d\d)$/.exec(text);
  const form = `"${text}" is not of the form ddd:hh:mm-ddd:hh:mm (UTC, days ${DAYS.join("|")})`;
  if (!m) return form;
  const startDay = DAYS.indexOf(m[1] as (typeof DAYS)[number]);
  const endDay = DAYS.indexOf(m[3] as (typeof DAYS)[number]);
  const startTime = minutesOf(m[2]);
  const endTime = minutesOf(m[4]);
  if (startDay < 0 || endDay < 0 || startTime === undefined || endTime === undefined) return form;
  const start = startDay * MINUTES_PER_DAY + startTime;
  const length = lengthBetween(start, endDay * MINUTES_PER_DAY + endTime, MINUTES_PER_WEEK);
  if (length < MIN_WINDOW_MINUTES) return `"${text}" lasts ${length} minutes; RDS needs at least ${MIN_WINDOW_MINUTES}`;
  if (length > MINUTES_PER_DAY) return `"${text}" lasts more than 24 hours`;
  return { start, length };
}

function spansOverlap(a: WeeklySpan, b: WeeklySpan): boolean {
  // Compare on the week's circle: a's start falls inside b, or b's start inside a.
  const aInB = lengthBetween(b.start, a.start, MINUTES_PER_WEEK) < b.length;
  const bInA = lengthBetween(a.start, b.start, MINUTES_PER_WEEK) < a.length;
  return aInB || bInA;
}

/** True when the daily backup window touches the weekly maintenance window on any day. */
export function backupOverlapsMaintenance(backup: { start: number; length: number }, maintenance: WeeklySpan): boolean {
  for (let day = 0; day < 7; day++) {
    if (spansOverlap({ start: day * MINUTES_PER_DAY + backup.start, length: backup.length }, maintenance)) return true;
  }
  return false;
}
