// The upgrade dossier: what moving ZenML from one release to another does to the database, read
// from the two releases' own wheels (migrations via migrations.py, requirements from METADATA),
// plus the rehearsal's timing for exactly that pair when one was measured.
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { explainBadPin, skippedMinors } from "../../components/parts";
import { requirementChanges, serverRequirements, type RequirementChange } from "./requirements";

import { heads, revisionsBetween } from "./revisions";

export { requirementChanges, serverRequirements, type RequirementChange } from "./requirements";
export { heads, revisionsBetween } from "./revisions";

/** The Python packages whose releases carry alembic migrations the dossier reads, and what their server installs. */
export const PROJECTS = {
  zenml: { label: "ZenML", extras: ["server"], rehearsal: true },
  mlflow: { label: "MLflow", extras: ["auth"], rehearsal: false },
} as const;
export type Project = keyof typeof PROJECTS;

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
  project: Project;
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
  /** Whose releases: zenml (default) or mlflow. */
  project?: Project;
}

const HELPER = path.join(__dirname, "migrations.py");
// Its analysis helpers: a change to either is a new classifier, so kept analyses are read again.
const HELPER_AST = path.join(__dirname, "migration_ast.py");
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

function cachedWheel(dir: string, version: string, project: Project = "zenml"): string | undefined {
  const name = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => f.startsWith(`${project}-${version}-`) && f.endsWith(".whl")) : undefined;
  return name && path.join(dir, name);
}

/** The index cannot be reached: trying the other version would only wait for another timeout. */
class OfflineError extends DossierError {}

const OFFLINE = /NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Max retries exceeded|ConnectionError|ProxyError|Network is unreachable|timed out|Could not fetch URL/i;

/** The release's wheel, from the cache or downloaded once with pip (no dependencies). */
export function fetchWheel(version: string, dir: string, project: Project = "zenml"): string {
  const cached = cachedWheel(dir, version, project);
  if (cached) return cached;
  fs.mkdirSync(dir, { recursive: true });
  // pip writes into a private directory; only a complete wheel is moved into the cache.
  const downloadDir = fs.mkdtempSync(path.join(dir, `.download-${version}-`));
  try {
    const pip = spawnSync(
      python(),
      ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--ignore-requires-python", "--disable-pip-version-check", "--retries", "1", "--timeout", "20", "--dest", downloadDir, `${project}==${version}`],
      { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
    );
    if (pip.error) throw new DossierError(`cannot run ${python()} -m pip: ${pip.error.message}`, 1);
    const output = `${pip.stdout}\n${pip.stderr}`;
    const downloaded = cachedWheel(downloadDir, version, project);
    if (pip.status === 0 && downloaded) {
      const target = path.join(dir, path.basename(downloaded));
      fs.renameSync(downloaded, target);
      return target;
    }
    const listed = /from versions: ([^)]*)\)/.exec(output)?.[1].trim();
    const known = listed && listed !== "none" ? listed.split(/,\s*/).filter((v) => semver.valid(v) === v && !semver.prerelease(v)) : [];
    if (known.length > 0) {
      const latest = known.sort(semver.compare).at(-1);
      throw new DossierError(`${project} ${version} is not a release on the package index (latest final release: ${latest})`, 2);
    }
    if (OFFLINE.test(output)) throw new OfflineError(`cannot download ${project} ${version}: the package index is unreachable (offline?); cached wheels live in ${dir}`, 1);
    if (/No matching distribution found/.test(output)) throw new DossierError(`${project} ${version} is not a release on the package index`, 2);
    throw new DossierError(`pip could not download ${project} ${version}: ${output.trim().split("\n").filter(Boolean).at(-1) ?? `exit ${pip.status}`}`, 1);
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
  helperDigest ??= crypto.createHash("sha256").update(fs.readFileSync(HELPER)).update(fs.readFileSync(HELPER_AST)).digest("hex");
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
  const project = options.project ?? "zenml";
  const wheelsDir = options.wheelsDir ?? process.env.UPGRADE_NOTES_WHEELS ?? WHEELS_DIR;
  // Both versions are looked up before failing, so one run reports every unknown version.
  const problems: DossierError[] = [];
  const wheels: string[] = [];
  for (const v of [from, to]) {
    try {
      wheels.push(fetchWheel(v, wheelsDir, project));
    } catch (err) {
      if (err instanceof OfflineError) {
        const missing = [from, to].filter((x) => !cachedWheel(wheelsDir, x, project));
        throw new DossierError(`cannot download ${project} ${missing.join(" and ")}: the package index is unreachable (offline?); cached wheels live in ${wheelsDir}`, 1);
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
  // ZenML's rehearsal report; MLflow's rehearsal (npm run rehearse:mlflow) keeps no report to read.
  const rehearsal: RehearsalTiming = PROJECTS[project].rehearsal ? readRehearsal(options.rehearsalReport ?? path.join(projectDir, ".cache", "rehearsal", "report.json"), from, to) : { status: "none", report: "npm run rehearse:mlflow" };
  const toHeads = heads(b.revisions);
  if (rehearsal.alembic_version_after && toHeads.length > 0 && !toHeads.includes(rehearsal.alembic_version_after)) {
    warnings.push(`the rehearsal's database ended at alembic revision ${rehearsal.alembic_version_after}, not at ${toHeads.join(", ")} (the ${to} wheel's head): it did not rehearse this migration path`);
  }
  const releases = between.revisions.map((r) => r.revision).filter((id) => semver.valid(id) === id && semver.gt(id, from) && semver.lt(id, to));
  const reqs = serverRequirements(b.metadata, project, [...PROJECTS[project].extras]);
  const drivers = [...reqs].filter(([n]) => MYSQL_DRIVERS.has(n)).map(([n, r]) => `${n}${r.spec === "(any version)" ? "" : ` ${r.spec}`}`);
  // Wheel metadata has no field for a database server version; what the code says is which
  // migrations behave differently depending on it.
  const versionDependent = between.revisions.filter((r) => r.notes.some((n) => n.includes("server's version"))).map((r) => r.revision);
  return {
    project,
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
      changes: requirementChanges(a.metadata, b.metadata, project, [...PROJECTS[project].extras]),
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
  const { label, extras } = PROJECTS[d.project ?? "zenml"];
  const installs = `${d.project ?? "zenml"}[${extras.join(",")}]`;
  const lines = [`## Upgrade dossier: ${label} ${d.from} -> ${d.to}`, ""];
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
  if (req.changes.length === 0) lines.push(`- \`${installs}\` requirements: unchanged`);
  else {
    lines.push(`- \`${installs}\` requirements that change:`, "", "  | Package | From | To | Where |", "  |---|---|---|---|");
    for (const c of req.changes) lines.push(`  | ${c.package} | ${c.from ? `\`${cell(c.from)}\`` : "(absent)"} | ${c.to ? `\`${cell(c.to)}\`` : "(removed)"} | ${c.group} |`);
  }
  lines.push("", "### Rehearsal", "");
  const r = d.rehearsal;
  if (r.status === "rehearsed") {
    lines.push(`Rehearsed ${d.from} -> ${d.to}${r.database ? ` on ${r.database}` : ""}: migration ${secs(r.migration_seconds)}, API downtime ${secs(r.downtime_seconds)}, whole rehearsal ${secs(r.total_seconds)}; ${r.ok ? "every check passed" : "**some checks failed**"}.`);
  } else if (d.project === "mlflow") {
    lines.push(`MLflow's rehearsal runs real servers of both versions on one database: \`npm run rehearse:mlflow\` (docs/MLFLOW.md).`);
  } else if (r.status === "other-pair") {
    lines.push(`Not rehearsed for this pair: the last rehearsal report is for ${r.from_version} -> ${r.to_version}.`);
  } else {
    lines.push(`Not rehearsed: no rehearsal report at ${path.relative(process.cwd(), r.report) || r.report}; \`npm run rehearse\` measures one.`);
  }
  return lines.join("\n") + "\n";
}
