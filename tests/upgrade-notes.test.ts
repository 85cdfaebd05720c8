import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { bump as bumpPart, promote as promotePart } from "../tools/gitops/version-change";
import {
  analyseMigrationDir,
  buildDossier,
  groupReasons,
  readRehearsal,
  renderMarkdown,
  requirementChanges,
  revisionsBetween,
  serverRequirements,
  type Revision,
  type WheelMetadata,
} from "../tools/upgrade-notes/dossier";
import { upgradeNotes } from "../tools/upgrade-notes/cli";
import { dossierForPullRequest } from "../tools/upgrade-notes/part-dossier";
import { withEnv } from "./helpers/env";
import { migration, writeFakeWheel, writeMigrationDir } from "./helpers/fake-wheel";
import { PROJECT_DIR } from "./helpers/plan";

const run = promisify(execFile);
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

// Every classifier case is one file of one directory, read by a single run of the helper.
const cases = new Map<string, string>();
let classified: Map<string, Revision> | undefined;
/** Registers a migration at collection time; its record is looked up when the test runs. */
function fileCase(source: (id: string) => string): () => Revision {
  const id = `case${cases.size}`;
  cases.set(`${id}_test.py`, source(id));
  return () => {
    if (!classified) {
      const result = analyseMigrationDir(writeMigrationDir(Object.fromEntries(cases)));
      expect(result.errors).toEqual([]);
      classified = new Map(result.revisions.map((r) => [r.revision, r]));
    }
    return classified.get(id)!;
  };
}
const caseOf = (body: string, extra = "") => fileCase((id) => migration(id, "r0", "Harmless-sounding title", body, extra));

describe("the migration classifier reads operations, not titles", () => {
  it.each([
    ["an add-column", 'op.add_column("user", sa.Column("oidc_claims", sa.JSON(), nullable=True))'],
    ["a batch add-column", 'with op.batch_alter_table("user") as batch_op:\n    batch_op.add_column(sa.Column("x", sa.String(255)))'],
    ["a new table and index", 'op.create_table("t", sa.Column("id", sa.Integer()))\nop.create_index("ix_t", "t", ["id"])'],
    ["a widening type change", 'with op.batch_alter_table("secret") as batch_op:\n    batch_op.alter_column("values", existing_type=sa.TEXT(), type_=sa.String(length=16777215).with_variant(mysql.MEDIUMTEXT, "mysql"))'],
    ["a longer VARCHAR", 'op.alter_column("step_run", "name", existing_type=sa.VARCHAR(length=255), type_=sa.String(length=1024))'],
    ["a read-only query", 'conn = op.get_bind()\nrows = conn.execute(sa.text("SELECT id FROM user")).fetchall()'],
    ["a release marker", "pass"],
  ].map(([what, body]) => [what, caseOf(body)] as const))("%s is not destructive", (_what, record) => {
    const r = record();
    expect(r.destructive).toBe(false);
    expect(r.reasons).toEqual([]);
  });

  it.each([
    ["a drop-table", 'op.drop_table("resource_pool")', /drops table resource_pool/],
    ["a batch drop-column", 'with op.batch_alter_table("step_run", schema=None) as batch_op:\n    batch_op.drop_column("legacy")', /drops column step_run\.legacy/],
    ["a table rename", 'op.rename_table("workspace", "project")', /renames table workspace to project/],
    ["a batch column rename", 'with op.batch_alter_table("model") as batch_op:\n    batch_op.alter_column("ethic", new_column_name="ethics", existing_type=sa.TEXT())', /renames column model\.ethic to ethics/],
    ["a data UPDATE", 'op.execute("UPDATE pipeline_run SET status = \'failed\' WHERE status = \'running\'")', /rewrites data: UPDATE pipeline_run SET status/],
    ["a DELETE through the connection", 'conn = op.get_bind()\nconn.execute(sa.text("""\n    -- stale rows\n    DELETE FROM model_version WHERE number IS NULL\n"""))', /rewrites data: DELETE FROM model_version/],
    ["a SQLAlchemy update statement", 'runs = sa.table("pipeline_run", sa.column("status"))\nop.get_bind().execute(sa.update(runs).values(status="failed"))', /rewrites data \(update statement\)/],
    ["a bulk insert", 'op.bulk_insert(sa.table("tag", sa.column("name")), [{"name": "a"}])', /bulk-inserts rows into tag/],
    ["an ORM write", "session = Session(bind=op.get_bind())\nsession.add(thing)", /writes rows through the ORM/],
    ["a narrowing type change", 'with op.batch_alter_table("secret") as batch_op:\n    batch_op.alter_column("values", existing_type=mysql.MEDIUMTEXT(), type_=sa.TEXT())', /secret\.values: type narrows/],
    ["a shorter VARCHAR", 'op.alter_column("step_run", "name", existing_type=sa.VARCHAR(length=1024), type_=sa.String(length=255))', /type narrows/],
    ["a type change of unknown width", 'op.alter_column("t", "c", type_=sa.String(length=50))', /from an unstated type/],
    ["SQL the reader cannot resolve", "op.execute(build_statement())", /cannot resolve.*treated as a data write/],
  ].map(([what, body, reason]) => [what, caseOf(body as string), reason] as const))("%s is destructive", (_what, record, reason) => {
    const r = record();
    expect(r.destructive).toBe(true);
    expect(r.reasons.join("\n")).toMatch(reason);
  });

  const helpers = caseOf("_drop_legacy()\nfor statement in STATEMENTS:\n    op.execute(statement)", [
      'STATEMENTS = ["SELECT 1", "UPDATE artifact SET uri = REPLACE(uri, \'s3://old\', \'s3://new\')"]',
      "",
      "def _drop_legacy():",
      '    op.drop_table("legacy_flavor")',
  ].join("\n"));
  it("follows helper functions upgrade() calls, module constants and loops over statements", () => {
    expect(helpers().reasons).toEqual(["drops table legacy_flavor", expect.stringMatching(/^rewrites data: UPDATE artifact SET uri/)]);
  });

  const appended = caseOf('sql = "INSERT INTO tag (id) VALUES "\nfor i in ids:\n    sql += f"(\'{i}\'),"\nsql = sql[:-1] + ";"\nop.execute(sql)');
  it("builds SQL appended to itself (the same name bound twice) and still sees the write", () => {
    expect(appended().reasons).toEqual([expect.stringMatching(/^rewrites data: INSERT INTO tag/)]);
  });

  const downgradeDrops = fileCase((id) =>
    migration(id, "r0", "Add column", 'op.add_column("t", sa.Column("c", sa.Integer()))').replace("def downgrade() -> None:\n    pass", 'def downgrade() -> None:\n    op.drop_column("t", "c")'),
  );
  const versionBranch = caseOf('if op.get_bind().dialect.server_version_info >= (8, 0, 13):\n    op.add_column("t", sa.Column("c", sa.JSON()))');
  it("notes a migration whose operations depend on the database server's version", () => {
    expect(versionBranch()).toMatchObject({ destructive: false, notes: ["branches on the database server's version"] });
  });

  it("ignores what downgrade() does", () => {
    expect(downgradeDrops()).toMatchObject({ title: "Add column", destructive: false });
  });

  const merge = fileCase((id) => migration(id, ["a1", "b1"], "Merge heads", "pass").replace(`Revision ID: ${id}`, `Revision ID: ${id}\nRevises: zzz`));
  it("takes the parent from down_revision, not from the docstring, and reports merge revisions' parents", () => {
    expect(merge().down_revisions).toEqual(["a1", "b1"]);
  });

  it("reports a file it cannot parse instead of skipping it silently", () => {
    const result = analyseMigrationDir(writeMigrationDir({ "bad.py": "def upgrade(:\n" }));
    expect(result.errors).toEqual([{ file: "bad.py", error: expect.stringMatching(/cannot parse/) }]);
  });
});

const rev = (revision: string, down: string[], destructive = false): Revision => ({ revision, down_revisions: down, depends_on: [], title: revision, file: `${revision}.py`, destructive, reasons: [], operations: [], notes: [] });

describe("revisions between two releases", () => {
  const base = [rev("r0", []), rev("0.1.0", ["r0"])];
  const branched = [...base, rev("a1", ["0.1.0"]), rev("b1", ["0.1.0"]), rev("b2", ["b1"]), rev("m1", ["a1", "b2"]), rev("0.2.0", ["m1"])];

  it("lists every revision the old head lacks, parents before a merge revision", () => {
    const { revisions, warnings } = revisionsBetween(base, branched);
    const ids = revisions.map((r) => r.revision);
    expect(ids.sort()).toEqual(["0.2.0", "a1", "b1", "b2", "m1"]);
    const order = revisions.map((r) => r.revision);
    for (const [before, after] of [["a1", "m1"], ["b2", "m1"], ["b1", "b2"], ["m1", "0.2.0"]]) expect(order.indexOf(before)).toBeLessThan(order.indexOf(after));
    expect(warnings).toEqual([]);
  });

  it("lists nothing for the same release and warns when the old head is not in the new history", () => {
    expect(revisionsBetween(branched, branched).revisions).toEqual([]);
    const sideways = revisionsBetween([...base, rev("hotfix", ["0.1.0"])], branched);
    expect(sideways.warnings.join("\n")).toMatch(/migration head hotfix is not in the new release's history/);
  });
});

describe("the Markdown table", () => {
  it("groups many dropped tables or columns into one reason and keeps the rest", () => {
    expect(groupReasons(["drops table a", "rewrites data: UPDATE x", "drops table b", "drops column t.c"])).toEqual(["drops 2 tables: a, b", "rewrites data: UPDATE x", "drops column t.c"]);
  });
});

describe("requirements of the server install", () => {
  const meta = (requires_python: string, requires_dist: string[]): WheelMetadata => ({ name: "zenml", version: "x", requires_python, requires_dist, provides_extra: [] });
  const a = meta(">=3.9", ["click>=8.0", "zenml[local] ; extra == 'server'", "fastapi<0.100 ; extra == 'server'", "pymysql~=1.0 ; extra == 'local'", "pytest ; extra == 'dev'"]);
  const b = meta(">=3.10", ["click>=8.3", "zenml[local] ; extra == 'server'", "fastapi<0.139 ; extra == 'server'", "pymysql~=1.1 ; extra == 'local'", "pydantic-settings>=2 ; extra == 'local'", "pytest>=9 ; extra == 'dev'"]);

  it("follows zenml[...] self-references and leaves other extras out", () => {
    expect([...serverRequirements(a).keys()].sort()).toEqual(["click", "fastapi", "pymysql"]);
  });

  it("reports added and changed requirements with where they come from", () => {
    expect(requirementChanges(a, b)).toEqual([
      { package: "click", group: "base", change: "changed", from: ">=8.0", to: ">=8.3" },
      { package: "fastapi", group: "extra server", change: "changed", from: "<0.100", to: "<0.139" },
      { package: "pydantic-settings", group: "extra local", change: "added", from: null, to: ">=2" },
      { package: "pymysql", group: "extra local", change: "changed", from: "~=1.0", to: "~=1.1" },
    ]);
  });
});

describe("the rehearsal's timing", () => {
  const report = (body: object) => {
    const file = path.join(tmp("rehearsal-"), "report.json");
    fs.writeFileSync(file, JSON.stringify(body));
    return file;
  };
  const measured = { from_version: "0.97.0", to_version: "0.98.0", database: "MariaDB 11.8", downtime_seconds: 21.5, phases_seconds: { migration: 7.25 }, total_seconds: 190, ok: true, checks: [] };

  it("is reported only for exactly the same pair", () => {
    expect(readRehearsal(report(measured), "0.97.0", "0.98.0")).toMatchObject({ status: "rehearsed", migration_seconds: 7.25, downtime_seconds: 21.5, ok: true });
    expect(readRehearsal(report(measured), "0.96.4", "0.98.0")).toMatchObject({ status: "other-pair", from_version: "0.97.0", to_version: "0.98.0" });
    expect(readRehearsal("/nonexistent/report.json", "0.97.0", "0.98.0").status).toBe("none");
  });
});

// Three releases shaped like ZenML's: 0.98.0 branches and merges, 0.99.0 renames a column.
const RELEASES = (() => {
  const m097 = {
    "r0_initial.py": migration("r0", null, "Initial", 'op.create_table("user", sa.Column("id", sa.Integer()))'),
    "a1_add_flag.py": migration("a1", "r0", "Add flag", 'op.add_column("user", sa.Column("flag", sa.Boolean()))'),
    "0.97.0_release.py": migration("0.97.0", "a1", "Release", "pass"),
  };
  const m098 = {
    ...m097,
    "b1_drop_pools.py": migration("b1", "0.97.0", "Tidy resource pools", 'op.drop_table("resource_pool")'),
    "b2_fix_status.py": migration("b2", "0.97.0", "Fix status", 'op.execute("UPDATE pipeline_run SET status = \'failed\'")'),
    "m1_merge.py": migration("m1", ["b1", "b2"], "Merge heads", "pass"),
    "0.98.0_release.py": migration("0.98.0", "m1", "Release", "pass"),
  };
  const m099 = {
    ...m098,
    "c1_rename.py": migration("c1", "0.98.0", "Rename ethic", 'op.alter_column("model", "ethic", new_column_name="ethics")'),
    "0.99.0_release.py": migration("0.99.0", "c1", "Release", "pass"),
  };
  const server = (fastapi: string) => ["click>=8.0", "zenml[local] ; extra == 'server'", `fastapi${fastapi} ; extra == 'server'`, "pymysql~=1.1.0 ; extra == 'local'"];
  return [
    { version: "0.97.0", migrations: m097, requiresPython: ">=3.9", requiresDist: server("<0.100") },
    { version: "0.98.0", migrations: m098, requiresPython: ">=3.10", requiresDist: server("<0.139") },
    { version: "0.99.0", migrations: m099, requiresPython: ">=3.10", requiresDist: server("<0.139") },
  ];
})();

let wheels: string;
beforeAll(() => {
  wheels = tmp("zenml-wheels-");
  for (const r of RELEASES) writeFakeWheel(wheels, r);
});

describe("the dossier", () => {
  it("lists the revisions, flags the destructive ones, and the requirement changes", () => {
    const d = buildDossier(tmp("project-"), "0.97.0", "0.99.0", { wheelsDir: wheels });
    expect(d.migrations.revisions.map((r) => [r.revision, r.destructive])).toEqual([
      ["b1", true],
      ["b2", true],
      ["m1", false],
      ["0.98.0", false],
      ["c1", true],
      ["0.99.0", false],
    ]);
    expect(d).toMatchObject({ skipped_minors: ["0.98"], releases_crossed: ["0.98.0"], migrations: { count: 6, destructive_count: 3 }, warnings: [] });
    expect(d.requirements.requires_python).toEqual({ from: ">=3.9", to: ">=3.10", changed: true });
    expect(d.requirements.changes).toEqual([{ package: "fastapi", group: "extra server", change: "changed", from: "<0.100", to: "<0.139" }]);
    const md = renderMarkdown(d);
    expect(md).toMatch(/^## Upgrade dossier: ZenML 0\.97\.0 -> 0\.99\.0/);
    expect(md).toContain("**6 database migrations, 3 destructive.**");
    expect(md).toContain("| 1 | `b1` | Tidy resource pools | **yes**: drops table resource_pool |");
    expect(md).toContain("| 3 | `m1` | Merge heads (merges b1, b2) | no |");
    expect(md).toMatch(/\| 5 \| `c1` \| Rename ethic \| \*\*yes\*\*: renames column model\.ethic to ethics \|/);
    expect(md).toContain("- Python: `>=3.9` -> `>=3.10`");
    expect(md).toContain("- MySQL: driver pymysql ~=1.1.0; no migration here depends on the server's version");
    expect(md).toMatch(/Not rehearsed: no rehearsal report/);
  });
});

describe("each release's wheel is read once", () => {
  const copyOf = (versions: string[]) => {
    const dir = tmp("zenml-wheels-copy-");
    for (const v of versions) fs.copyFileSync(path.join(wheels, `zenml-${v}-py3-none-any.whl`), path.join(dir, `zenml-${v}-py3-none-any.whl`));
    return dir;
  };
  const withoutPython = <T>(call: () => T): T => withEnv({ PYTHON: "/nonexistent/python3" }, call);

  it("keeps its analysis next to it, so a later dossier of the same releases runs no Python", () => {
    const dir = copyOf(["0.97.0", "0.99.0"]);
    const project = tmp("project-");
    const first = buildDossier(project, "0.97.0", "0.99.0", { wheelsDir: dir });
    expect(fs.readdirSync(path.join(dir, ".analysis"))).toHaveLength(2);
    expect(withoutPython(() => buildDossier(project, "0.97.0", "0.99.0", { wheelsDir: dir }))).toEqual(first);
  });

  it("reads a wheel again when its bytes differ, and when its kept analysis is damaged", () => {
    const dir = copyOf(["0.97.0", "0.98.0"]);
    buildDossier(tmp("project-"), "0.97.0", "0.98.0", { wheelsDir: dir });
    // Another 0.98.0 under the same name (a re-uploaded file): its analysis is not the old one's.
    writeFakeWheel(dir, { version: "0.98.0", migrations: { "r0_initial.py": migration("r0", null, "Initial", "pass"), "x1_drop.py": migration("x1", "r0", "Drop", 'op.drop_table("user")') } });
    expect(() => withoutPython(() => buildDossier(tmp("project-"), "0.97.0", "0.98.0", { wheelsDir: dir }))).toThrow(/cannot read the migrations of .*zenml-0\.98\.0-py3-none-any\.whl/);
    const revisions = (d: ReturnType<typeof buildDossier>) => d.migrations.revisions.map((r) => r.revision);
    expect(revisions(buildDossier(tmp("project-"), "0.97.0", "0.98.0", { wheelsDir: dir }))).toContain("x1");
    for (const f of fs.readdirSync(path.join(dir, ".analysis"))) fs.writeFileSync(path.join(dir, ".analysis", f), '{"revisions": [');
    expect(revisions(buildDossier(tmp("project-"), "0.97.0", "0.98.0", { wheelsDir: dir }))).toContain("x1");
  });
});

describe("npm run upgrade-notes", () => {
  const cli = (args: string[]) =>
    run(process.execPath, ["tools/cli.cjs", "upgrade-notes", ...args], { cwd: PROJECT_DIR }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  /** The same CLI in-process, its environment stubbed for the one synchronous call (pip still runs for real). */
  const inProcess = (args: string[], env: Record<string, string>) => withEnv(env, () => upgradeNotes(args));
  // pip reads these itself: an index of our three wheels only, never the network.
  const localIndex = () => ({ UPGRADE_NOTES_WHEELS: tmp("wheel-cache-"), PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheels });

  it.each([
    ["a downgrade", ["--from", "0.98.0", "--to", "0.97.0"], /^upgrade-notes: refusing 0\.98\.0 -> 0\.97\.0: that is a downgrade/],
    ["a malformed version", ["--from", "v0.97.0", "--to", "0.98.0"], /^upgrade-notes: --from "v0\.97\.0" has a "v" prefix/],
    ["a pre-release", ["--from", "0.97.0", "--to", "0.99.0-rc1"], /^upgrade-notes: --to "0\.99\.0-rc1" is a pre-release/],
    ["a missing flag", ["--from", "0.97.0"], /^upgrade-notes: --to is required/],
    ["an unknown flag", ["--from", "0.97.0", "--to", "0.98.0", "--stak", "prod"], /^upgrade-notes: Unknown option '--stak'.*\nusage: npm run upgrade-notes /],
    ["an unknown part", ["--part", "postgres", "--from", "15", "--to", "16"], /^upgrade-notes: unknown part "postgres"/],
    ["a Kubernetes downgrade", ["--part", "kubernetes", "--from", "1.35", "--to", "1.34"], /^upgrade-notes: refusing 1\.35 -> 1\.34: that is a downgrade \(EKS cannot downgrade/],
  ])("refuses %s with exit 2 and one line (a bad flag: and the usage), before downloading anything", (_what, args, message) => {
    const r = upgradeNotes(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(/Unknown option/.test(r.stderr) ? 2 : 1);
    expect(r.stdout).toBe("");
  });

  it("is the script npm runs: exit code and stderr of the real process", async () => {
    const r = await cli(["--from", "0.98.0", "--to", "0.97.0"]);
    expect(r).toMatchObject({ code: 2, stdout: "", stderr: expect.stringMatching(/^upgrade-notes: refusing 0\.98\.0 -> 0\.97\.0: that is a downgrade.*\n$/) });
  });

  it("refuses a version the index does not have with exit 2, naming the latest release", () => {
    const r = inProcess(["--from", "0.97.0", "--to", "0.97.5"], localIndex());
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("upgrade-notes: zenml 0.97.5 is not a release on the package index (latest final release: 0.99.0)");
  });

  it("says in one line that it is offline when the index cannot be reached", () => {
    // Port 47009 is in this block and nothing listens there.
    const r = inProcess(["--from", "0.97.0", "--to", "0.98.0"], { UPGRADE_NOTES_WHEELS: tmp("wheel-cache-"), PIP_INDEX_URL: "http://127.0.0.1:47009/simple" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^upgrade-notes: cannot download zenml 0\.97\.0 and 0\.98\.0: the package index is unreachable \(offline\?\); cached wheels live in /);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("downloads both wheels once into its cache and prints Markdown, or JSON with --json", () => {
    const env = localIndex();
    const md = inProcess(["--from", "0.97.0", "--to", "0.98.0"], env);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain("**4 database migrations, 2 destructive.**");
    expect(fs.readdirSync(env.UPGRADE_NOTES_WHEELS).sort()).toEqual([".analysis", "zenml-0.97.0-py3-none-any.whl", "zenml-0.98.0-py3-none-any.whl"]);
    expect(fs.readdirSync(path.join(env.UPGRADE_NOTES_WHEELS, ".analysis"))).toHaveLength(2);
    // The cache answers now, with no index and no Python at all: neither pip nor the classifier runs again.
    const json = inProcess(["--from", "0.97.0", "--to", "0.98.0", "--json"], { UPGRADE_NOTES_WHEELS: env.UPGRADE_NOTES_WHEELS, PIP_INDEX_URL: "http://127.0.0.1:47009/simple", PYTHON: "/nonexistent/python3" });
    expect(json.code).toBe(0);
    const d = JSON.parse(json.stdout);
    expect(d.migrations.revisions.map((r: Revision) => r.revision)).toEqual(["b1", "b2", "m1", "0.98.0"]);
    expect(d.migrations.revisions[1]).toMatchObject({ destructive: true, reasons: ["rewrites data: UPDATE pipeline_run SET status = 'failed'"] });
  });
});

describe("bump's PR body carries the dossier", () => {
  let dir: string;
  const setup = (stagingPin: string) => {
    dir = tmp("zenml-bump-dossier-");
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    const staging = path.join(dir, "Pulumi.staging.yaml");
    fs.writeFileSync(staging, fs.readFileSync(staging, "utf8").replace(/zenmlVersion: \S+/, `zenmlVersion: ${stagingPin}`));
    fs.mkdirSync(path.join(dir, ".cache", "rehearsal"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".cache", "rehearsal", "report.json"), JSON.stringify({ from_version: "0.97.0", to_version: "0.99.0", downtime_seconds: 18.2, phases_seconds: { migration: 4.5 }, total_seconds: 150.3, ok: true, checks: [] }));
  };
  // Wheels from the fixtures only: pip may look them up, never on the network.
  const offlineEnv = () => ({ UPGRADE_NOTES_WHEELS: wheels, PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheels });
  const source = (_part: string, from: string, to: string) => withEnv(offlineEnv(), () => dossierForPullRequest(dir, from, to));
  const bump = (d: string, stack: string, version: string, dossier: typeof source) => bumpPart(d, { stack, version }, dossier);
  const stagingPerformedIt = { describe: "test records", moves: () => [{ from: "0.97.0", to: "0.98.0", sha: "a".repeat(40) }] };

  it("from prod's pin to the new pin, inside the body, with the rehearsal of that pair", () => {
    setup("0.98.0");
    const { message } = bump(dir, "staging", "0.99.0", source);
    const body = message.slice(message.indexOf("  body:"), message.indexOf("\nNext:"));
    expect(body).toContain("    ## Upgrade dossier: ZenML 0.97.0 -> 0.99.0");
    expect(body).toContain("    **6 database migrations, 3 destructive.**");
    expect(body).toContain("    | 5 | `c1` | Rename ethic | **yes**: renames column model.ethic to ethics |");
    expect(body).toContain("    Rehearsed 0.97.0 -> 0.99.0: migration 4.5 s, API downtime 18.2 s, whole rehearsal 150.3 s; every check passed.");
    expect(message).toMatch(/\nNext: commit, open the PR to staging/);
  });

  it("warns when the rehearsed database did not end at the new release's head", () => {
    setup("0.98.0");
    const report = path.join(dir, ".cache", "rehearsal", "report.json");
    fs.writeFileSync(report, JSON.stringify({ from_version: "0.97.0", to_version: "0.99.0", alembic_version_after: "0.98.0", phases_seconds: { migration: 1 }, ok: true }));
    const d = buildDossier(dir, "0.97.0", "0.99.0", { wheelsDir: wheels });
    expect(d.warnings).toEqual(["the rehearsal's database ended at alembic revision 0.98.0, not at 0.99.0 (the 0.99.0 wheel's head): it did not rehearse this migration path"]);
  });

  it("promote's body covers prod's own move", () => {
    setup("0.98.0");
    const { message } = promotePart(dir, { evidence: stagingPerformedIt }, source);
    expect(message).toContain("    ## Upgrade dossier: ZenML 0.97.0 -> 0.98.0");
    expect(message).toContain("    Not rehearsed for this pair: the last rehearsal report is for 0.97.0 -> 0.99.0.");
  });

  it("still changes the pin when the dossier cannot be built, and says how to get it", () => {
    setup("0.98.0");
    const result = bump(dir, "staging", "0.99.1", source);
    expect(result.changed).toBe(true);
    expect(result.message).toMatch(/\n {4}Upgrade dossier unavailable \(.*0\.99\.1.*\): run npm run upgrade-notes -- --part zenml --from 0\.97\.0 --to 0\.99\.1\n/);
  });

  it("npm run bump prints it", async () => {
    setup("0.98.0");
    const r = await run(process.execPath, ["tools/cli.cjs", "bump", "--stack", "staging", "--version", "0.99.0", "--dir", dir], { cwd: PROJECT_DIR, env: { ...process.env, ...offlineEnv() } });
    expect(r.stdout).toContain("    ## Upgrade dossier: ZenML 0.97.0 -> 0.99.0");
  });
});

describe("a dossier for every part", () => {
  it("MLflow's alembic migrations are read from its wheel like ZenML's, with its own requirements", () => {
    const dir = tmp("mlflow-wheels-");
    const base = { "0584bdc529eb_init.py": migration("0584bdc529eb", null, "Initial tables", 'op.create_table("experiments", sa.Column("id", sa.Integer()))') };
    writeFakeWheel(dir, { name: "mlflow", version: "3.17.2", migrations: base, requiresDist: ["alembic<2", "sqlalchemy<3,>=1.4.0", 'Flask-WTF<2 ; extra == "auth"'] });
    const next = { ...base, "1b5f0d9ad7c1_logged_models.py": migration("1b5f0d9ad7c1", "0584bdc529eb", "Drop old tags", 'op.drop_column("experiments", "old_tag")') };
    writeFakeWheel(dir, { name: "mlflow", version: "3.18.0", migrations: next, requiresDist: ["alembic<2", "sqlalchemy<3,>=2.0", 'Flask-WTF<2 ; extra == "auth"'] });
    const d = buildDossier(tmp("project-"), "3.17.2", "3.18.0", { wheelsDir: dir, project: "mlflow" });
    expect(d).toMatchObject({ project: "mlflow", migrations: { count: 1, destructive_count: 1 } });
    expect(d.requirements.changes).toEqual([{ package: "sqlalchemy", group: "base", change: "changed", from: "<3,>=1.4.0", to: "<3,>=2.0" }]);
    const md = renderMarkdown(d);
    expect(md).toContain("## Upgrade dossier: MLflow 3.17.2 -> 3.18.0");
    expect(md).toContain("| 1 | `1b5f0d9ad7c1` | Drop old tags | **yes**: drops column experiments.old_tag |");
    expect(md).toContain("`mlflow[auth]` requirements that change:");
    expect(md).toContain("npm run rehearse:mlflow");
    // The CLI takes it by --part, the same way.
    const cli = withEnv({ UPGRADE_NOTES_WHEELS: dir, PIP_NO_INDEX: "1", PIP_FIND_LINKS: dir }, () => upgradeNotes(["--part", "mlflow", "--from", "3.17.2", "--to", "3.18.0"]));
    expect(cli).toMatchObject({ code: 0, stdout: md });
  });
});
