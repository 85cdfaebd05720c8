// Pure: compares the desired environments and config files of two stacks that must mirror each
// other, and sorts every difference into allowed (with its reason) or a violation.
import * as semver from "semver";
import type { Plan, PlannedResource } from "../offline/plan";

export interface ConfigAllowance {
  key: string;
  reason: string;
  /** "staging-not-behind-prod": values may differ only while staging is ahead (a rollout in flight). */
  rule?: "staging-not-behind-prod";
}

export interface ResourceAllowance {
  /** Resource type, or "*". */
  type: string;
  /** Logical name glob; default "*". */
  name?: string;
  /** Setting path glob ("*" one segment, "**" any depth); "options.protect" for resource options; absent = the resource may exist in one stack only. */
  path?: string;
  reason: string;
}

export interface AllowList {
  config: ConfigAllowance[];
  resources: ResourceAllowance[];
}

export type DifferenceKind = "config-key-missing" | "config-value" | "version-order" | "resource-missing" | "setting";

export interface Difference {
  kind: DifferenceKind;
  /** Config key, or "<type> <name>" of a resource. */
  where: string;
  /** Setting path within the resource, for settings. */
  path?: string;
  left?: unknown;
  right?: unknown;
  allowed: boolean;
  /** Reason from the allow list when allowed; what to do when not. */
  note: string;
}

export interface Side {
  stack: string;
  file: string;
  config: Record<string, string>;
  plan: Plan;
}

const MISSING = Symbol("missing");

function globToRegExp(glob: string): RegExp {
  const escape = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  const pattern = glob
    .split("**")
    .map((part) => part.split("*").map(escape).join("[^.]*"))
    .join(".*");
  return new RegExp(`^${pattern}$`);
}

const matches = (glob: string | undefined, value: string) => glob === undefined || globToRegExp(glob).test(value);

/** Stack names inside values ("zenml-staging", "/aws/.../zenml-prod/...") are expected to differ. */
export function normalise(value: unknown, stack: string): unknown {
  return typeof value === "string" ? value.replace(new RegExp(`(?<![A-Za-z0-9])${stack}(?![A-Za-z0-9])`, "g"), "<stack>") : value;
}

function segment(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : `[${JSON.stringify(key)}]`;
}

function join(prefix: string, key: string): string {
  const seg = segment(key);
  return prefix === "" || prefix.endsWith("#") ? `${prefix}${seg}` : seg.startsWith("[") ? `${prefix}${seg}` : `${prefix}.${seg}`;
}

/** Leaf values by path; JSON documents held in strings (IAM and lifecycle policies) are opened as `key#path`. */
export function flatten(value: unknown, prefix = "", out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (Array.isArray(value)) value.forEach((v, i) => flatten(v, join(prefix, String(i)), out));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) flatten(v, join(prefix, k), out);
  else if (typeof value === "string" && /^\s*[{[]/.test(value)) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed !== null && typeof parsed === "object") {
        flatten(parsed, `${prefix}#`, out);
        return out;
      }
    } catch {
      // not JSON: compare as text
    }
    out.set(prefix, value);
  } else out.set(prefix, value);
  return out;
}

function resourceKey(r: PlannedResource): string {
  return `${r.type} ${r.name}`;
}

function allowedResource(allow: AllowList, r: { type: string; name: string }, path: string | undefined): ResourceAllowance | undefined {
  return allow.resources.find((a) => (a.type === "*" || a.type === r.type) && matches(a.name ?? "*", r.name) && (path === undefined ? a.path === undefined : a.path !== undefined && matches(a.path, path)));
}

function show(value: unknown): string {
  return value === MISSING ? "(unset)" : JSON.stringify(value);
}

export function compareStacks(left: Side, right: Side, allow: AllowList): Difference[] {
  const diffs: Difference[] = [];
  const files = `${left.file} or ${right.file}`;

  // Config, key by key.
  const keys = [...new Set([...Object.keys(left.config), ...Object.keys(right.config)])].sort();
  for (const key of keys) {
    const a = left.config[key];
    const b = right.config[key];
    if (a === undefined || b === undefined) {
      const missingIn = a === undefined ? left : right;
      diffs.push({ kind: "config-key-missing", where: key, left: a, right: b, allowed: false, note: `set ${key} in ${missingIn.file} too (even to its default): both files must list the same keys` });
      continue;
    }
    if (normalise(a, left.stack) === normalise(b, right.stack)) continue;
    const rule = allow.config.find((c) => c.key === key);
    if (!rule) {
      diffs.push({ kind: "config-value", where: key, left: a, right: b, allowed: false, note: `make ${key} equal in ${files}, or declare the difference with a reason in mirror.allow.yaml` });
    } else if (rule.rule === "staging-not-behind-prod") {
      const ok = semver.valid(a) && semver.valid(b) && semver.gt(a, b);
      diffs.push({
        kind: "version-order",
        where: key,
        left: a,
        right: b,
        allowed: Boolean(ok),
        note: ok ? rule.reason : `${right.stack} (${b}) must never be ahead of ${left.stack} (${a}): upgrade ${left.file} first, or set ${right.file} back`,
      });
    } else {
      diffs.push({ kind: "config-value", where: key, left: a, right: b, allowed: true, note: rule.reason });
    }
  }

  // Resources, matched by type and logical name.
  const byKey = (p: Plan) => new Map(p.resources.map((r) => [resourceKey(r), r]));
  const leftResources = byKey(left.plan);
  const rightResources = byKey(right.plan);
  for (const key of [...new Set([...leftResources.keys(), ...rightResources.keys()])].sort()) {
    const a = leftResources.get(key);
    const b = rightResources.get(key);
    if (!a || !b) {
      const present = (a ?? b)!;
      const rule = allowedResource(allow, present, undefined);
      const only = a ? left.stack : right.stack;
      diffs.push({ kind: "resource-missing", where: key, allowed: Boolean(rule), note: rule ? rule.reason : `exists only in ${only}: the stacks' config differs in a way that adds or removes it; align ${files}` });
      continue;
    }
    const settings = (r: PlannedResource, stack: string) => {
      const flat = flatten(r.inputs);
      flat.set("options.protect", r.options.protect);
      flat.set("options.retainOnDelete", r.options.retainOnDelete);
      return new Map([...flat].map(([k, v]) => [k, normalise(v, stack)]));
    };
    const sa = settings(a, left.stack);
    const sb = settings(b, right.stack);
    for (const path of [...new Set([...sa.keys(), ...sb.keys()])].sort()) {
      const va = sa.has(path) ? sa.get(path) : MISSING;
      const vb = sb.has(path) ? sb.get(path) : MISSING;
      if (va === vb) continue;
      const rule = allowedResource(allow, a, path);
      diffs.push({
        kind: "setting",
        where: key,
        path,
        left: va === MISSING ? undefined : va,
        right: vb === MISSING ? undefined : vb,
        allowed: Boolean(rule),
        note: rule ? rule.reason : `${left.stack} ${show(va)} vs ${right.stack} ${show(vb)}: comes from config; align ${files}, or declare it in mirror.allow.yaml`,
      });
    }
  }
  return diffs;
}

export function renderReport(left: Side, right: Side, diffs: Difference[]): string {
  const violations = diffs.filter((d) => !d.allowed);
  const allowed = diffs.filter((d) => d.allowed);
  const lines = [`mirror-check: ${left.stack} vs ${right.stack} — ${violations.length} violation(s), ${allowed.length} allowed difference(s)`];
  const where = (d: Difference) => (d.path ? `${d.where} :: ${d.path}` : d.where);
  const fail = (d: Difference) => {
    const values = d.kind === "setting" || d.kind === "config-value" || d.kind === "version-order" ? ` (${left.stack}: ${show(d.left ?? MISSING)}, ${right.stack}: ${show(d.right ?? MISSING)})` : "";
    return `  FAIL [${d.kind}] ${where(d)}${values}\n       -> ${d.note}`;
  };
  if (violations.length > 0) lines.push("", "Violations:", ...violations.map(fail));
  if (allowed.length > 0) lines.push("", "Allowed differences (mirror.allow.yaml):", ...allowed.map((d) => `  ok   ${where(d)} — ${d.note}`));
  return lines.join("\n") + "\n";
}
