// The seeds' upgrade KPIs for one stack, as pure arithmetic over the deploy records (tools/gitops/
// deploy-record.ts), the server's recent pipeline runs and, when known, each release's date:
//   downtime per upgrade        the prober's seconds down during `pulumi up`     target < 2 h each
//   rollback rate               rollbacks / upgrades attempted                  target < 5 %
//   time to resolve issues      a red upgrade deploy -> the next green deploy   tracked (no number)
//   release-to-prod lead time   the release's upload -> the deploy that ran it  tracked (no number)
//   adoption within a week      active users whose latest run used a client on the server's
//                               version (and the share of runs), 7 days back  all, a week after the upgrade
import { classifyMove } from "../../components/prod-window";
import type { DeployRecord } from "../gitops/deploy-record";

export const DOWNTIME_TARGET_SECONDS = 2 * 3600;
export const ROLLBACK_RATE_TARGET = 0.05;
export const ADOPTION_DAYS = 7;

/** One pipeline run as the KPIs read it from the ZenML API. */
export interface ClientRun {
  user: string;
  /** The zenml version of the client that started the run (its client environment); null when unrecorded. */
  clientVersion: string | null;
  created: string;
}

export interface UpgradeRow {
  at: string;
  sha: string;
  from: string;
  to: string;
  result: "success" | "failure";
  /** `pulumi up` itself failed. */
  upFailed: boolean;
  secondsDown: number | null;
  /** A red deploy's issue: hours until the stack's next green deploy; null while none followed. */
  resolvedAfterHours: number | null;
  leadTimeDays: number | null;
}

export interface UserAdoption {
  user: string;
  runs: number;
  onServerVersion: number;
  latestClient: string | null;
  adopted: boolean;
}

export interface KpiReport {
  stack: string;
  generatedAt: string;
  records: number;
  upgrades: UpgradeRow[];
  rollbacks: { at: string; from: string; to: string }[];
  downtime: { measured: number; worstSeconds: number | null; medianSeconds: number | null; target: string; met: boolean | null };
  rollbackRate: { rollbacks: number; upgrades: number; rate: number | null; target: string; met: boolean | null };
  timeToResolve: { issues: number; resolved: number; open: number; medianHours: number | null; worstHours: number | null; target: string };
  leadTime: { releases: number; medianDays: number | null; latestDays: number | null; target: string };
  adoption: {
    measured: boolean;
    /** Why not, when not measured. */
    note?: string;
    serverVersion: string | null;
    since: string;
    upgradedAt: string | null;
    daysSinceUpgrade: number | null;
    runs: number;
    runsOnServerVersion: number;
    shareOfRuns: number | null;
    usersActive: number;
    usersAdopted: number;
    shareOfUsers: number | null;
    users: UserAdoption[];
    target: string;
    met: boolean | null;
  };
}

export interface KpiInput {
  stack: string;
  records: DeployRecord[];
  /** undefined: the server was not asked (no API key); the reason goes in `adoptionNote`. */
  runs?: ClientRun[];
  serverVersion?: string | null;
  adoptionNote?: string;
  /** Upload time (ISO) of each release, from the package index; missing ones leave the lead time open. */
  releaseDates?: Record<string, string>;
  now: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** ZenML sends naive UTC datetimes ("2026-12-07T10:00:00"); records carry a Z. */
export const utcTime = (t: string) => Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`);
const when = (r: DeployRecord) => r.recordedAt ?? "";
const upOutcome = (r: DeployRecord) => r.checks.find((c) => c.name === "up")?.outcome ?? "skipped";

export function computeKpis(input: KpiInput): KpiReport {
  const records = input.records.filter((r) => r.stack === input.stack && when(r) !== "").sort((a, b) => utcTime(when(a)) - utcTime(when(b)));
  // An upgrade counts once `up` was attempted: a deploy stopped before it (window, gate) moved nothing.
  const attempted = records.filter((r) => r.from !== null && classifyMove(r.from, r.to) === "upgrade" && upOutcome(r) !== "skipped" && upOutcome(r) !== "cancelled");
  const rollbacks = records.filter((r) => r.from !== null && classifyMove(r.from, r.to) === "rollback" && upOutcome(r) === "success");
  // A release reached prod with the last upgrade to it whose up succeeded (an earlier one may have been rolled back).
  const lastToVersion = new Map(attempted.filter((r) => upOutcome(r) === "success").map((r) => [r.to, r]));
  const upgrades: UpgradeRow[] = attempted.map((r) => {
    const t = utcTime(when(r));
    const fixed = r.result === "failure" ? records.find((n) => utcTime(when(n)) > t && n.result === "success") : undefined;
    const released = input.releaseDates?.[r.to];
    return {
      at: when(r),
      sha: r.sha,
      from: r.from!,
      to: r.to,
      result: r.result,
      upFailed: upOutcome(r) !== "success",
      secondsDown: r.downtime?.secondsDown ?? null,
      resolvedAfterHours: fixed ? round((utcTime(when(fixed)) - t) / HOUR) : null,
      leadTimeDays: released && lastToVersion.get(r.to) === r ? round((t - utcTime(released)) / DAY) : null,
    };
  });

  const downs = upgrades.map((u) => u.secondsDown).filter((s): s is number => s !== null);
  const issues = upgrades.filter((u) => u.result === "failure");
  const resolved = issues.map((u) => u.resolvedAfterHours).filter((h): h is number => h !== null);
  const leads = upgrades.map((u) => u.leadTimeDays).filter((d): d is number => d !== null);
  return {
    stack: input.stack,
    generatedAt: input.now.toISOString(),
    records: records.length,
    upgrades,
    rollbacks: rollbacks.map((r) => ({ at: when(r), from: r.from!, to: r.to })),
    downtime: { measured: downs.length, worstSeconds: downs.length ? Math.max(...downs) : null, medianSeconds: median(downs), target: "< 2 h per upgrade", met: downs.length ? downs.every((s) => s < DOWNTIME_TARGET_SECONDS) : null },
    rollbackRate: {
      rollbacks: rollbacks.length,
      upgrades: upgrades.length,
      rate: upgrades.length ? rollbacks.length / upgrades.length : null,
      target: "< 5 %",
      met: upgrades.length ? rollbacks.length / upgrades.length < ROLLBACK_RATE_TARGET : null,
    },
    timeToResolve: { issues: issues.length, resolved: resolved.length, open: issues.length - resolved.length, medianHours: median(resolved), worstHours: resolved.length ? Math.max(...resolved) : null, target: "tracked (the seeds set no number)" },
    leadTime: { releases: leads.length, medianDays: median(leads), latestDays: leads.at(-1) ?? null, target: "tracked (the seeds set no number)" },
    adoption: adoptionOf(input, records),
  };
}

function adoptionOf(input: KpiInput, records: DeployRecord[]): KpiReport["adoption"] {
  const since = new Date(input.now.getTime() - ADOPTION_DAYS * DAY);
  const server = input.serverVersion ?? null;
  // The deploy that brought the server's version: adoption is judged a week after it.
  const upgrade = [...records].reverse().find((r) => r.to === server && r.from !== r.to && upOutcome(r) === "success");
  const upgradedAt = upgrade ? when(upgrade) : null;
  const daysSinceUpgrade = upgradedAt ? round((input.now.getTime() - utcTime(upgradedAt)) / DAY) : null;
  const base = { serverVersion: server, since: since.toISOString(), upgradedAt, daysSinceUpgrade, target: `every active user on the server's version within ${ADOPTION_DAYS} days of the upgrade` };
  if (!input.runs || server === null) {
    return { ...base, measured: false, note: input.adoptionNote ?? "the server was not asked", runs: 0, runsOnServerVersion: 0, shareOfRuns: null, usersActive: 0, usersAdopted: 0, shareOfUsers: null, users: [], met: null };
  }
  const recent = input.runs.filter((r) => utcTime(r.created) >= since.getTime()).sort((a, b) => utcTime(a.created) - utcTime(b.created));
  const byUser = new Map<string, ClientRun[]>();
  for (const r of recent) byUser.set(r.user, [...(byUser.get(r.user) ?? []), r]);
  const users: UserAdoption[] = [...byUser].map(([user, runs]) => {
    const latestClient = runs.at(-1)!.clientVersion;
    return { user, runs: runs.length, onServerVersion: runs.filter((r) => r.clientVersion === server).length, latestClient, adopted: latestClient === server };
  }).sort((a, b) => a.user.localeCompare(b.user));
  const onServer = recent.filter((r) => r.clientVersion === server).length;
  const adopted = users.filter((u) => u.adopted).length;
  const shareOfUsers = users.length ? adopted / users.length : null;
  // Without a record of the upgrade (none yet, or expired) the week cannot be placed: not judged.
  const weekOver = daysSinceUpgrade !== null && daysSinceUpgrade >= ADOPTION_DAYS;
  return {
    ...base,
    measured: true,
    runs: recent.length,
    runsOnServerVersion: onServer,
    shareOfRuns: recent.length ? onServer / recent.length : null,
    usersActive: users.length,
    usersAdopted: adopted,
    shareOfUsers,
    users,
    // Within the week a shortfall is still in progress; all users adopted is met at any time.
    met: shareOfUsers === null ? null : shareOfUsers === 1 ? true : weekOver ? false : null,
  };
}
