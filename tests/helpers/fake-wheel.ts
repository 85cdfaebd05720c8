// Minimal ZenML-shaped wheels for upgrade-notes tests: migrations + METADATA, zipped by Python.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface FakeRelease {
  version: string;
  /** file name -> source, under zenml/zen_stores/migrations/versions/ */
  migrations: Record<string, string>;
  requiresPython?: string;
  requiresDist?: string[];
}

/** A migration file the way alembic writes them. */
export function migration(revision: string, down: string | string[] | null, title: string, upgradeBody: string, extra = ""): string {
  const downText = down === null ? "None" : Array.isArray(down) ? `(${down.map((d) => JSON.stringify(d)).join(", ")})` : JSON.stringify(down);
  return [
    `"""${title} [${revision}].`,
    "",
    `Revision ID: ${revision}`,
    "",
    '"""',
    "import sqlalchemy as sa",
    "from alembic import op",
    "from sqlalchemy.dialects import mysql",
    "",
    `revision = ${JSON.stringify(revision)}`,
    `down_revision = ${downText}`,
    "branch_labels = None",
    "depends_on = None",
    extra,
    "",
    "def upgrade() -> None:",
    ...upgradeBody.split("\n").map((l) => (l ? `    ${l}` : "")),
    "",
    "def downgrade() -> None:",
    "    pass",
    "",
  ].join("\n");
}

export function writeMigrationDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-migrations-"));
  for (const [name, source] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), source);
  return dir;
}

/** Writes `zenml-<version>-py3-none-any.whl` into `dir` and returns its path. */
export function writeFakeWheel(dir: string, release: FakeRelease): string {
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-wheel-"));
  const versions = path.join(tree, "zenml", "zen_stores", "migrations", "versions");
  fs.mkdirSync(versions, { recursive: true });
  fs.writeFileSync(path.join(versions, "__init__.py"), "");
  for (const [name, source] of Object.entries(release.migrations)) fs.writeFileSync(path.join(versions, name), source);
  const info = path.join(tree, `zenml-${release.version}.dist-info`);
  fs.mkdirSync(info);
  const meta = ["Metadata-Version: 2.1", "Name: zenml", `Version: ${release.version}`];
  if (release.requiresPython) meta.push(`Requires-Python: ${release.requiresPython}`);
  meta.push("Provides-Extra: server", ...(release.requiresDist ?? []).map((r) => `Requires-Dist: ${r}`));
  fs.writeFileSync(path.join(info, "METADATA"), meta.join("\n") + "\n\n");
  fs.writeFileSync(path.join(info, "WHEEL"), "Wheel-Version: 1.0\nGenerator: zenml-platform tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
  fs.mkdirSync(dir, { recursive: true });
  const wheel = path.join(dir, `zenml-${release.version}-py3-none-any.whl`);
  execFileSync("python3", ["-c", "import shutil, sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2]); import os; os.replace(sys.argv[1] + '.zip', sys.argv[3])", wheel + ".tmp", tree, wheel]);
  fs.rmSync(tree, { recursive: true, force: true });
  return wheel;
}
