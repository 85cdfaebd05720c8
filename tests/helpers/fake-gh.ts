// A stand-in `gh` on PATH for the staging gate: it answers `gh run list --workflow W` and
// `gh run download ID --name N --dir D` from files, as GitHub's API would from runs and artifacts.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type DeployRecord, RECORD_FILE, recordArtifact } from "../../tools/gitops/deploy-record";
import { TIMING_FILE, timingArtifact, type MigrationTimingRecord } from "../../tools/gitops/migration-gate";
import type { WorkflowRun } from "../../tools/gitops/staging-gate";

export interface FakeGh {
  /** Put first on PATH. */
  bin: string;
  addRun(stack: "staging" | "prod", run: WorkflowRun, record?: DeployRecord): void;
  /** A run of the migration-timing workflow and the record it uploaded. */
  addTiming(run: WorkflowRun, record: MigrationTimingRecord): void;
}

export function fakeGh(): FakeGh {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-gh-"));
  const data = path.join(bin, "data");
  fs.mkdirSync(data);
  const runs: Record<string, WorkflowRun[]> = { staging: [], prod: [], timing: [] };
  const save = () => {
    for (const stack of ["staging", "prod", "timing"]) fs.writeFileSync(path.join(data, `runs-${stack}.json`), JSON.stringify(runs[stack]));
  };
  save();
  fs.writeFileSync(
    path.join(bin, "gh"),
    `#!/bin/sh
D='${data}'
if [ "$1 $2" = "run list" ]; then case "$4" in deploy-staging.yml) cat "$D/runs-staging.json";; migration-timing.yml) cat "$D/runs-timing.json";; *) cat "$D/runs-prod.json";; esac; exit 0; fi
if [ "$1 $2" = "run download" ]; then f="$D/record-$3-$5.json"; [ -f "$f" ] || { echo "no artifact $5 in run $3" >&2; exit 1; }; mkdir -p "$7"; case "$5" in migration-timing-*) cp "$f" "$7/${TIMING_FILE}";; *) cp "$f" "$7/${RECORD_FILE}";; esac; exit 0; fi
echo "fake gh: unexpected arguments: $*" >&2; exit 9
`,
    { mode: 0o755 },
  );
  return {
    bin,
    addRun(stack, run, record) {
      runs[stack].push(run);
      save();
      if (record) fs.writeFileSync(path.join(data, `record-${run.databaseId}-${recordArtifact(stack)}.json`), JSON.stringify(record));
    },
    addTiming(run, record) {
      runs.timing.push(run);
      save();
      fs.writeFileSync(path.join(data, `record-${run.databaseId}-${timingArtifact(record.source)}.json`), JSON.stringify(record));
    },
  };
}
