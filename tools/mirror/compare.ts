// Pure: compares the desired environments and config files of two stacks that must mirror each
// other, and sorts every difference into allowed (with its reason) or a violation.
import * as semver from "semver";
import { compareDotted } from "../../components/version-policy";
import type { Plan, PlannedResource } from "../offline/plan-result";

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

export type DifferenceKind = "config-key-missing" | "config-value" | "version-order" | "resource-missing" | "setting" | "cross-stack";

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
  /** Files to edit to resolve a violation (a stack file, mirror.allow.yaml, or the component that creates the resource). */
  edit?: string[];
  /** The allow-list entry that allows it, as "config[i]" or "resources[i]". */
  allowedBy?: string;
}

export interface CompareOptions {
  /** Component type token -> the file defining it, to say where code-made differences come from. */
  componentFiles?: Record<string, string>;
  /** How to name the allow list in notes; default mirror.allow.yaml. */
  allowFile?: string;
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

function allowedResource(allow: AllowList, r: { type: string; name: string }, path: string | undefined): { rule: ResourceAllowance; id: string } | undefined {
  const i = allow.resources.findIndex((a) => (a.type === "*" || a.type === r.type) && matches(a.name ?? "*", r.name) && (path === undefined ? a.path === undefined : a.path !== undefined && matches(a.path, path)));
  return i < 0 ? undefined : { rule: allow.resources[i], id: `resources[${i}]` };
}

/** The type token of the last segment of a URN's qualified type ("a$b$c" -> "c"). */
function typeOfUrn(urn: string): string | undefined {
  const qualified = urn.split("::")[2];
  return qualified?.split("$").pop();
}

/** "type::name" of a URN, the stack and parent chain left out, so both stacks' URNs compare. */
function shortUrn(urn: string): string {
  const parts = urn.split("::");
  return `${typeOfUrn(urn) ?? "?"}::${parts.slice(3).join("::")}`;
}

/** The component (our own type token) that creates a resource: itself, or its parent. */
function ownerOf(r: PlannedResource): string | undefined {
  if (!r.custom && r.type.includes(":index:")) return r.type;
  return r.parent ? typeOfUrn(r.parent) : undefined;
}

function show(value: unknown): string {
  return value === MISSING ? "(unset)" : JSON.stringify(value);
}

export function compareStacks(left: Side, right: Side, allow: AllowList, options: CompareOptions = {}): Difference[] {
  const diffs: Difference[] = [];
  const allowFile = options.allowFile ?? "mirror.allow.yaml";
  const files = `${left.file} or ${right.file}`;
  const both = [left.file, right.file];

  // Config, key by key.
  const keys = [...new Set([...Object.keys(left.config), ...Object.keys(right.config)])].sort();
  for (const key of keys) {
    const a = left.config[key];
    const b = right.config[key];
    if (a === undefined || b === undefined) {
      const missingIn = a === undefined ? left : right;
      diffs.push({ kind: "config-key-missing", where: key, left: a, right: b, allowed: false, note: `set ${key} in ${missingIn.file} too (even to its default): both files must list the same keys`, edit: [missingIn.file] });
      continue;
    }
    if (normalise(a, left.stack) === normalise(b, right.stack)) continue;
    const i = allow.config.findIndex((c) => c.key === key);
    const rule = allow.config[i];
    if (!rule) {
      diffs.push({ kind: "config-value", where: key, left: a, right: b, allowed: false, note: `make ${key} equal in ${files}, or declare the difference with a reason in ${allowFile}`, edit: [...both, allowFile] });
    } else if (rule.rule === "staging-not-behind-prod") {
      // Every versioned part: ZenML X.Y.Z, Kubernetes 1.NN, MySQL 8.N.
      const exact = (v: string) => semver.valid(v) !== null || /^\d+\.\d+$/.test(v);
      const ok = exact(a) && exact(b) && compareDotted(a, b) > 0;
      const invalid = [a, b].filter((v) => !exact(v));
      diffs.push({
        kind: "version-order",
        where: key,
        left: a,
        right: b,
        allowed: Boolean(ok),
        note: ok
          ? rule.reason
          : invalid.length > 0
            ? `${invalid.map((v) => JSON.stringify(v)).join(" and ")} is not an exact version (X.Y.Z, or N.N for Kubernetes and MySQL), so the order cannot be checked: pin exact versions in ${files}`
            : `${right.stack} (${b}) must never be ahead of ${left.stack} (${a}): upgrade ${left.file} first, or set ${right.file} back`,
        ...(ok ? { allowedBy: `config[${i}]` } : { edit: both }),
      });
    } else {
      diffs.push({ kind: "config-value", where: key, left: a, right: b, allowed: true, note: rule.reason, allowedBy: `config[${i}]` });
    }
  }
  // Config differences nobody allowed are the likeliest cause of resource differences below.
  const strayKeys = diffs.filter((d) => !d.allowed && d.kind !== "version-order").map((d) => d.where);

  const componentOf = (r: PlannedResource) => {
    const owner = ownerOf(r);
    return owner ? options.componentFiles?.[owner] : undefined;
  };
  const explain = (r: PlannedResource, what: string): { note: string; edit: string[] } => {
    const component = componentOf(r);
    if (strayKeys.length > 0) {
      return { note: `${what}; it follows from config that differs without an allowance (${strayKeys.join(", ")}): align ${files}`, edit: both };
    }
    const code = component ? `, or make ${component} treat both stacks alike` : "";
    return { note: `${what}; no unallowed config difference explains it: declare it with a reason in ${allowFile} (type ${r.type}, path) if it follows from an allowed key${code}`, edit: [allowFile, ...(component ? [component] : [])] };
  };

  // Resources, matched by type and logical name.
  const byKey = (p: Plan) => new Map(p.resources.map((r) => [resourceKey(r), r]));
  const leftResources = byKey(left.plan);
  const rightResources = byKey(right.plan);
  for (const key of [...new Set([...leftResources.keys(), ...rightResources.keys()])].sort()) {
    const a = leftResources.get(key);
    const b = rightResources.get(key);
    if (!a || !b) {
      const present = (a ?? b)!;
      const hit = allowedResource(allow, present, undefined);
      const only = a ? left.stack : right.stack;
      diffs.push(
        hit
          ? { kind: "resource-missing", where: key, allowed: true, note: hit.rule.reason, allowedBy: hit.id }
          : { kind: "resource-missing", where: key, allowed: false, ...explain(present, `exists only in ${only}`) },
      );
      continue;
    }
    const settings = (r: PlannedResource, stack: string) => {
      const flat = flatten(r.inputs);
      flat.set("options.protect", r.options.protect);
      flat.set("options.retainOnDelete", r.options.retainOnDelete);
      flat.set("options.parent", r.parent ? shortUrn(r.parent) : null);
      for (const dep of r.options.dependsOn) flat.set(`options.dependsOn[${JSON.stringify(shortUrn(dep))}]`, true);
      for (const alias of r.options.aliases ?? []) flat.set(`options.aliases[${JSON.stringify(shortUrn(alias))}]`, true);
      return new Map([...flat].map(([k, v]) => [k, normalise(v, stack)]));
    };
    const sa = settings(a, left.stack);
    const sb = settings(b, right.stack);
    for (const path of [...new Set([...sa.keys(), ...sb.keys()])].sort()) {
      const va = sa.has(path) ? sa.get(path) : MISSING;
      const vb = sb.has(path) ? sb.get(path) : MISSING;
      if (va === vb) continue;
      const hit = allowedResource(allow, a, path);
      diffs.push(
        hit
          ? { kind: "setting", where: key, path, left: va === MISSING ? undefined : va, right: vb === MISSING ? undefined : vb, allowed: true, note: hit.rule.reason, allowedBy: hit.id }
          : { kind: "setting", where: key, path, left: va === MISSING ? undefined : va, right: vb === MISSING ? undefined : vb, allowed: false, ...explain(a, `${left.stack} ${show(va)} vs ${right.stack} ${show(vb)}`) },
      );
    }
  }
  return diffs;
}

/** Allow-list entries no difference used: stale, or for a state this comparison does not produce. */
export function unusedAllowances(allow: AllowList, diffs: Difference[]): string[] {
  const used = new Set(diffs.map((d) => d.allowedBy).filter(Boolean));
  return [
    ...allow.config.map((c, i) => [`config[${i}]`, `config ${c.key}`] as const),
    ...allow.resources.map((r, i) => [`resources[${i}]`, `${r.type}${r.name ? ` ${r.name}` : ""}${r.path ? ` :: ${r.path}` : " (in one stack only)"}`] as const),
  ]
    .filter(([id]) => !used.has(id))
    .map(([, label]) => label);
}

export function renderReport(left: Side, right: Side, diffs: Difference[], unused: string[] = []): string {
  const violations = diffs.filter((d) => !d.allowed);
  const allowed = diffs.filter((d) => d.allowed);
  const lines = [`mirror-check: ${left.stack} vs ${right.stack} — ${violations.length} violation(s), ${allowed.length} allowed difference(s)`];
  const where = (d: Difference) => (d.path ? `${d.where} :: ${d.path}` : d.where);
  const fail = (d: Difference) => {
    const values = d.kind === "config-value" || d.kind === "version-order" ? ` (${left.stack}: ${show(d.left ?? MISSING)}, ${right.stack}: ${show(d.right ?? MISSING)})` : "";
    const edit = d.edit?.length ? `\n       edit: ${d.edit.join(", ")}` : "";
    return `  FAIL [${d.kind}] ${where(d)}${values}\n       -> ${d.note}${edit}`;
  };
  if (violations.length > 0) lines.push("", "Violations:", ...violations.map(fail));
  if (allowed.length > 0) lines.push("", "Allowed differences (mirror.allow.yaml):", ...allowed.map((d) => `  ok   ${where(d)} — ${d.note}`));
  if (unused.length > 0) lines.push("", "Allowances this comparison did not need (stale, or for an upgrade or rollback in flight):", ...unused.map((u) => `  -    ${u}`));
  return lines.join("\n") + "\n";
}
