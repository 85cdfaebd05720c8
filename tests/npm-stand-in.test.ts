// The stand-in npm (tests/helpers/npm-stand-in.ts) must run a script the way npm does, or the
// workflow steps run through it would prove nothing: compared here with npm itself.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { npmStandIn } from "./helpers/npm-stand-in";

const STAND_IN = npmStandIn();

/** A package whose scripts print their arguments and working directory, or fail with a code. */
function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npm-parity-"));
  const scripts = {
    args: `node -e "console.log(JSON.stringify([process.argv.slice(1), process.cwd()]))"`,
    fails: "echo on stdout; echo on stderr >&2; exit 3",
    nested: "npm run --silent args -- from-nested",
  };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "parity", version: "1.0.0", private: true, scripts }));
  fs.mkdirSync(path.join(dir, "sub"));
  return dir;
}

const npm = (standIn: boolean, cwd: string, command: string) => {
  const r = spawnSync("sh", ["-c", command], { cwd, encoding: "utf8", env: { ...process.env, PATH: standIn ? `${STAND_IN}:${process.env.PATH}` : process.env.PATH } });
  return { status: r.status, stdout: r.stdout };
};

describe("the npm stand-in, against npm", () => {
  it("passes arguments through untouched, runs from the package's folder, keeps the script's exit code and stdout, and nests", () => {
    const dir = project();
    const commands = [`npm run --silent args -- "a b" 'c"d' '$HOME' --flag=x`, "npm run fails", "npm run args -- one two"];
    for (const command of commands) expect(npm(true, path.join(dir, "sub"), command), command).toEqual(npm(false, path.join(dir, "sub"), command));
    expect(JSON.parse(npm(true, dir, commands[0]).stdout)).toEqual([["a b", 'c"d', "$HOME", "--flag=x"], fs.realpathSync(dir)]);
    // A script that runs another (smoke:stack runs smoke) finds the stand-in again on PATH.
    expect(JSON.parse(npm(true, path.join(dir, "sub"), "npm run --silent nested").stdout)).toEqual([["from-nested"], fs.realpathSync(dir)]);
  });

  it("refuses what it does not stand in for, and a missing script, as failures", () => {
    const dir = project();
    expect(npm(true, dir, "npm install left-pad").status).toBe(97);
    expect(npm(true, dir, "npm run --silent nope").status).not.toBe(0);
  });
});
