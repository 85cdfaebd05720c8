// vitest's globalSetup: `python3` resolves to the interpreter itself for every process a test starts.
// Through pyenv's shims each start costs ~0.1 s of bash, and `python3 -m pip` runs `pyenv rehash`
// after pip (~1 s): the suite started Python about 40 times. A folder with links to the interpreter
// the shim picks goes first on PATH; without shims the links are simply the same interpreter.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export default function setup(): () => void {
  let executable: string;
  try {
    executable = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
  } catch {
    return () => {}; // no Python: the tests that need it say so themselves
  }
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "python-bin-"));
  for (const name of ["python3", "python"]) fs.symlinkSync(executable, path.join(bin, name));
  const previousPath = process.env.PATH;
  process.env.PATH = `${bin}${path.delimiter}${previousPath ?? ""}`;
  return () => {
    process.env.PATH = previousPath;
    fs.rmSync(bin, { recursive: true, force: true });
  };
}
