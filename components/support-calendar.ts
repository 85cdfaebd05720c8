// Pure: when each EKS Kubernetes version leaves standard support, and what a stack pinned to one
// should do about it. The data (eks-calendar.json) carries its source and the day it was read; the
// release watch refreshes it from AWS, and tests fail when it goes stale.
import calendar from "./eks-calendar.json";

export interface SupportCalendar {
  /** Where the dates come from. */
  source: string;
  /** The day they were read (YYYY-MM-DD). */
  read: string;
  /** End of standard support per version (YYYY-MM-DD). */
  standardSupportEnds: Record<string, string>;
}

// AWS's "Amazon EKS Kubernetes release calendar" (1.35's date also on endoflife.date/amazon-eks,
// which copies that table); `aws eks describe-cluster-versions` answers the same dates.
export const EKS_CALENDAR: SupportCalendar = calendar;
export const EKS_CALENDAR_FILE = "components/eks-calendar.json";

/** The Kubernetes versions the program accepts: those the calendar knows, so each has an end date. */
export const KNOWN_KUBERNETES_VERSIONS = Object.keys(EKS_CALENDAR.standardSupportEnds).sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));

/** Days ahead of the end of standard support from which plans warn. */
export const SUPPORT_WARNING_DAYS = 90;

const DAY = 86_400_000;
const minorOf = (v: string) => Number(v.split(".")[1]);
const nextMinor = (v: string) => `${v.split(".")[0]}.${minorOf(v) + 1}`;
const endOf = (calendar: SupportCalendar, v: string) => calendar.standardSupportEnds[v];
const daysUntil = (date: string, now: Date) => Math.floor((Date.parse(`${date}T00:00:00Z`) - now.getTime()) / DAY);

/** Whether a version is inside standard support on `now` (false when the calendar does not know it). */
export function inStandardSupport(version: string, now: Date, calendar: SupportCalendar = EKS_CALENDAR): boolean {
  const end = endOf(calendar, version);
  return end !== undefined && daysUntil(end, now) > 0;
}

/**
 * The minors to go through, one per update, from `version` to the first one that stays in standard
 * support beyond the warning window; ends at the newest the calendar knows when none does.
 */
export function upgradePath(version: string, now: Date, calendar: SupportCalendar = EKS_CALENDAR): string[] {
  const path: string[] = [];
  let v = version;
  while (endOf(calendar, nextMinor(v)) !== undefined) {
    v = nextMinor(v);
    path.push(v);
    if (daysUntil(endOf(calendar, v), now) > SUPPORT_WARNING_DAYS) break;
  }
  return path;
}

/** A warning when the pin leaves (or has left) standard support within the warning window, naming the steps to take. */
export function eksSupportWarning(stack: string, version: string, now: Date, calendar: SupportCalendar = EKS_CALENDAR): string | undefined {
  const end = endOf(calendar, version);
  const source = `Source: ${calendar.source}, read ${calendar.read}.`;
  if (!end) return `Stack "${stack}": kubernetesVersion "${version}" has no standard-support end date in the calendar (${EKS_CALENDAR_FILE}); add it. ${source}`;
  const days = daysUntil(end, now);
  if (days > SUPPORT_WARNING_DAYS) return undefined;
  const when = days < 0 ? `left EKS standard support on ${end}` : days === 0 ? `leaves EKS standard support today (${end})` : `leaves EKS standard support on ${end}, in ${days} day(s)`;
  const path = upgradePath(version, now, calendar);
  const alsoPast = path.filter((v) => daysUntil(endOf(calendar, v), now) <= 0).map((v) => `${v} (${endOf(calendar, v)})`);
  const landing = path.at(-1);
  const landingSafe = landing !== undefined && daysUntil(endOf(calendar, landing), now) > SUPPORT_WARNING_DAYS;
  const steps =
    path.length === 0
      ? `Upgrade to ${nextMinor(version)} once EKS offers it; the calendar lists nothing newer, refresh it.`
      : `Upgrade one minor per update, staging first: ${[version, ...path].join(" -> ")}` +
        (landingSafe ? ` (${landing} is in standard support until ${endOf(calendar, landing!)}).` : `; then refresh the calendar, ${landing} leaves standard support on ${endOf(calendar, landing!)}.`) +
        ` Next step: kubernetesVersion "${path[0]}".`;
  const passed = alsoPast.length > 0 ? ` So did ${alsoPast.join(", ")}.` : "";
  return `Stack "${stack}": Kubernetes ${version} ${when}; with upgradePolicy STANDARD, EKS then upgrades the cluster itself (the program reads the version it runs).${passed} ${steps} ${source}`;
}

/** Why the calendar can no longer be trusted on `now`, or undefined. */
export function calendarStaleness(now: Date, calendar: SupportCalendar = EKS_CALENDAR): string | undefined {
  const ends = Object.values(calendar.standardSupportEnds).sort();
  const newest = ends.at(-1);
  if (!newest || daysUntil(newest, now) <= 0) return `every version in the EKS calendar has left standard support (newest end ${newest ?? "none"}); re-read ${calendar.source} and add the newer versions`;
  return undefined;
}
