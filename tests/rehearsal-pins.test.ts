import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { zenmlRequirementPins } from "../tools/gitops/requirement-pins";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readPin } from "../tools/gitops/pin-file";

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
const PINS = path.join(ROOT, "rehearsal", "pins.py");
const pinOf = (stack: string, key?: string) => spawnSync("python3", [PINS, stack, ...(key ? [key] : [])], { encoding: "utf8" });
/** rehearsal/pins.py's reading of a stack file: every config key, null for a list or a mapping. */
function pinsReading(file: string): Record<string, string | null> {
  const code = "import json, sys; from pathlib import Path; import pins\n" +
    "print(json.dumps({k: None if v is pins.NESTED else pins.scalar(v, k) for k, v in pins.read_config(Path(sys.argv[1])).items()}))";
  const r = spawnSync("python3", ["-c", code, file], { encoding: "utf8", env: { ...process.env, PYTHONPATH: path.join(ROOT, "rehearsal") } });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Record<string, string | null>;
}

describe("rehearsal/pins.py, the pin reader of shell and Python", () => {
  it("reads every key of both stack files as the yaml package does", () => {
    for (const stack of ["prod", "staging"]) {
      const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
      const config = (parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
      const expected = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v !== null && typeof v === "object" ? null : String(v)]));
      expect(pinsReading(file), stack).toEqual(expected);
    }
  });

  it("prints FROM (prod) and TO (staging), and any other key it is asked for", () => {
    for (const stack of ["prod", "staging"]) {
      const config = (parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
      const r = pinOf(stack);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${String(config["zenml-platform:zenmlVersion"])}\n`);
      expect(pinOf(stack, "dbEngineVersion").stdout).toBe(`${String(config["zenml-platform:dbEngineVersion"])}\n`);
    }
  });

  it("takes quotes, comments and keys outside config: as YAML does", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pins-"));
    const text = [
      "# zenml-platform:zenmlVersion: 0.1.0 in a comment",
      "encryptionsalt: v1:abc",
      "config:",
      "  aws:region: eu-west-1 # the region",
      "  zenml-platform:clusterViewerRoleArns:",
      "    - arn:aws:iam::123456789012:role/x # zenml-platform:zenmlVersion: 0.2.0",
      "  # zenml-platform:zenmlVersion: 0.3.0",
      '  zenml-platform:zenmlVersion: "0.98.1" # quoted',
      "  zenml-platform:mlflowVersion: 'it''s # not a comment'",
      "  zenml-platform:mlflowImage: \"\"",
      "other:",
      "  zenml-platform:zenmlVersion: 9.9.9",
      "",
    ].join("\n");
    const file = path.join(dir, "Pulumi.fixture.yaml");
    fs.writeFileSync(file, text);
    const config = (parse(text) as { config: Record<string, unknown> }).config;
    const read = pinsReading(file);
    expect(read).toEqual(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "object" ? null : String(v)])));
    expect(read["zenml-platform:zenmlVersion"]).toBe("0.98.1");
    expect(read["zenml-platform:mlflowVersion"]).toBe("it's # not a comment");
  });

  it("fails loudly, naming the file and key, for a missing stack, an empty value or a list instead of rehearsing nothing", () => {
    const missing = pinOf("no-such-stack");
    expect(missing.status).toBe(3);
    expect(missing.stderr).toMatch(/no zenml-platform:zenmlVersion in .*Pulumi\.no-such-stack\.yaml/);
    const empty = pinOf("staging", "mlflowVersion");
    expect(empty.status).toBe(3);
    expect(empty.stderr).toMatch(/zenml-platform:mlflowVersion in .*Pulumi\.staging\.yaml is empty/);
    const list = pinOf("staging", "clusterViewerRoleArns");
    expect(list.status).toBe(3);
    expect(list.stderr).toMatch(/zenml-platform:clusterViewerRoleArns in .*Pulumi\.staging\.yaml is not a single value/);
  });

  it("every CI script that needs the versions takes them from pins.py, not from a copy", () => {
    for (const script of [".ci/run.d/prepare-python.sh", "components/post-upgrade/run-tests.sh", "components/pre-upgrade/run-tests.sh", "rehearsal/rehearse.sh"]) {
      const text = fs.readFileSync(path.join(ROOT, script), "utf8");
      expect(text, script).toMatch(/rehearsal\/pins\.py" prod|rehearsal\/pins\.py prod/);
      expect(text, script).not.toMatch(/zenml-platform:zenmlVersion/);
    }
    for (const module of ["rehearsal/driver.py", "rehearsal/steps_mlflow.py"]) {
      const text = fs.readFileSync(path.join(ROOT, module), "utf8");
      expect(text, module).toMatch(/^import pins$/m);
      expect(text, module).not.toMatch(/Pulumi\.\{?stack|zenml-platform:/);
    }
  });
});

describe("the requirements' zenml pins follow the stack files", () => {
  it("every zenml== pin in a requirements file is staging's pin (the version CI tests and staging deploys next)", () => {
    const pins = zenmlRequirementPins(ROOT);
    expect(pins.map((p) => p.file).sort()).toEqual(expect.arrayContaining(["components/registration/requirements-client.txt", "components/registration/requirements.txt", "smoke/requirements.txt"]));
    expect(pins.flatMap((p) => p.problem ?? [])).toEqual([]);
  });

  it("a requirements pin moved alone (a Dependabot PR) fails, naming the file, its pin and the stack's", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-requirement-pins-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.staging.yaml"), path.join(dir, "Pulumi.staging.yaml"));
    fs.mkdirSync(path.join(dir, "smoke"));
    fs.writeFileSync(path.join(dir, "smoke", "requirements.txt"), "# client\nzenml==0.99.1\npytest==8.4.2\n");
    const staging = readPin(path.join(ROOT, "Pulumi.staging.yaml")).pin.value;
    expect(zenmlRequirementPins(dir).flatMap((p) => p.problem ?? [])).toEqual([
      `${path.join("smoke", "requirements.txt")} pins zenml==0.99.1, but Pulumi.staging.yaml pins zenmlVersion ${staging}: the version under test is staging's, move them together`,
    ]);
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
