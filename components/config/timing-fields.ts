// The keys that time a prod upgrade around its users (tools/gitops's gate, tools/announce): how long
// staging runs a version first, when prod may move, and where the teams are told.
import { z } from "zod";
import { MAX_SOAK_HOURS, explainTimingOverride, explainUpgradeWindow } from "../prod-window";
import { check, int, text } from "./formats";
import type { Field } from "./schema";

/** Where the deploy workflows announce upgrades (tools/announce): this repository's "ZenML upgrades" issue, a given issue or discussion, the webhook secret, or nowhere. */
export const ANNOUNCEMENT_CHANNEL = /^(issue|issue:[1-9]\d*|discussion:[1-9]\d*|webhook|none)$/;

export const TIMING_FIELDS = {
  promotionSoakHours: {
    kind: "integer",
    description:
      "Hours staging must have run a version (green) before prod's gate lets prod take it, so users can test it on staging first (the seeds' 1-2 days of UAT). Unused by staging, which has no source.",
    allowed: `an integer 0..${MAX_SOAK_HOURS}: hours staging must have run a version before prod takes it (the users' test time; staging itself has no source)`,
    schema: int(0, MAX_SOAK_HOURS),
    default: 24,
  },
  upgradeWindow: {
    kind: "string",
    description:
      'Weekly UTC slot "ddd:hh:mm-ddd:hh:mm" (e.g. "sat:02:00-sat:06:00") in which prod\'s gate and deploy let an upgrade start; empty means any time. Rollbacks are never held.',
    allowed: `"" (any time) or a weekly UTC slot "ddd:hh:mm-ddd:hh:mm" of 30+ minutes when prod may upgrade, e.g. "sat:02:00-sat:06:00"`,
    schema: z.string().superRefine(check(explainUpgradeWindow)),
    default: "",
  },
  upgradeTimingOverrideReason: {
    kind: "string",
    description:
      '"<version>: <reason>" lets that one upgrade skip promotionSoakHours and upgradeWindow; the gate reports it and the deploy record keeps it. Leave empty.',
    allowed: `"" or "<version>: <reason of 10+ characters>": that one upgrade may skip the soak and the window`,
    schema: z.string().superRefine(check(explainTimingOverride)),
    default: "",
  },
  announcementChannel: {
    kind: "string",
    description:
      'Where deploys announce upgrades and rollbacks - "issue" (this repository\'s "ZenML upgrades" issue), "issue:<n>", "discussion:<n>", "webhook" (Slack-compatible URL in the ANNOUNCE_WEBHOOK_URL secret) or "none".',
    allowed: `issue (this repository's "ZenML upgrades" issue), issue:<number>, discussion:<number>, webhook (the ANNOUNCE_WEBHOOK_URL secret, Slack-compatible) or none`,
    schema: text(ANNOUNCEMENT_CHANNEL),
    default: "issue",
  },
} satisfies Record<string, Field>;
