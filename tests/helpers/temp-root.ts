// vitest's globalSetup: every temporary folder of a test run (the tests' own, and those of the CLIs,
// git, pip and Python they start) goes under one root, removed when the run ends. Tests create
// their folders with os.tmpdir() as usual; TMPDIR is what Node, Python and git all read for it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-platform-tests-"));
  process.env.TMPDIR = root;
  return () => {
    // Processes a test left behind may still write here; retry rather than fail a green run.
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
