// Where an announcement goes (announcementChannel): a comment on this repository's "ZenML upgrades"
// issue (opened once, by title), on a given issue or discussion (through gh, with the job's
// GITHUB_TOKEN), or a Slack-compatible incoming webhook whose URL is the ANNOUNCE_WEBHOOK_URL secret.
import { execFileSync } from "node:child_process";
import type { Announcement } from "./text";

export const UPGRADES_ISSUE_TITLE = "ZenML upgrades";

export type Channel = { kind: "none" } | { kind: "issue"; number?: number } | { kind: "discussion"; number: number } | { kind: "webhook" };

export function parseChannel(text: string): Channel {
  const m = /^(issue|discussion)(?::([1-9]\d*))?$/.exec(text);
  if (text === "none") return { kind: "none" };
  if (text === "webhook") return { kind: "webhook" };
  if (m && m[1] === "issue") return m[2] ? { kind: "issue", number: Number(m[2]) } : { kind: "issue" };
  if (m && m[2]) return { kind: "discussion", number: Number(m[2]) };
  throw new Error(`announcementChannel "${text}" is not issue, issue:<n>, discussion:<n>, webhook or none`);
}

export const describeChannel = (c: Channel): string =>
  c.kind === "none" ? "nowhere (announcementChannel: none)" : c.kind === "webhook" ? "the ANNOUNCE_WEBHOOK_URL webhook" : c.kind === "discussion" ? `discussion #${c.number}` : c.number ? `issue #${c.number}` : `the "${UPGRADES_ISSUE_TITLE}" issue`;

/** The comment text: title as a heading, then the body. */
export const markdownOf = (a: Announcement): string => `### ${a.title}\n\n${a.body}\n`;

export interface PostEnv {
  env: NodeJS.ProcessEnv;
  /** gh with its arguments; the real one runs the gh CLI. */
  gh?: (args: string[], input?: string) => string;
  fetch?: typeof fetch;
}

const realGh = (env: NodeJS.ProcessEnv) => (args: string[], input?: string) => execFileSync("gh", args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"], env });

function upgradesIssue(gh: (args: string[], input?: string) => string): number {
  const found = JSON.parse(gh(["issue", "list", "--state", "open", "--search", `${UPGRADES_ISSUE_TITLE} in:title`, "--json", "number,title", "--limit", "50"])) as { number: number; title: string }[];
  const open = found.filter((i) => i.title === UPGRADES_ISSUE_TITLE).sort((a, b) => a.number - b.number)[0];
  if (open) return open.number;
  const url = gh(["issue", "create", "--title", UPGRADES_ISSUE_TITLE, "--body", "Announcements of ZenML server upgrades and rollbacks on this platform, posted by the deploy workflows. Subscribe to be told."]).trim();
  const number = Number(/\/issues\/(\d+)$/.exec(url)?.[1]);
  if (!number) throw new Error(`gh issue create answered "${url.slice(0, 80)}", not an issue URL`);
  return number;
}

/** Posts; returns where it went, in words. Errors never carry the webhook's URL. */
export async function post(channel: Channel, a: Announcement, p: PostEnv): Promise<string> {
  const gh = p.gh ?? realGh(p.env);
  const text = markdownOf(a);
  switch (channel.kind) {
    case "none":
      return describeChannel(channel);
    case "issue": {
      const number = channel.number ?? upgradesIssue(gh);
      gh(["issue", "comment", String(number), "--body-file", "-"], text);
      return `issue #${number}`;
    }
    case "discussion": {
      const [owner, name] = (p.env.GITHUB_REPOSITORY ?? "").split("/");
      if (!owner || !name) throw new Error("GITHUB_REPOSITORY (owner/name) is not set: which repository's discussion?");
      const found = JSON.parse(gh(["api", "graphql", "-f", "query=query($owner:String!,$name:String!,$n:Int!){repository(owner:$owner,name:$name){discussion(number:$n){id}}}", "-f", `owner=${owner}`, "-f", `name=${name}`, "-F", `n=${channel.number}`])) as { data?: { repository?: { discussion?: { id: string } | null } } };
      const id = found.data?.repository?.discussion?.id;
      if (!id) throw new Error(`discussion #${channel.number} not found in ${owner}/${name}`);
      gh(["api", "graphql", "-f", "query=mutation($id:ID!,$body:String!){addDiscussionComment(input:{discussionId:$id,body:$body}){comment{id}}}", "-f", `id=${id}`, "-f", `body=${text}`]);
      return `discussion #${channel.number}`;
    }
    case "webhook": {
      const url = p.env.ANNOUNCE_WEBHOOK_URL;
      if (!url) throw new Error("announcementChannel is webhook but the ANNOUNCE_WEBHOOK_URL secret is not set in this step");
      let status: number;
      try {
        // Slack's incoming webhooks (and Mattermost's, Rocket.Chat's, Teams' Slack-compatible ones) take {"text": ...}.
        status = (await (p.fetch ?? fetch)(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `*${a.title}*\n\n${a.body}` }), signal: AbortSignal.timeout(20_000) })).status;
      } catch (err) {
        throw new Error(`the webhook could not be reached (${(err as Error).name})`);
      }
      if (status < 200 || status >= 300) throw new Error(`the webhook answered HTTP ${status}`);
      return describeChannel(channel);
    }
  }
}
