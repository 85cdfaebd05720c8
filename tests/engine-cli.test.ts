// How the engine suite obtains the Pulumi CLI (tools/engine/cli.ts): the one on PATH at the SDK's
// version, else the cached build; a build under way is waited for, never started twice.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildInFlight, obtainCli, sdkVersion } from "../tools/engine/cli";
import { PROJECT_DIR } from "./helpers/plan";

const version = sdkVersion(PROJECT_DIR);

function fakeCli(dir: string, prints: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "pulumi");
  fs.writeFileSync(file, `#!/bin/sh\necho ${prints}\n`, { mode: 0o755 });
  return file;
}

afterEach(() => vi.unstubAllEnvs());

describe("the Pulumi CLI of the engine suite", () => {
  it("is the one on PATH when it is the SDK's version", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "cli-path-"));
    fakeCli(bin, `v${version}`);
    vi.stubEnv("PATH", `${bin}${path.delimiter}${process.env.PATH}`);
    expect(await obtainCli(version)).toEqual({ path: path.join(bin, "pulumi"), version, source: "PATH" });
  });

  it("is the cached build when PATH has another version", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "cli-path-"));
    fakeCli(bin, "v3.100.0");
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cli-cache-"));
    const cached = fakeCli(path.join(cache, version), `v${version}`);
    vi.stubEnv("PATH", `${bin}${path.delimiter}${process.env.PATH}`);
    vi.stubEnv("ZENML_PULUMI_CLI_CACHE", cache);
    expect(await obtainCli(version)).toEqual({ path: cached, version, source: "cache" });
  });

  it("waits for a build under way instead of starting another", async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cli-cache-"));
    const target = path.join(cache, version, "pulumi");
    vi.stubEnv("ZENML_PULUMI_CLI_CACHE", cache);
    const shellPath = process.env.PATH;
    vi.stubEnv("PATH", "/nonexistent");
    // Another "build" of the same file: its command line names the target; it writes the binary after a moment.
    const script = `sleep 0.6; mkdir -p ${path.dirname(target)}; printf '#!/bin/sh\\necho v${version}\\n' > ${target}; chmod +x ${target}`;
    const builder = spawn("/bin/bash", ["-c", script, `go build -o ${target}`], { env: { PATH: shellPath } });
    await new Promise((r) => setTimeout(r, 100));
    expect(buildInFlight(target)).toBe(true);
    const lines: string[] = [];
    const cli = await obtainCli(version, (l) => lines.push(l), 100);
    builder.kill();
    expect(cli).toEqual({ path: target, version, source: "cache" });
    expect(lines).toEqual([`waiting for the Pulumi CLI ${version} being built into ${target}`]);
    expect(fs.existsSync(path.join(cache, `${version}.lock`))).toBe(false);
  });
});
