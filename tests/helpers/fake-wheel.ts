// Minimal ZenML- or MLflow-shaped wheels for upgrade-notes and release-watch tests: migrations +
// METADATA, zipped by fflate; any other name makes a plain dependency wheel.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { strToU8, zipSync } from "fflate";

export interface FakeRelease {
  /** Distribution name; default zenml. */
  name?: string;
  version: string;
  /** file name -> source, under the project's alembic versions folder */
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

const VERSIONS: Record<string, string> = { zenml: "zenml/zen_stores/migrations/versions/", mlflow: "mlflow/store/db_migrations/versions/" };
const EXTRAS: Record<string, string[]> = { zenml: ["server", "connectors-aws"], mlflow: ["auth"] };

/** Writes `<name>-<version>-py3-none-any.whl` into `dir` and returns its path. */
export function writeFakeWheel(dir: string, release: FakeRelease): string {
  const name = release.name ?? "zenml";
  const versions = VERSIONS[name] ?? `${name.replace(/-/g, "_")}/`;
  const files: Record<string, Uint8Array> = { [`${versions}__init__.py`]: strToU8("") };
  for (const [file, source] of Object.entries(release.migrations)) files[versions + file] = strToU8(source);
  const meta = ["Metadata-Version: 2.1", `Name: ${name}`, `Version: ${release.version}`];
  if (release.requiresPython) meta.push(`Requires-Python: ${release.requiresPython}`);
  meta.push(...(EXTRAS[name] ?? []).map((e) => `Provides-Extra: ${e}`), ...(release.requiresDist ?? []).map((r) => `Requires-Dist: ${r}`));
  const info = `${name.replace(/-/g, "_")}-${release.version}.dist-info/`;
  files[`${info}METADATA`] = strToU8(meta.join("\n") + "\n\n");
  files[`${info}WHEEL`] = strToU8("Wheel-Version: 1.0\nGenerator: zenml-platform tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
  fs.mkdirSync(dir, { recursive: true });
  const wheel = path.join(dir, `${name.replace(/-/g, "_")}-${release.version}-py3-none-any.whl`);
  // A fixed timestamp: the same release gives the same bytes, as a real release's wheel does.
  fs.writeFileSync(wheel, zipSync(files, { mtime: new Date("2026-01-01T00:00:00Z") }));
  return wheel;
}
