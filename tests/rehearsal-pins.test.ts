import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..");
const pinOf = (stack: string) => spawnSync("bash", [path.join(ROOT, "rehearsal/pin.sh"), stack], { encoding: "utf8" });

describe("the rehearsal follows the pins", () => {
  it("reads FROM (prod) and TO (staging) from the stack files, as YAML reads them", () => {
    for (const stack of ["prod", "staging"]) {
      const file = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
      const r = pinOf(stack);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(String(file.config["zenml-platform:zenmlVersion"]));
    }
  });

  it("fails loudly for a stack file without a pin instead of rehearsing nothing", () => {
    const r = pinOf("no-such-stack");
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/no zenml-platform:zenmlVersion in .*Pulumi\.no-such-stack\.yaml/);
  });

  it("every CI script that needs the versions takes them from pin.sh, not from a copy", () => {
    for (const script of [".ci/run.d/prepare-python.sh", "post_upgrade/run-tests.sh", "rehearsal/rehearse.sh"]) {
      const text = fs.readFileSync(path.join(ROOT, script), "utf8");
      expect(text, script).toMatch(/rehearsal\/pin\.sh" prod|rehearsal\/pin\.sh prod/);
      expect(text, script).not.toMatch(/zenml-platform:zenmlVersion/);
    }
  });
});

describe("rehearsal/ensure-venv.sh, called by suites that start together", () => {
  it("reuses a current venv in every caller: none sees a half-written requirements file and rebuilds it under the others", async () => {
    const venvs = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-venvs-"));
    const script = path.join(ROOT, "rehearsal", "ensure-venv.sh");
    // PYTHON=/bin/false: a rebuild fails at once instead of installing anything.
    const env = { ...process.env, PYTHON: "/bin/false" };
    spawnSync("bash", [script, "0.98.0", venvs], { env, stdio: "ignore" });
    const venv = path.join(venvs, "zenml-0.98.0");
    fs.mkdirSync(path.join(venv, "bin"), { recursive: true });
    fs.writeFileSync(path.join(venv, "bin", "python"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    fs.copyFileSync(path.join(venvs, "zenml-0.98.0.requirements.txt"), path.join(venv, ".ok"));
    const runs = await Promise.all(
      Array.from({ length: 16 }, () => new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn("bash", [script, "0.98.0", venvs], { env });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code, stderr }));
      })),
    );
    expect(runs.filter((r) => r.code !== 0 || /building/.test(r.stderr))).toEqual([]);
  }, 60_000);
});
