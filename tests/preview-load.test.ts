// What `pulumi preview`/`up` runs: the SDK's own program runner (@pulumi/pulumi/cmd/run), started
// the way the Node language host starts it from Pulumi.yaml's runtime options, against the offline
// mocks. The fast loader must run the same program, and type safety must stay with the CI check.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { previewLoadCommand, projectRuntimeOptions } from "../tools/bench/preview-load";
import { PROJECT_DIR, plan } from "./helpers/plan";

describe("Pulumi.yaml's runtime options", () => {
  it("load and run the whole program through the SDK's runner, registering what the offline plan registers", async () => {
    const command = previewLoadCommand(PROJECT_DIR, "staging", projectRuntimeOptions(PROJECT_DIR));
    fs.rmSync(command.report, { force: true });
    const run = spawnSync(process.execPath, command.argv, { cwd: PROJECT_DIR, env: { ...process.env, ...command.env }, encoding: "utf8" });
    expect(run.stderr + run.stdout).not.toMatch(/error|unhandled/i);
    expect(run.status).toBe(0);
    const { registered } = JSON.parse(fs.readFileSync(command.report, "utf8")) as { registered: string[] };
    const planned = (await plan("staging")).resources.map((r) => r.type);
    // The runner registers the root stack itself; the plan lists what the program registers under it.
    expect(registered.filter((t) => t !== "pulumi:pulumi:Stack").sort()).toEqual([...planned].sort());
  });

  it("skip the runner's own type-check, which every file it loads gets from `npm run typecheck` instead", () => {
    const options = projectRuntimeOptions(PROJECT_DIR);
    expect(options.typescript).toBe(false);
    expect(options.nodeargs).toBe("--require ./tools/loader/register.cjs");
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.typecheck).toBe("tsgo --noEmit -p tsconfig.json");
    const tsconfig = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "tsconfig.json"), "utf8")) as { include: string[]; compilerOptions: Record<string, unknown> };
    expect(tsconfig.compilerOptions.noCheck).toBeUndefined();
    const main = (parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as { main: string }).main;
    expect(tsconfig.include).toEqual(expect.arrayContaining([main, "components/**/*.ts", "policy/**/*.ts"]));
    // ...and a pull request runs it: a type error still fails the PR.
    const workflows = fs.readdirSync(path.join(PROJECT_DIR, ".github", "workflows")).map((f) => fs.readFileSync(path.join(PROJECT_DIR, ".github", "workflows", f), "utf8"));
    expect(workflows.some((w) => /pull_request/.test(w) && /run: npm run typecheck\b/.test(w))).toBe(true);
  });

  it("type-check with a compiler that fails on a type error under the project's options (tsgo, TypeScript's native port)", () => {
    // Inside the project, so that `types: ["node"]` resolves as it does for the real config.
    fs.mkdirSync(path.join(PROJECT_DIR, "node_modules", ".cache"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(PROJECT_DIR, "node_modules", ".cache", "zenml-typecheck-"));
    try {
      fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ extends: path.join(PROJECT_DIR, "tsconfig.json"), compilerOptions: { incremental: false }, include: ["broken.ts", "fine.ts"], exclude: [] }));
      fs.writeFileSync(path.join(dir, "fine.ts"), "export const replicas: number = 2;\n");
      fs.writeFileSync(path.join(dir, "broken.ts"), 'import { replicas } from "./fine";\nexport const label: string = replicas;\n');
      const run = spawnSync(path.join(PROJECT_DIR, "node_modules", ".bin", "tsgo"), ["--noEmit", "-p", path.join(dir, "tsconfig.json")], { encoding: "utf8" });
      expect(run.status).not.toBe(0); // a PR whose type-check step exits non-zero fails
      expect(run.stdout).toMatch(/broken\.ts\(2,14\): error TS2322: Type 'number' is not assignable to type 'string'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("report a TypeScript error in the program with the .ts file and line, not the transpiled ones", () => {
    const dir = fs.mkdtempSync(path.join(PROJECT_DIR, "tools", ".loader-test-"));
    try {
      const file = path.join(dir, "boom.ts");
      fs.writeFileSync(file, ["interface Shape { size: number }", "const shape: Shape = { size: 1 };", "", "", "function explode(): never {", "  throw new Error(`size ${shape.size}`);", "}", "explode();", ""].join("\n"));
      const run = spawnSync(process.execPath, ["--require", path.join(PROJECT_DIR, "tools", "loader", "register.cjs"), file], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`at explode (${file}:6:9)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
