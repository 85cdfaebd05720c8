// Where prod's gate finds the migration timing: the artifact of the newest completed run of the
// migration-timing workflow whose record is for the version prod moves to.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TIMING_FILE, TIMING_WORKFLOW, newestTimingFor, parseTimingRecord, timingArtifact, type MigrationTimingRecord } from "./migration-gate";

interface Run {
  databaseId: number;
  status: string;
  createdAt: string;
}

/** `gh` as the gate calls it (its --repo added): arguments in, stdout out, throws on failure. */
export type Gh = (args: string[]) => string;

export function timingFromGitHub(gh: Gh, to: string, source = "prod"): MigrationTimingRecord | undefined {
  const runs = (JSON.parse(gh(["run", "list", "--workflow", TIMING_WORKFLOW, "--limit", "30", "--json", "databaseId,status,createdAt"])) as Run[]).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.databaseId - a.databaseId));
  return newestTimingFor(to, runs, (run) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "migration-timing-"));
    try {
      gh(["run", "download", String(run.databaseId), "--name", timingArtifact(source), "--dir", tmp]);
      return parseTimingRecord(fs.readFileSync(path.join(tmp, TIMING_FILE), "utf8"));
    } catch {
      // A run that skipped (prod's pin did not change) or died before its record proves nothing.
      return undefined;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
