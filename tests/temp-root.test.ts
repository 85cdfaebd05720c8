import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect, it } from "vitest";
import setup from "./helpers/temp-root";

it("a test run's temporary folders, its children's too, live under one root that the run's end removes", () => {
  // This run itself: the folder a test makes and the one a Python child would use are the same root.
  expect(path.basename(os.tmpdir())).toMatch(/^zenml-platform-tests-/);
  expect(execFileSync("python3", ["-c", "import tempfile; print(tempfile.gettempdir())"], { encoding: "utf8" }).trim()).toBe(os.tmpdir());

  const outer = process.env.TMPDIR;
  try {
    const teardown = setup();
    const root = process.env.TMPDIR!;
    expect(path.dirname(root)).toBe(outer);
    const left = fs.mkdtempSync(path.join(os.tmpdir(), "left-behind-"));
    fs.writeFileSync(path.join(left, "file"), "x");
    teardown();
    expect(fs.existsSync(root)).toBe(false);
  } finally {
    process.env.TMPDIR = outer;
  }
});
