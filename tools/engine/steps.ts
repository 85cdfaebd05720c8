// Reading what the engine did: step lists in a line, the stateful resources, and the checks the
// scenarios and the replacement guard share. Pure.
import type { Outcome, Step } from "./world";

/** What losing it would lose: the resources no config edit may replace or delete. */
export const STATEFUL_TYPES: Record<string, string> = {
  "aws:rds/instance:Instance": "database",
  "aws:rds/snapshot:Snapshot": "snapshot",
  "aws:s3/bucket:Bucket": "bucket",
  "aws:ecr/repository:Repository": "registry",
  "aws:kms/key:Key": "KMS key",
  "random:index/randomPassword:RandomPassword": "generated secret",
};

export const isStateful = (type: string) => type in STATEFUL_TYPES;

/** Short type for reading: "aws:rds/instance:Instance" -> "rds.Instance", "kubernetes:batch/v1:Job" -> "Job". */
export function shortType(type: string): string {
  const [pkg, module, kind] = type.split(":");
  if (pkg === "kubernetes" || pkg === "random" || pkg === "pulumi") return kind;
  return `${module.split("/")[0]}.${kind}`;
}

const REPLACE_OPS = new Set(["replace", "create-replacement", "delete-replaced", "discard-replaced"]);

/** The steps that change something, one per resource: the three steps of a replacement count once, as "replace". */
export function effectiveSteps(outcome: Outcome): Step[] {
  const byUrn = new Map<string, Step>();
  for (const step of outcome.steps) {
    if (step.op === "same" || step.op === "read" || step.op === "read-replacement" || step.op === "discard" || step.type === "pulumi:pulumi:Stack" || step.type.startsWith("pulumi:providers:")) continue;
    const op = REPLACE_OPS.has(step.op) ? "replace" : step.op;
    const known = byUrn.get(step.urn);
    if (!known || op === "replace") byUrn.set(step.urn, { ...step, op, started: known?.started ?? step.started, diffs: step.diffs.length > 0 ? step.diffs : (known?.diffs ?? []) });
  }
  return [...byUrn.values()];
}

/** "created 98; updated 2 (Release zenml-server-release, ...); replaced 1 (Job ...)". */
export function summarize(outcome: Outcome, detailUpTo = 6): string {
  const steps = effectiveSteps(outcome);
  const verbs: [string, string][] = [["create", "created"], ["update", "updated"], ["replace", "replaced"], ["delete", "deleted"]];
  const parts: string[] = [];
  for (const [op, verb] of verbs) {
    const of = steps.filter((s) => s.op === op);
    if (of.length === 0) continue;
    const names = of.map((s) => `${shortType(s.type)} ${s.name}${s.retained ? " (retained)" : ""}`);
    parts.push(of.length <= detailUpTo ? `${verb} ${of.length} (${names.join(", ")})` : `${verb} ${of.length}`);
  }
  return parts.length > 0 ? parts.join("; ") : "no changes";
}

/** Every step, one per line, in the order the engine started them: for the report. */
export function stepList(outcome: Outcome): string[] {
  return effectiveSteps(outcome).map((s) => `${s.op} ${shortType(s.type)} ${s.name}${s.diffs.length > 0 ? ` [${s.diffs.join(", ")}]` : ""}${s.retained ? " (retained)" : ""}`);
}

/** Stateful resources this outcome replaces or deletes (a retained delete leaves the cloud resource in place). */
export function statefulLosses(outcome: Outcome): Step[] {
  return effectiveSteps(outcome).filter((s) => isStateful(s.type) && (s.op === "replace" || (s.op === "delete" && !s.retained)));
}

/** The first start and the last finish of the steps matching `match`, in the engine's event order. */
export function span(outcome: Outcome, match: (s: Step) => boolean): { started?: number; finished?: number } {
  const of = outcome.steps.filter(match);
  const started = of.map((s) => s.started);
  const finished = of.map((s) => s.finished).filter((n): n is number => n !== undefined);
  return { started: started.length ? Math.min(...started) : undefined, finished: finished.length ? Math.max(...finished) : undefined };
}

/** The engine's or the program's error, first line of each message. */
export function firstLines(error: string | undefined, lines = 2): string {
  return (error ?? "").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("error: update failed")).slice(0, lines).join(" / ");
}
