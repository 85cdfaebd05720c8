// The upgrade dossier: what moving ZenML from one release to another does to the database, read
// from the two releases' own wheels (migrations via migrations.py, requirements from METADATA),
// plus the rehearsal's timing for exactly that pair when one was measured.
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { explainBadPin, skippedMinors } from "../../components/version-policy";

export class DossierError extends Error {
  /** 2: the request itself is wrong (unknown version, downgrade, bad flag); 1: could not build it. */
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

export interface Operation { op: string; target: string; line: number; destructive: boolean; reason: string | null }
export interface Revision {
  revision: string;
  down_revisions: string[];
  depends_on: string[];
  title: string;
  file: string;
  destructive: boolean;
  reasons: string[];
  operations: Operation[];
  notes: string[];
}
export interface WheelMetadata { name: string | null; version: string | null; requires_python: string | null; requires_dist: string[]; provides_extra: string[] }
export interface WheelAnalysis { revisions: Revision[]; errors: { file: string; error: string }[]; migrations_found?: boolean; metadata?: WheelMetadata }

export interface RequirementChange { package: string; group: string; change: "added" | "removed" | "changed"; from: string | null; to: string | null }
export interface RehearsalTiming {
  status: "rehearsed" | "other-pair" | "none";
  report: string;
  from_version?: string;
  to_version?: string;
  ok?: boolean;
  migration_seconds?: number;
  downtime_seconds?: number;
  total_seconds?: number;
  database?: string;
  /** alembic_version the rehearsed database ended at, when the report says. */
  alembic_version_after?: string;
}
export interface Dossier {
  from: string;
  to: string;
  skipped_minors: string[];
  releases_crossed: string[];
  migrations: { count: number; destructive_count: number; revisions: Omit<Revision, "operations" | "depends_on">[] };
  requirements: { requires_python: { from: string | null; to: string | null; changed: boolean }; changes: RequirementChange[]; mysql: { drivers: string[]; version_dependent_migrations: string[] } };
  rehearsal: RehearsalTiming;
  warnings: string[];
}

export interface DossierOptions {
  /** Where wheels are cached; default this checkout's `.cache/wheels` (env UPGRADE_NOTES_WHEELS). */
  wheelsDir?: string;
  /** Default `<projectDir>/.cache/rehearsal/report.json`. */
  rehearsalReport?: string;
}

const HELPER = path.join(__dirname, "migrations.py");
// A tool cache: shared by every --dir this checkout's tools are pointed at.
const WHEELS_DIR = path.resolve(__dirname, "..", "..", ".cache", "wheels");
const python = () => process.env.PYTHON ?? "python3";
const MYSQL_DRIVERS = new Set(["pymysql", "mysqlclient", "mysql-connector-python", "aiomysql", "asyncmy", "mariadb"]);

/** Checks both versions before anything is downloaded; exit-2 errors for bad requests. */
export function checkRequest(from: string | undefined, to: string | undefined): { from: string; to: string } {
  const problems: string[] = [];
  if (from === undefined) problems.push("--from is required (X.Y.Z)");
  if (to === undefined) problems.push("--to is required (X.Y.Z)");
  const bad = (flag: string, v?: string) => {
    const why = v === undefined ? undefined : explainBadPin(v);
    if (why) problems.push(`${flag} ${why}`);
  };
  bad("--from", from);
  bad("--to", to);
  if (problems.length > 0) throw new DossierError(problems.join("\n"), 2);
  if (semver.lt(to!, from!)) throw new DossierError(`refusing ${from} -> ${to}: that is a downgrade, and ZenML cannot downgrade a migrated database (roll back from the snapshot instead)`, 2);
  return { from: from!, to: to! };
}

function cachedWheel(dir: string, version: string): string | undefined {
  const name = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.startsWith(`zenml-${version}-`) && f.endsWith(".whl")) : undefined;
  return name && path.join(dir, name);
}

/** The index cannot be reached: trying the other version would only wait for another timeout. */
class OfflineError extends DossierError {}

const OFFLINE = /NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Max retries exceeded|ConnectionError|ProxyError|Network is unreachable|timed out|Could not fetch URL/i;

/** The release's wheel, from the cache or downloaded once with pip (no dependencies). */
export function fetchWheel(version: string, dir: string): string {
  const cached = cachedWheel(dir, version);
  if (cached) return cached;
  fs.mkdirSync(dir, { recursive: true });
  // pip writes into a private directory; only a complete wheel is moved into the cache.
  const downloadDir = fs.mkdtempSync(path.join(dir, `.download-${version}-`));
  try {
    const pip = spawnSync(
      python(),
      ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--ignore-requires-python", "--disable-pip-version-check", "--retries", "1", "--timeout", "20", "--dest", downloadDir, `zenml==${version}`],
      { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
    );
    if (pip.error) throw new DossierError(`cannot run ${python()} -m pip: ${pip.error.message}`, 1);
    const output = `${pip.stdout}\n${pip.stderr}`;
    const downloaded = cachedWheel(downloadDir, version);
    if (pip.status === 0 && downloaded) {
      const target = path.join(dir, path.basename(downloaded));
      fs.renameSync(downloaded, target);
      return target;
    }
    const listed = /from versions: ([^)]*)\)/.exec(output)?.[1].trim();
    const known = listed && listed !== "none" ? listed.split(/,\s*/).filter((v) => semver.valid(v) === v && !semver.prerelease(v)) : [];
    if (known.length > 0) {
      const latest = known.sort(semver.compare).at(-1);
      throw new DossierError(`zenml ${version} is not a release on the package index (latest final release: ${latest})`, 2);
    }
    if (OFFLINE.test(output)) throw new OfflineError(`cannot download zenml ${version}: the package index is unreachable (offline?); cached wheels live in ${dir}`, 1);
    if (/No matching distribution found/.test(output)) throw new DossierError(`zenml ${version} is not a release on the package index`, 2);
    throw new DossierError(`pip could not download zenml ${version}: ${output.trim().split("\n").filter(Boolean).at(-1) ?? `exit ${pip.status}`}`, 1);
  } finally {
    fs.rmSync(downloadDir, { recursive: true, force: true });
  }
}

function runHelper(mode: "wheels" | "dir", targets: string[]): unknown {
  const run = spawnSync(python(), [HELPER, mode, ...targets], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (run.error || run.status !== 0) throw new DossierError(`cannot read the migrations of ${targets.join(" and ")}: ${run.error?.message ?? run.stderr.trim().split("\n").at(-1)}`, 1);
  return JSON.parse(run.stdout);
}

/** Classifies loose migration files (the wheel's versions directory, or files a test wrote). */
export function analyseMigrationDir(dir: string): WheelAnalysis {
  return runHelper("dir", [dir]) as WheelAnalysis;
}

function readCachedAnalysis(file: string): WheelAnalysis | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as WheelAnalysis;
  } catch {
    return undefined; // not there yet, or cut short: read the wheel again
  }
}

let helperDigest: string | undefined;
/** What an analysis depends on: the wheel's bytes and the classifier's source. */
function analysisKey(wheel: string): string {
  helperDigest ??= crypto.createHash("sha256").update(fs.readFileSync(HELPER)).digest("hex");
  return crypto.createHash("sha256").update(`${helperDigest}\0`).update(fs.readFileSync(wheel)).digest("hex");
}

/**
 * Each wheel's migrations and metadata. A release's wheel never changes, so its analysis is kept
 * next to it (`.analysis/`, by content) and every later dossier of that release reads it back;
 * the wheels not seen yet are read by one run of the helper.
 */
export function analyseWheels(wheels: string[]): WheelAnalysis[] {
  const cacheFiles = wheels.map((w) => path.join(path.dirname(w), ".analysis", `${analysisKey(w)}.json`));
  const results = cacheFiles.map(readCachedAnalysis);
  const missing = wheels.filter((_, i) => results[i] === undefined);
  if (missing.length === 0) return results as WheelAnalysis[];
  const fresh = runHelper("wheels", missing) as WheelAnalysis[];
  for (const [i, f] of cacheFiles.entries()) {
    if (results[i] !== undefined) continue;
    results[i] = fresh.shift()!;
    try {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      const partial = `${f}.${process.pid}.tmp`;
      fs.writeFileSync(partial, JSON.stringify(results[i]));
      fs.renameSync(partial, f);
    } catch {
      // A wheel directory we cannot write to (a shared fixture) only means the next dossier reads the wheel again.
    }
  }
  return results as WheelAnalysis[];
}

type Graph = Map<string, Revision>;
const parentsOf = (r: Revision) => [...r.down_revisions, ...r.depends_on];

function ancestors(graph: Graph, starts: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const revision = graph.get(id);
    if (revision) stack.push(...parentsOf(revision));
  }
  return seen;
}

export function heads(revisions: Revision[]): string[] {
  const parents = new Set(revisions.flatMap((r) => r.down_revisions));
  return revisions.filter((r) => !parents.has(r.revision)).map((r) => r.revision);
}

/**
 * Revisions the upgrade applies: ancestors of the new release's heads that the old release's
 * heads do not already include, parents before children (merge revisions after all their parents).
 */
export function revisionsBetween(fromRevisions: Revision[], toRevisions: Revision[]): { revisions: Revision[]; warnings: string[] } {
  const graph: Graph = new Map(toRevisions.map((r) => [r.revision, r]));
  const warnings: string[] = [];
  const fromHeads = heads(fromRevisions);
  const toHeads = heads(toRevisions);
  if (toHeads.length > 1) warnings.push(`the new release has ${toHeads.length} migration heads (${toHeads.join(", ")}): alembic needs them merged`);
  const unknown = fromHeads.filter((h) => !graph.has(h));
  if (unknown.length > 0) warnings.push(`the old release's migration head ${unknown.join(", ")} is not in the new release's history: this is not a supported upgrade path`);
  const missing = toRevisions.flatMap((r) => parentsOf(r).filter((p) => !graph.has(p)).map((p) => `${r.revision} revises ${p}, which the wheel does not contain`));
  warnings.push(...missing);
  const done = ancestors(graph, fromHeads.filter((h) => graph.has(h)));
  const wanted = ancestors(graph, toHeads);
  const pending = toRevisions.filter((r) => wanted.has(r.revision) && !done.has(r.revision));
  const order: Revision[] = [];
  const placed = new Set(done);
  // Kahn's algorithm; revisions ready together (sibling branches) in id order, so output is stable.
  while (order.length < pending.length) {
    const ready = pending
      .filter((r) => !placed.has(r.revision) && parentsOf(r).every((p) => placed.has(p) || !graph.has(p)))
      .sort((x, y) => (x.revision < y.revision ? -1 : x.revision > y.revision ? 1 : 0));
    if (ready.length === 0) {
      warnings.push(`the migration graph has a cycle among ${pending.filter((r) => !placed.has(r.revision)).map((r) => r.revision).join(", ")}`);
      break;
    }
    for (const r of ready) {
      order.push(r);
      placed.add(r.revision);
    }
  }
  return { revisions: order, warnings };
}

interface Requirement { name: string; spec: string; extra: string | null; selfExtras: string[] }

function parseRequirement(line: string): Requirement {
  const [req, marker = ""] = line.split(";", 2).map((s) => s.trim());
  const name = /^[A-Za-z0-9._-]+/.exec(req)?.[0] ?? req;
  const extras = /^[A-Za-z0-9._-]+\s*\[([^\]]*)\]/.exec(req)?.[1] ?? "";
  const extra = /extra\s*==\s*["']([^"']+)["']/.exec(marker)?.[1] ?? null;
  const otherMarker = marker.replace(/\s*(and\s+)?extra\s*==\s*["'][^"']+["']\s*(and\s+)?/, " ").trim();
  const spec = req.slice(name.length).trim() + (otherMarker ? ` ; ${otherMarker}` : "");
  return { name: name.toLowerCase().replace(/[-_.]+/g, "-"), spec: spec || "(any version)", extra, selfExtras: extras.split(",").map((s) => s.trim()).filter(Boolean) };
}

/** What `pip install zenml[server]` asks for: base requirements plus the server extra, following zenml[...] self-references. */
export function serverRequirements(meta: WheelMetadata | undefined): Map<string, { spec: string; group: string }> {
  const reqs = (meta?.requires_dist ?? []).map(parseRequirement);
  const extras = new Set<string>(["server"]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of reqs) {
      if (r.name === "zenml" && r.extra && extras.has(r.extra)) {
        for (const e of r.selfExtras) {
          if (extras.has(e)) continue;
          extras.add(e);
          grew = true;
        }
      }
    }
  }
  const out = new Map<string, { spec: string; group: string }>();
  for (const r of reqs) {
    if (r.name === "zenml" || (r.extra !== null && !extras.has(r.extra))) continue;
    const group = r.extra === null ? "base" : `extra ${r.extra}`;
    const prev = out.get(r.name);
    out.set(r.name, prev ? { spec: `${prev.spec}, ${r.spec}`, group: prev.group } : { spec: r.spec, group });
  }
  return out;
}

export function requirementChanges(from: WheelMetadata | undefined, to: WheelMetadata | undefined): RequirementChange[] {
  const a = serverRequirements(from);
  const b = serverRequirements(to);
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: RequirementChange[] = [];
  for (const name of names) {
    const before = a.get(name);
    const after = b.get(name);
    if (before?.spec === after?.spec) continue;
    changes.push({ package: name, group: (after ?? before)!.group, change: !before ? "added" : !after ? "removed" : "changed", from: before?.spec ?? null, to: after?.spec ?? null });
  }
  return changes;
}

export function readRehearsal(reportPath: string, from: string, to: string): RehearsalTiming {
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(fs.readFileSync(reportPath, "utf8")) as Record<string, unknown>;
  } catch {
    return { status: "none", report: reportPath };
  }
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const phases = (report.phases_seconds ?? {}) as Record<string, unknown>;
  const base = { report: reportPath, from_version: String(report.from_version), to_version: String(report.to_version) };
  if (report.from_version !== from || report.to_version !== to) return { status: "other-pair", ...base };
  return {
    status: "rehearsed",
    ...base,
    ok: report.ok === true,
    migration_seconds: num(phases.migration),
    downtime_seconds: num(report.downtime_seconds),
    total_seconds: num(report.total_seconds),
    database: typeof report.database === "string" ? report.database : undefined,
    alembic_version_after: typeof report.alembic_version_after === "string" ? report.alembic_version_after : undefined,
  };
}

export function buildDossier(projectDir: string, fromArg: string | undefined, toArg: string | undefined, options: DossierOptions = {}): Dossier {
  const { from, to } = checkRequest(fromArg, toArg);
  const wheelsDir = options.wheelsDir ?? process.env.UPGRADE_NOTES_WHEELS ?? WHEELS_DIR;
  // Both versions are looked up before failing, so one run reports every unknown version.
  const problems: DossierError[] = [];
  const wheels: string[] = [];
  for (const v of [from, to]) {
    try {
      wheels.push(fetchWheel(v, wheelsDir));
    } catch (err) {
      if (err instanceof OfflineError) {
        const missing = [from, to].filter((x) => !cachedWheel(wheelsDir, x));
        throw new DossierError(`cannot download zenml ${missing.join(" and ")}: the package index is unreachable (offline?); cached wheels live in ${wheelsDir}`, 1);
      }
      if (!(err instanceof DossierError)) throw err;
      problems.push(err);
    }
  }
  if (problems.length > 0) throw new DossierError(problems.map((p) => p.message).join("\n"), problems.some((p) => p.exitCode === 2) ? 2 : 1);
  const [a, b] = analyseWheels(wheels);
  const warnings = [...a.errors, ...b.errors].map((e) => `${e.file}: ${e.error}`);
  for (const [v, w] of [[from, a], [to, b]] as const) if (w.migrations_found === false) warnings.push(`the ${v} wheel has no migrations directory`);
  const between = revisionsBetween(a.revisions, b.revisions);
  warnings.push(...between.warnings);
  const rehearsal = readRehearsal(options.rehearsalReport ?? path.join(projectDir, ".cache", "rehearsal", "report.json"), from, to);
  const toHeads = heads(b.revisions);
  if (rehearsal.alembic_version_after && toHeads.length > 0 && !toHeads.includes(rehearsal.alembic_version_after)) {
    warnings.push(`the rehearsal's database ended at alembic revision ${rehearsal.alembic_version_after}, not at ${toHeads.join(", ")} (the ${to} wheel's head): it did not rehearse this migration path`);
  }
  const releases = between.revisions.map((r) => r.revision).filter((id) => semver.valid(id) === id && semver.gt(id, from) && semver.lt(id, to));
  const reqs = serverRequirements(b.metadata);
  const drivers = [...reqs].filter(([n]) => MYSQL_DRIVERS.has(n)).map(([n, r]) => `${n}${r.spec === "(any version)" ? "" : ` ${r.spec}`}`);
  // Wheel metadata has no field for a database server version; what the code says is which
  // migrations behave differently depending on it.
  const versionDependent = between.revisions.filter((r) => r.notes.some((n) => n.includes("server's version"))).map((r) => r.revision);
  return {
    from,
    to,
    skipped_minors: skippedMinors(from, to),
    releases_crossed: releases,
    migrations: {
      count: between.revisions.length,
      destructive_count: between.revisions.filter((r) => r.destructive).length,
      revisions: between.revisions.map(({ revision, down_revisions, title, file, destructive, reasons, notes }) => ({ revision, down_revisions, title, file, destructive, reasons, notes })),
    },
    requirements: {
      requires_python: { from: a.metadata?.requires_python ?? null, to: b.metadata?.requires_python ?? null, changed: a.metadata?.requires_python !== b.metadata?.requires_python },
      changes: requirementChanges(a.metadata, b.metadata),
      mysql: { drivers, version_dependent_migrations: versionDependent },
    },
    rehearsal,
    warnings,
  };
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** "drops table a; drops table b" -> "drops 2 tables: a, b" (same for columns), other reasons as they are. */
export function groupReasons(reasons: string[]): string[] {
  const out: string[] = [];
  const groups = new Map<string, { index: number; names: string[] }>();
  for (const reason of reasons) {
    const m = /^drops (table|column) (\S+)$/.exec(reason);
    if (!m) {
      out.push(reason);
      continue;
    }
    const group = groups.get(m[1]);
    if (group) group.names.push(m[2]);
    else groups.set(m[1], { index: out.push(reason) - 1, names: [m[2]] });
  }
  for (const [kind, { index, names }] of groups) if (names.length > 1) out[index] = `drops ${names.length} ${kind}s: ${names.join(", ")}`;
  return out;
}
const secs = (n?: number) => (n === undefined ? "not measured" : `${n.toFixed(1)} s`);

export function renderMarkdown(d: Dossier): string {
  const m = d.migrations;
  const lines = [`## Upgrade dossier: ZenML ${d.from} -> ${d.to}`, ""];
  lines.push(
    m.count === 0
      ? `**No database migrations.**`
      : `**${m.count} database migration${m.count === 1 ? "" : "s"}, ${m.destructive_count} destructive.**` +
          (m.destructive_count > 0 ? ` Destructive ones drop, rename, narrow or rewrite data: the pre-upgrade RDS snapshot is the only way back.` : ""),
  );
  if (d.skipped_minors.length > 0) lines.push("", `Skips minor releases ${d.skipped_minors.join(", ")}: read each one's release notes.`);
  if (d.releases_crossed.length > 0) lines.push("", `Releases crossed in the migration chain: ${d.releases_crossed.join(", ")}.`);
  for (const w of d.warnings) lines.push("", `> **Warning:** ${w}`);
  if (m.count > 0) {
    lines.push("", "### Database migrations (in the order alembic applies them)", "", "| # | Revision | Title | Destructive |", "|---|---|---|---|");
    m.revisions.forEach((r, i) => {
      const flag = r.destructive ? `**yes**: ${groupReasons(r.reasons).map(cell).join("; ")}` : "no";
      const merge = r.down_revisions.length > 1 ? ` (merges ${r.down_revisions.join(", ")})` : "";
      const notes = r.notes.length > 0 ? ` (${r.notes.join("; ")})` : "";
      lines.push(`| ${i + 1} | \`${r.revision}\` | ${cell(r.title)}${merge}${notes} | ${flag} |`);
    });
  }
  const req = d.requirements;
  lines.push("", "### Requirements", "");
  lines.push(`- Python: ${req.requires_python.changed ? `\`${req.requires_python.from}\` -> \`${req.requires_python.to}\`` : `\`${req.requires_python.to}\` (unchanged)`}`);
  const dependent = req.mysql.version_dependent_migrations;
  lines.push(
    `- MySQL: driver ${req.mysql.drivers.join(", ") || "none listed"}; ` +
      (dependent.length > 0 ? `migrations that branch on the server's version: ${dependent.join(", ")} (rehearse on the RDS engine version you run)` : "no migration here depends on the server's version"),
  );
  if (req.changes.length === 0) lines.push("- `zenml[server]` requirements: unchanged");
  else {
    lines.push(`- \`zenml[server]\` requirements that change:`, "", "  | Package | From | To | Where |", "  |---|---|---|---|");
    for (const c of req.changes) lines.push(`  | ${c.package} | ${c.from ? `\`${cell(c.from)}\`` : "(absent)"} | ${c.to ? `\`${cell(c.to)}\`` : "(removed)"} | ${c.group} |`);
  }
  lines.push("", "### Rehearsal", "");
  const r = d.rehearsal;
  if (r.status === "rehearsed") {
    lines.push(`Rehearsed ${d.from} -> ${d.to}${r.database ? ` on ${r.database}` : ""}: migration ${secs(r.migration_seconds)}, API downtime ${secs(r.downtime_seconds)}, whole rehearsal ${secs(r.total_seconds)}; ${r.ok ? "every check passed" : "**some checks failed**"}.`);
  } else if (r.status === "other-pair") {
    lines.push(`Not rehearsed for this pair: the last rehearsal report is for ${r.from_version} -> ${r.to_version}.`);
  } else {
    lines.push(`Not rehearsed: no rehearsal report at ${path.relative(process.cwd(), r.report) || r.report}; \`npm run rehearse\` measures one.`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The dossier as lines for a PR body (bump, promote). Never fails the version change: when the
 * dossier cannot be built, one line says why and which command to run once it can.
 */
export function dossierForPullRequest(projectDir: string, from: string, to: string): string[] {
  if (from === to) return [];
  try {
    return ["", ...renderMarkdown(buildDossier(projectDir, from, to)).trimEnd().split("\n")];
  } catch (err) {
    const why = (err as Error).message.split("\n").join("; ");
    return [`Upgrade dossier unavailable (${why}): run npm run upgrade-notes -- --from ${from} --to ${to}`];
  }
}
