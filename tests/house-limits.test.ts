// The limits the house keeps (docs/ARCHITECTURE.md): a newcomer reads any file in one sitting and
// any function on two screens. Tests are aside: a table of cases may be long.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { oversize } from "../tools/house/limits";
import { PROJECT_DIR } from "./helpers/plan";

describe("house limits", () => {
  it("no source file over 400 lines and no function over 120, in TypeScript, Python and shell", () => {
    expect(oversize(PROJECT_DIR).map((o) => `${o.file}: ${o.what} has ${o.lines} lines`)).toEqual([]);
  });

  it("sees a long function and a long file in either language, and leaves tests out", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "limits-"));
    const body = (n: number, line: string) => Array.from({ length: n }, () => line).join("\n");
    fs.mkdirSync(path.join(root, "components"));
    fs.mkdirSync(path.join(root, "tests"));
    fs.writeFileSync(path.join(root, "components", "long.ts"), `export function long(): number {\n  let x = 0;\n${body(125, "  x++;")}\n  return x;\n}\n`);
    fs.writeFileSync(path.join(root, "components", "long.py"), `def long():\n    x = 0\n${body(125, "    x += 1")}\n    return x\n`);
    fs.writeFileSync(path.join(root, "components", "big.sh"), body(401, "echo hi") + "\n");
    fs.writeFileSync(path.join(root, "tests", "big.test.ts"), body(500, "// a long table") + "\n");
    expect(oversize(root).map((o) => [o.file, o.what, o.lines])).toEqual([
      [path.join("components", "big.sh"), "file", 401],
      [path.join("components", "long.ts"), "function long (line 1)", 129],
      [path.join("components", "long.py"), "function long (line 1)", 128],
    ]);
  });
});
