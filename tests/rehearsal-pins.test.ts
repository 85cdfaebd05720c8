import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..");
/** Started without waiting, so that callers run at once, as the suites of a CI run do. */
function bashAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", args, { env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}
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
    for (const script of [".ci/run.d/prepare-python.sh", "components/post-upgrade/run-tests.sh", "components/pre-upgrade/run-tests.sh", "rehearsal/rehearse.sh"]) {
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
    const runs = await Promise.all(Array.from({ length: 16 }, () => bashAsync([script, "0.98.0", venvs], env)));
    expect(runs.filter((r) => r.code !== 0 || /building/.test(r.stderr))).toEqual([]);
  }, 60_000);
});

describe("rehearsal/build-venv.sh, several venvs built at once on a machine without uv yet", () => {
  it("bootstraps the shared uv once, and no build runs or deletes a uv another is still writing", async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-uv-bootstrap-"));
    const installs = path.join(work, "uv-installs.log");
    // A stand-in Python whose venv's pip "installs" uv slowly, executable before it is complete, as a
    // real wheel unpacks: a build that took the half-written uv for ready failed with "Text file busy".
    const fakePython = path.join(work, "python");
    fs.writeFileSync(fakePython, `#!/bin/bash
set -e
[[ "$1 $2" == "-m venv" ]] || exit 1
mkdir -p "$3/bin"
cat > "$3/bin/pip" <<'PIP'
#!/bin/bash
bin="$(dirname "$0")"
echo install >> "${installs}"
printf '#!/bin/bash\\nexit 9\\n' > "$bin/uv"; chmod +x "$bin/uv"
sleep 0.4
printf '#!/bin/bash\\n[[ "$1" == venv ]] && mkdir -p "\${@: -1}/bin"\\nexit 0\\n' > "$bin/uv"
PIP
chmod +x "$3/bin/pip"
`, { mode: 0o755 });
    const reqs = path.join(work, "requirements.txt");
    fs.writeFileSync(reqs, "zenml==0.98.0\n");
    const env = { ...process.env, PYTHON: fakePython, ZENML_PLATFORM_TOOLS_CACHE: path.join(work, "tools") };
    const runs = await Promise.all(["a", "b", "c", "d"].map((name) => bashAsync([path.join(ROOT, "rehearsal", "build-venv.sh"), path.join(work, "venvs", name), reqs], env)));
    expect(runs.filter((r) => r.code !== 0)).toEqual([]);
    expect(fs.readFileSync(installs, "utf8").trim().split("\n")).toEqual(["install"]);
    for (const name of ["a", "b", "c", "d"]) expect(fs.readFileSync(path.join(work, "venvs", name, ".ok"), "utf8")).toBe("zenml==0.98.0\n");
  }, 60_000);
});
