// The keys of the work before a ZenML upgrade moves the server (components/pre-upgrade/) and of the
// migration's time limit (the Helm release's timeout, prod's gate: tools/gitops/migration-gate.ts).
import { z } from "zod";
import { DEFAULT_MAX_MIGRATION_MINUTES } from "../prod-window";
import { int } from "./formats";
import type { Field } from "./schema";

/** "" or a reason an operator can act on: an override is recorded with the upgrade it let through. */
const reason = z.string().refine((v) => v === "" || v.trim().length >= 10);

export const PRE_UPGRADE_FIELDS = {
  upgradeDrainMinutes: {
    kind: "integer",
    description:
      "Minutes a ZenML upgrade waits for pipeline runs in progress (and schedules about to fire) to finish before the snapshot and the Helm release; still busy then, the upgrade is refused.",
    allowed: "an integer 0..240 (0: refuse at once while a run is in progress)",
    schema: int(0, 240),
    default: 30,
  },
  upgradeDrainOverrideReason: {
    kind: "string",
    description:
      "Emergency only: upgrade although runs are still in progress when upgradeDrainMinutes is over (they break); the reason is recorded in the drain report and the stack outputs. Leave empty.",
    allowed: `"" or a reason (10+ characters) recorded with the upgrade`,
    schema: reason,
    default: "",
  },
  restoreTestBeforeUpgrade: {
    kind: "boolean",
    description:
      "Before a ZenML upgrade moves the server, restore its pre-upgrade snapshot into a short-lived instance, check it against the inventory, delete it (staging always).",
    allowed: "true or false (staging: true)",
    schema: z.boolean(),
    default: true,
  },
  maxMigrationMinutes: {
    kind: "integer",
    description:
      "Longest database migration the stack accepts: prod's gate refuses an upgrade whose migration, timed on a copy of prod's latest snapshot, took longer; the Helm release allows this plus 10 minutes.",
    allowed: "an integer 1..240 (minutes)",
    schema: int(1, 240),
    default: DEFAULT_MAX_MIGRATION_MINUTES,
  },
  migrationTimeOverrideReason: {
    kind: "string",
    description:
      "Emergency only: let prod's gate pass an upgrade whose timed migration is longer than maxMigrationMinutes or was not timed; the gate reports the reason. Leave empty.",
    allowed: `"" or a reason (10+ characters) the gate reports`,
    schema: reason,
    default: "",
  },
} satisfies Record<string, Field>;
