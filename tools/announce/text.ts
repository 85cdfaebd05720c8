// The announcements teams receive around an upgrade, from the data the project already has: the
// upgrade dossier (tools/upgrade-notes), the deploy record (tools/gitops/deploy-record.ts) and prod's
// timing settings (components/prod-window.ts). Pure: the CLI reads the files and posts.
// Every text is scrubbed before anyone sees it: the only address in a message is a server's own,
// and no secret value from the environment survives (scrub()).
import type { Dossier } from "../upgrade-notes/dossier";
import { classifyMove, nextOpening, SOAK_KEY, type TimingSettings, utc, WINDOW_KEY } from "../../components/prod-window";

export type AnnouncementEvent = "planned" | "staging-upgraded" | "prod-upgraded" | "rolled-back" | "upgrade-failed";

export interface Announcement {
  event: AnnouncementEvent;
  title: string;
  /** Markdown that also reads as plain text (Slack-compatible webhooks get it as is). */
  body: string;
}

export interface Servers {
  staging: string;
  prod: string;
}

const install = (v: string) => `\`pip install -U "zenml==${v}"\``;

/** "What changes for you", from the dossier: only what a user of the client or the server notices. */
export function changesForUsers(d: Dossier | undefined, from: string, to: string): string[] {
  if (!d) return [`- The upgrade dossier (${from} -> ${to}) could not be built here; the platform team has it in the upgrade PR.`];
  const lines: string[] = [];
  const m = d.migrations;
  if (m.count === 0) lines.push("- No database migration: the server restarts without changing stored data.");
  else lines.push(`- ${m.count} database migration${m.count === 1 ? "" : "s"}${m.destructive_count > 0 ? ` (${m.destructive_count} that drop or rewrite data; a backup is taken first)` : ""}: the server is unavailable while they run.`);
  if (d.rehearsal.status === "rehearsed" && d.rehearsal.downtime_seconds !== undefined) lines.push(`- The rehearsal of this upgrade measured ${Math.ceil(d.rehearsal.downtime_seconds)} s of API downtime.`);
  const python = d.requirements.requires_python;
  if (python.changed) lines.push(`- Python for the client: \`${python.to ?? "any"}\` (was \`${python.from ?? "any"}\`).`);
  const client = d.requirements.changes.filter((c) => c.group === "base");
  if (client.length > 0) lines.push(`- Packages the client requires that change: ${client.map((c) => `${c.package} ${c.from ?? "(new)"} -> ${c.to ?? "(removed)"}`).join("; ")}.`);
  if (d.skipped_minors.length > 0) lines.push(`- It skips the minor releases ${d.skipped_minors.join(", ")}: their release notes apply too.`);
  lines.push("- Run templates, snapshots and schedules are rebuilt for the new client by the platform after each upgrade.");
  return lines;
}

/** When prod can follow staging: the soak from `stagingAt`, then the next opening of prod's window. */
export function prodEarliest(stagingAt: Date, prod: TimingSettings): { at: Date; rule: string } {
  const soaked = new Date(stagingAt.getTime() + prod.soakHours * 3_600_000);
  const at = prod.window ? nextOpening(prod.window, soaked) : soaked;
  const window = prod.window ? `, inside its ${WINDOW_KEY} ${prod.window.text} UTC` : "";
  return { at, rule: `${prod.soakHours} h of testing on staging first${window}` };
}

export function planned(from: string, to: string, servers: Servers, prod: TimingSettings, dossier: Dossier | undefined, now: Date): Announcement {
  const ifMergedNow = prodEarliest(now, prod);
  return {
    event: "planned",
    title: `ZenML upgrade planned: ${from} -> ${to}`,
    body: [
      `The platform will move our ZenML servers from ${from} to ${to}.`,
      "",
      "What changes for you:",
      ...changesForUsers(dossier, from, to),
      "",
      "When:",
      `- Staging (${servers.staging}): as soon as this change is merged.`,
      `- Testing: please run your pipelines on staging with the new client (${install(to)}, in a separate environment) for at least ${prod.soakHours} h (${SOAK_KEY}).`,
      `- Prod (${servers.prod}): after ${ifMergedNow.rule}; if merged now, no earlier than ${utc(ifMergedNow.at)}.`,
      "",
      `Once prod runs ${to}, upgrade your client: ${install(to)}.`,
    ].join("\n"),
  };
}

export interface DeployFacts {
  stack: "staging" | "prod";
  from: string | null;
  to: string;
  /** Outcome of `pulumi up` in the deploy. */
  up: string;
  /** Checks after up that did not succeed. */
  failedChecks: string[];
  recordedAt: Date;
  secondsDown?: number;
}

/** The announcement a deploy calls for, or undefined when no version moved (nothing for users to do). */
export function afterDeploy(f: DeployFacts, servers: Servers, prod: TimingSettings, dossier: Dossier | undefined): Announcement | undefined {
  const move = classifyMove(f.from, f.to);
  const server = servers[f.stack];
  const red = f.failedChecks.length > 0 ? [`Some checks after the upgrade failed (${f.failedChecks.join(", ")}): the platform team is looking; wait for the all-clear before relying on it.`, ""] : [];
  const downtime = f.secondsDown !== undefined ? [`Measured downtime during the deploy: ${Math.ceil(f.secondsDown)} s.`] : [];
  if (f.up !== "success") {
    if (move !== "upgrade") return undefined;
    return {
      event: "upgrade-failed",
      title: `ZenML ${f.stack} upgrade to ${f.to} did not complete`,
      body: [`The upgrade of ${f.stack} (${server}) from ${f.from} to ${f.to} failed and the platform team is on it. Keep your ${f.from} client until the next announcement.`].join("\n"),
    };
  }
  if (move === "rollback") {
    return {
      event: "rolled-back",
      title: `ZenML ${f.stack} rolled back to ${f.to}`,
      body: [
        `${f.stack === "prod" ? "Prod" : "Staging"} (${server}) runs ZenML ${f.to} again: the ${f.from} upgrade was rolled back to its pre-upgrade backup.`,
        `- Use the ${f.to} client: ${install(f.to)}.`,
        "- Runs and artifacts recorded after the upgrade are not in the restored database: re-run what you ran since then.",
        ...downtime.map((l) => `- ${l}`),
      ].join("\n"),
    };
  }
  if (move !== "upgrade") return undefined;
  if (f.stack === "staging") {
    const prodAt = prodEarliest(f.recordedAt, prod);
    return {
      event: "staging-upgraded",
      title: `ZenML staging upgraded to ${f.to}: please test`,
      body: [
        `Staging (${server}) now runs ZenML ${f.to} (was ${f.from}).`,
        "",
        ...red,
        `Please test your pipelines there with the new client (${install(f.to)}, in a separate environment) and tell the platform team what breaks. Prod (${servers.prod}) follows no earlier than ${utc(prodAt.at)} (${prodAt.rule}).`,
        "",
        "What changes for you:",
        ...changesForUsers(dossier, f.from!, f.to),
        ...(downtime.length ? ["", ...downtime] : []),
      ].join("\n"),
    };
  }
  return {
    event: "prod-upgraded",
    title: `ZenML prod upgraded to ${f.to}: upgrade your client`,
    body: [
      `Prod (${server}) now runs ZenML ${f.to} (was ${f.from}).`,
      "",
      ...red,
      `Upgrade your client now: ${install(f.to)}. A ${f.from} client still connects for a while, with a warning; the platform tracks which clients still run.`,
      ...(downtime.length ? ["", ...downtime] : []),
    ].join("\n"),
  };
}

/** Environment variables whose values must never reach a message, whatever put them there. */
export const SECRET_ENV = ["ANNOUNCE_WEBHOOK_URL", "GH_TOKEN", "GITHUB_TOKEN", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "ZENML_API_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/**
 * The last line of defence: secret values of the environment, any URL but the servers', and
 * AWS or cluster-internal host names are replaced, so no input can leak into a channel.
 */
export function scrub(text: string, servers: Servers, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const name of SECRET_ENV) {
    const value = env[name];
    if (value && value.length >= 6) out = out.split(value).join("[secret removed]");
  }
  const allowed = new Set([servers.staging, servers.prod].map((u) => u.replace(/\/+$/, "")));
  out = out.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)<>"'`]+/gi, (found) => {
    // Sentence punctuation after an address stays outside it.
    const [, url, tail] = /^(.*?)([.,;:]*)$/.exec(found)!;
    return (allowed.has(url.replace(/\/+$/, "")) ? url : "[link removed]") + tail;
  });
  out = out.replace(/\b[\w.-]+\.(amazonaws\.com(\.cn)?|internal|svc\.cluster\.local|compute\.local)\b/gi, "[internal host removed]");
  return out;
}
