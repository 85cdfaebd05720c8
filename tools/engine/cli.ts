// The Pulumi CLI the engine suite runs: the one on PATH when it is the SDK's version, else the one
// built from the Go module proxy into a cache outside the checkout (one file per version), built
// there once by tools/engine/build-cli.sh. A build already under way, by another run or by anyone
// writing that file, is waited for, never started twice.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Where built CLIs are kept: <cache>/<version>/pulumi (ZENML_PULUMI_CLI_CACHE moves it). */
export const cliCache = () => process.env.ZENML_PULUMI_CLI_CACHE ?? path.join(os.homedir(), ".cache", "zenml-platform", "pulumi-cli");

export interface Cli {
  path: string;
  version: string;
  /** "PATH", "cache" or "built" (this run built it). */
  source: "PATH" | "cache" | "built";
}

/** The SDK version pinned in package.json, which the CLI must match. */
export function sdkVersion(projectDir: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  return pkg.dependencies["@pulumi/pulumi"];
}

/** `pulumi version` of a binary, or undefined when it cannot run. */
export function versionOf(binary: string): string | undefined {
  try {
    return execFileSync(binary, ["version"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" }, stdio: ["ignore", "pipe", "ignore"] }).trim().replace(/^v/, "");
  } catch {
    return undefined;
  }
}

function onPath(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "pulumi");
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A process (this machine's) whose command line names the file being built. */
export function buildInFlight(target: string): boolean {
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (cmd.includes(target) && /\bbuild\b/.test(cmd)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds <version>.lock while building; a lock whose owner died is taken over. */
function tryLock(lock: string): boolean {
  try {
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
    return true;
  } catch {
    const owner = Number(fs.readFileSync(path.join(lock, "pid"), { encoding: "utf8", flag: "a+" }) || 0);
    try {
      if (owner) process.kill(owner, 0);
      return false;
    } catch {
      fs.rmSync(lock, { recursive: true, force: true });
      return tryLock(lock);
    }
  }
}

async function build(version: string, target: string, log: (line: string) => void): Promise<void> {
  const script = path.join(__dirname, "build-cli.sh");
  const logFile = path.join(path.dirname(target), "build.log");
  log(`building the Pulumi CLI ${version} from the Go module proxy into ${target} (~15 min; log ${logFile})`);
  const out = fs.openSync(logFile, "w");
  const child = spawn("bash", [script, version, target], { stdio: ["ignore", out, out] });
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`building the Pulumi CLI ${version} failed (exit ${code}); see ${logFile}`);
}

/** The CLI at the SDK's version, building it once into the cache if neither PATH nor the cache has it. */
export async function obtainCli(version: string, log: (line: string) => void = () => undefined, pollMs = 5000): Promise<Cli> {
  const ambient = onPath();
  if (ambient && versionOf(ambient) === version) return { path: ambient, version, source: "PATH" };
  const target = path.join(cliCache(), version, "pulumi");
  const lock = path.join(cliCache(), `${version}.lock`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  let waited = false;
  for (;;) {
    const inFlight = buildInFlight(target);
    if (!inFlight && fs.existsSync(target) && versionOf(target) === version) return { path: target, version, source: "cache" };
    if (!inFlight && tryLock(lock)) {
      try {
        if (fs.existsSync(target) && versionOf(target) === version) return { path: target, version, source: "cache" };
        await build(version, target, log);
        return { path: target, version, source: "built" };
      } finally {
        fs.rmSync(lock, { recursive: true, force: true });
      }
    }
    if (!waited) log(`waiting for the Pulumi CLI ${version} being built into ${target}`);
    waited = true;
    await sleep(pollMs);
  }
}
