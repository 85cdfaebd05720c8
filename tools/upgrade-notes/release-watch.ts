// The scheduled release watch: for every part, in the engine's order, is there a version newer than
// staging's pin that is due and that release-watch.yaml does not hold back? The first part that has
// one gets the bump PR (one part per PR); the others say why they wait. Decisions are pure here;
// release-sources.ts reads PyPI, pip and the AWS APIs.
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { parseDocument } from "yaml";
import { PARTS, addonOf, compareDotted, explainBadPin, partsInOrder } from "../../components/parts";
import { EKS_CALENDAR, EKS_CALENDAR_FILE, type SupportCalendar } from "../../components/support-calendar";
import type { AddonVersions, ClusterVersions, EngineVersions, MajorEngineVersions, PypiProject } from "./release-sources";

export const HOLD_FILE = "release-watch.yaml";
export const DEFAULT_MARGIN_DAYS = 60;

export class WatchError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

export interface PartSettings {
  /** Non-empty: propose nothing for this part (the reason is printed). */
  hold: string;
  /** Versions never proposed (known bad); a later one still is. */
  skip: string[];
}

export interface WatchSettings {
  /** Non-empty: open no bump PR at all. */
  hold: string;
  /** How many days before a Kubernetes or MySQL version leaves standard support its next one is proposed. */
  supportMarginDays: number;
  parts: Record<string, PartSettings>;
}

const KEYS = ["hold", "supportMarginDays", "parts"];

/** Reads release-watch.yaml; a missing file holds nothing. Every problem is reported at once. */
export function readSettings(projectDir: string): WatchSettings {
  const file = path.join(projectDir, HOLD_FILE);
  const settings: WatchSettings = { hold: "", supportMarginDays: DEFAULT_MARGIN_DAYS, parts: {} };
  if (!fs.existsSync(file)) return settings;
  const doc = parseDocument(fs.readFileSync(file, "utf8"));
  if (doc.errors.length > 0) throw new WatchError(`${HOLD_FILE} cannot be parsed: ${doc.errors[0].message.split("\n")[0]}`, 2);
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(raw)) if (!KEYS.includes(key)) problems.push(`${HOLD_FILE}: unknown key "${key}" (allowed: ${KEYS.join(", ")})`);
  const hold = raw.hold ?? "";
  if (typeof hold !== "string") problems.push(`${HOLD_FILE}: hold must be a reason (a string) or empty, got ${JSON.stringify(hold)}`);
  const margin = raw.supportMarginDays ?? DEFAULT_MARGIN_DAYS;
  if (!Number.isInteger(margin) || (margin as number) < 0 || (margin as number) > 365) problems.push(`${HOLD_FILE}: supportMarginDays must be a whole number of days, 0..365, got ${JSON.stringify(margin)}`);
  const parts = (raw.parts ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(parts)) {
    const rule = PARTS[name];
    if (!rule) {
      problems.push(`${HOLD_FILE}: parts.${name} is not a part (parts: ${partsInOrder().map((p) => p.name).join(", ")})`);
      continue;
    }
    const v = (value ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(v)) if (key !== "hold" && key !== "skip") problems.push(`${HOLD_FILE}: parts.${name}.${key} is unknown (allowed: hold, skip)`);
    const partHold = v.hold ?? "";
    if (typeof partHold !== "string") problems.push(`${HOLD_FILE}: parts.${name}.hold must be a reason (a string) or empty, got ${JSON.stringify(partHold)}`);
    const skip = v.skip ?? [];
    if (!Array.isArray(skip)) problems.push(`${HOLD_FILE}: parts.${name}.skip must be a list of ${rule.label} versions, got ${JSON.stringify(skip)}`);
    else for (const s of skip) if (typeof s !== "string" || rule.explainBadVersion(s)) problems.push(`${HOLD_FILE}: parts.${name}.skip entry ${JSON.stringify(s)} ${typeof s === "string" ? rule.explainBadVersion(s) : "is not a version"}`);
    settings.parts[name] = { hold: typeof partHold === "string" ? partHold.trim() : "", skip: Array.isArray(skip) ? skip.map(String) : [] };
  }
  if (problems.length > 0) throw new WatchError(problems.join("\n"), 2);
  return { ...settings, hold: (hold as string).trim(), supportMarginDays: margin as number };
}

/** Final releases with at least one wheel that is not yanked, oldest first. */
export function finalReleases(project: PypiProject): string[] {
  return Object.entries(project.releases ?? {})
    .filter(([v, files]) => explainBadPin(v) === undefined && files.some((f) => f.packagetype === "bdist_wheel" && !f.yanked))
    .map(([v]) => v)
    .sort(semver.compare);
}

/** What the watch found for one part: versions to try (best first), or why there is none yet. */
export type PartFinding = { part: string; pin: string; candidates: string[]; reason: string } | { part: string; pin: string; candidates: []; reason: string };

const DAY = 86_400_000;
const day = (date: string) => date.slice(0, 10);
/** Whole days from today to that date (both as UTC days). */
const daysUntil = (date: string, now: Date) => Math.round((Date.parse(day(date)) - Date.parse(now.toISOString().slice(0, 10))) / DAY);

/** Versions above the pin that are neither skipped nor held, and why when there is none. */
function newer(part: string, pin: string, offered: string[], settings: WatchSettings): { candidates: string[]; reason?: string } {
  const rule = PARTS[part];
  const above = offered.filter((v) => compareDotted(v, pin) > 0);
  const own = settings.parts[part] ?? { hold: "", skip: [] };
  if (above.length === 0) return { candidates: [], reason: `staging pins ${rule.label} ${pin}, the newest offered` };
  if (own.hold) return { candidates: [], reason: `${rule.label} held by ${HOLD_FILE}: ${own.hold} (newer: ${above.join(", ")})` };
  const candidates = above.filter((v) => !own.skip.includes(v));
  if (candidates.length === 0) return { candidates: [], reason: `every newer ${rule.label} is in ${HOLD_FILE}'s skip list (${above.join(", ")})` };
  return { candidates };
}

/** ZenML and MLflow: the newest final release first, then older ones (the CLI drops those whose pins do not install). */
export function findPypi(part: string, pin: string, project: PypiProject, settings: WatchSettings): PartFinding {
  const found = newer(part, pin, finalReleases(project), settings);
  if (!found.candidates.length) return { part, pin, candidates: [], reason: found.reason! };
  const best = [...found.candidates].sort(semver.rcompare);
  return { part, pin, candidates: best, reason: `${PARTS[part].label} ${best[0]} is out; staging pins ${pin}` };
}

/** When a version leaves standard support: AWS's answer, else the calendar. */
function eksEnd(versions: ClusterVersions, v: string): string | undefined {
  return versions.clusterVersions.find((c) => c.clusterVersion === v)?.endOfStandardSupportDate ?? EKS_CALENDAR.standardSupportEnds[v];
}

const statusOf = (c: ClusterVersions["clusterVersions"][number]) => (c.versionStatus ?? c.status ?? "").toUpperCase().replace(/-/g, "_");

/**
 * Kubernetes: the next minor (one per update, even one already past standard support: EKS upgrades
 * one minor at a time), once the pin is within the margin of leaving standard support.
 */
export function findKubernetes(pin: string, versions: ClusterVersions, settings: WatchSettings, now: Date): PartFinding {
  const offered = versions.clusterVersions.filter((c) => statusOf(c) !== "UNSUPPORTED").map((c) => c.clusterVersion);
  const next = `1.${Number(pin.split(".")[1]) + 1}`;
  const found = newer("kubernetes", pin, offered.includes(next) ? [next] : [], settings);
  if (!found.candidates.length) return { part: "kubernetes", pin, candidates: [], reason: offered.includes(next) ? found.reason! : `EKS offers nothing newer than ${pin}` };
  const end = eksEnd(versions, pin);
  const left = end === undefined ? -1 : daysUntil(end, now);
  if (left > settings.supportMarginDays) {
    return { part: "kubernetes", pin, candidates: [], reason: `Kubernetes ${pin} is in standard support until ${day(end!)} (${left} days, margin ${settings.supportMarginDays}); ${next} is offered and will be proposed from ${new Date(Date.parse(day(end!)) - settings.supportMarginDays * DAY).toISOString().slice(0, 10)}` };
  }
  const when = end === undefined ? "has no end of standard support on record" : left <= 0 ? `left standard support on ${day(end)}` : `leaves standard support on ${day(end)}, in ${left} days`;
  const nextEnd = eksEnd(versions, next);
  const then = nextEnd !== undefined && daysUntil(nextEnd, now) <= settings.supportMarginDays ? ` (${next} leaves standard support on ${day(nextEnd)} too: the next minor follows it)` : "";
  return { part: "kubernetes", pin, candidates: [next], reason: `Kubernetes ${pin} ${when}: ${next}, one minor${then}` };
}

/** An add-on pinned in eksAddonVersions: the newest version EKS lists for the cluster's pinned version. */
export function findAddon(part: string, pin: string | undefined, kubernetes: string, versions: AddonVersions, settings: WatchSettings): PartFinding {
  const addon = addonOf(part)!;
  if (!pin) return { part, pin: "", candidates: [], reason: `${addon} follows AWS's default for Kubernetes ${kubernetes} (not pinned in eksAddonVersions)` };
  const offered = (versions.addons.find((a) => a.addonName === addon)?.addonVersions ?? []).filter((v) => v.compatibilities.some((c) => c.clusterVersion === kubernetes)).map((v) => v.addonVersion);
  const found = newer(part, pin, offered, settings);
  if (!found.candidates.length) return { part, pin, candidates: [], reason: found.reason! };
  const best = [...found.candidates].sort((a, b) => compareDotted(b, a));
  return { part, pin, candidates: best, reason: `${addon} ${best[0]} supports Kubernetes ${kubernetes}; staging pins ${pin}` };
}

/** MySQL: the next major RDS can upgrade to in place, once the pinned major is within the margin of leaving standard support. */
export function findMysql(pin: string, engines: EngineVersions, majors: MajorEngineVersions, settings: WatchSettings, now: Date): PartFinding {
  const targets = engines.DBEngineVersions.filter((e) => e.EngineVersion.startsWith(`${pin}.`)).flatMap((e) => e.ValidUpgradeTarget ?? []).filter((t) => t.IsMajorVersionUpgrade);
  const nextMajors = [...new Set(targets.map((t) => /^\d+\.\d+/.exec(t.EngineVersion)?.[0]).filter((v): v is string => v !== undefined))].sort(compareDotted);
  if (nextMajors.length === 0) return { part: "mysql", pin, candidates: [], reason: `RDS offers no major upgrade from MySQL ${pin}` };
  // One major at a time: the lowest major above the pin RDS offers.
  const found = newer("mysql", pin, nextMajors.slice(0, 1), settings);
  if (!found.candidates.length) return { part: "mysql", pin, candidates: [], reason: found.reason ?? `RDS offers no major upgrade from MySQL ${pin}` };
  const end = majors.DBMajorEngineVersions.find((m) => m.MajorEngineVersion === pin)?.SupportedEngineLifecycles?.find((l) => l.LifecycleSupportName === "open-source-rds-standard-support")?.LifecycleSupportEndDate;
  const left = end === undefined ? -1 : daysUntil(end, now);
  if (left > settings.supportMarginDays) return { part: "mysql", pin, candidates: [], reason: `MySQL ${pin} is in RDS standard support until ${day(end!)} (${left} days, margin ${settings.supportMarginDays}); ${found.candidates[0]} waits` };
  const when = end === undefined ? "has no end of standard support on record" : left <= 0 ? `left RDS standard support on ${day(end)}` : `leaves RDS standard support on ${day(end)}, in ${left} days`;
  return { part: "mysql", pin, candidates: found.candidates, reason: `MySQL ${pin} ${when}: ${found.candidates[0]}` };
}

export type WatchDecision = { action: "bump"; part: string; version: string; reason: string } | { action: "none"; reason: string };

/**
 * The EKS calendar with AWS's answer merged in (new versions, moved dates), read today; written to
 * components/eks-calendar.json by the Kubernetes bump PR, so the program accepts the new version.
 */
export function refreshedCalendar(current: SupportCalendar, versions: ClusterVersions, today: string): { calendar: SupportCalendar; changed: string[] } {
  const ends = { ...current.standardSupportEnds };
  const changed: string[] = [];
  for (const c of versions.clusterVersions) {
    if (!c.endOfStandardSupportDate || !/^1\.\d+$/.test(c.clusterVersion)) continue;
    const end = day(c.endOfStandardSupportDate);
    if (ends[c.clusterVersion] !== end) changed.push(`${c.clusterVersion} ${ends[c.clusterVersion] ?? "(new)"} -> ${end}`);
    ends[c.clusterVersion] = end;
  }
  if (changed.length === 0) return { calendar: current, changed };
  const sorted = Object.fromEntries(Object.entries(ends).sort(([a], [b]) => compareDotted(a, b)));
  return { calendar: { ...current, read: today, standardSupportEnds: sorted }, changed };
}

/** Writes the refreshed calendar into the project; returns what changed. */
export function writeRefreshedCalendar(projectDir: string, versions: ClusterVersions, today: string): string[] {
  const file = path.join(projectDir, EKS_CALENDAR_FILE);
  const current = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as SupportCalendar) : EKS_CALENDAR;
  const { calendar, changed } = refreshedCalendar(current, versions, today);
  if (changed.length > 0) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(calendar, null, 2) + "\n");
  }
  return changed;
}
