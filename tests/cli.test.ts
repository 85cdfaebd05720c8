// One CLI shape: every npm script that runs our TypeScript goes through tools/cli.cjs, and a tool's
// bad usage always reads `<tool>: <message>` plus its usage, exit 2.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { TOOLS } from "../tools/cli.cjs";
import { UsageError, runTool, type CliMain, type ToolSpec } from "../tools/cli-io";
import { captureIo } from "./helpers/cli";
import { PROJECT_DIR } from "./helpers/plan";

const SCRIPTS = (
  JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(PROJECT_DIR, "tools", "cli.cjs"), ...args], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
  });

describe("tools/cli.cjs, the one entry", () => {
  it("runs every npm script that starts node on our TypeScript, each tool under its script's name", () => {
    const viaNode = Object.entries(SCRIPTS).filter(
      ([, command]) => command.startsWith("node ") && !command.startsWith("node -p"),
    );
    expect(viaNode.map(([name, command]) => [name, command])).toEqual(
      viaNode.map(([name]) => [name, `node tools/cli.cjs ${name}`]),
    );
    expect(Object.values(SCRIPTS).filter((c) => c.includes("--require"))).toEqual([]);
    expect(Object.keys(TOOLS).sort()).toEqual(viaNode.map(([name]) => name).sort());
    for (const [name, tool] of Object.entries(TOOLS))
      expect(fs.existsSync(path.join(PROJECT_DIR, tool.file)), name).toBe(true);
  });

  it("finds main(argv, io, env) in each tool of the shared shape", () => {
    for (const [name, tool] of Object.entries(TOOLS)) {
      if (tool.shape !== "main") continue;
      const source = fs.readFileSync(path.join(PROJECT_DIR, tool.file), "utf8");
      expect(source, name).toMatch(/export async function main\(\s*argv: string\[\],\s*io: CliIo,\s*_?env: CliEnv\b/);
      expect(source, name).not.toContain("require.main");
      expect(source, name).not.toContain("process.exit");
    }
  });

  it("in every tool of the shared shape, an unknown flag is exit 2 with `<tool>: <message>` and the usage", async () => {
    for (const [name, tool] of Object.entries(TOOLS)) {
      if (tool.shape !== "main") continue;
      const { main } = (await import(path.join(PROJECT_DIR, tool.file))) as { main: CliMain };
      const r = await captureIo((io) => main(["--no-such-flag"], io, {}));
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toMatch(new RegExp(`^${name}: Unknown option '--no-such-flag'.*\n[Uu]sage: `));
    }
  });

  it("refuses an unknown tool with the list (exit 2), and runs a tool of either shape as its script would", () => {
    const unknown = cli("smok");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(
      /^cli: unknown tool "smok"\nusage: node tools\/cli\.cjs <tool> \[args\.\.\.\]; tools: .*\bsmoke\b/,
    );
    const bad = cli("pin-images", "--bogus");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^pin-images: Unknown option '--bogus'.*\nusage: npm run pin-images/);
    const script = cli("pin-changes", "--help");
    expect(script).toMatchObject({
      status: 0,
      stdout:
        "usage: npm run --silent pin-changes -- --base <rev> [--dir .]\nPrints <stack> <part> <from> <to> per changed pin.\n",
    });
  });
});

describe("runTool", () => {
  const spec: ToolSpec = {
    name: "demo",
    usage: "usage: npm run demo -- --x\n",
    badInput: (err) => err instanceof RangeError,
  };
  const run = (body: () => number) => captureIo((io) => runTool(spec, io, body));

  it("prints `<tool>: <message>` and the usage for bad usage, exit 2", async () => {
    expect(
      await run(() => {
        throw new UsageError("--x is required");
      }),
    ).toEqual({ code: 2, stdout: "", stderr: "demo: --x is required\nusage: npm run demo -- --x\n" });
  });

  it("prints the message alone for bad input, exit 2, and lets a bug through", async () => {
    expect(
      await run(() => {
        throw new RangeError("Pulumi.qa.yaml not found");
      }),
    ).toEqual({ code: 2, stdout: "", stderr: "demo: Pulumi.qa.yaml not found\n" });
    await expect(
      run(() => {
        throw new TypeError("a bug");
      }),
    ).rejects.toThrow("a bug");
    expect(await run(() => 1)).toEqual({ code: 1, stdout: "", stderr: "" });
  });
});
