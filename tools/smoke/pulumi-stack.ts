// Reads the server URL and version pin of a deployed stack from `pulumi stack output --json`.
import { execFileSync } from "node:child_process";
import { UsageError } from "../cli-io";
import { normalizeUrl } from "./args";

export interface StackTarget {
  url: string;
  version: string;
  /** The ZenML stack the environment registers (output zenmlStackName), when it reports one. */
  zenmlStack?: string;
}

// Output names the Pulumi program (components/stack.ts) exports.
const URL_KEYS = ["serverUrl"];
const VERSION_KEYS = ["zenmlVersion"];

/** Pure: picks url + version out of the parsed outputs object. */
export function targetFromOutputs(outputs: Record<string, unknown>, stack: string): StackTarget {
  const pick = (keys: string[]) => keys.map((k) => outputs[k]).find((v): v is string => typeof v === "string" && v.length > 0);
  const url = pick(URL_KEYS);
  const version = pick(VERSION_KEYS);
  if (!url) throw new UsageError(`stack ${stack} has no output ${URL_KEYS.join("/")}`);
  if (!version) throw new UsageError(`stack ${stack} has no output ${VERSION_KEYS.join("/")}`);
  const zenmlStack = pick(["zenmlStackName"]);
  return { url: normalizeUrl(url), version, ...(zenmlStack ? { zenmlStack } : {}) };
}

export function readStackTarget(stack: string): StackTarget {
  return targetFromOutputs(readStackOutputs(stack), stack);
}

/** `pulumi stack output --json` of a stack; secrets stay hidden unless a caller needs one in memory. */
export function readStackOutputs(stack: string, options: { showSecrets?: boolean } = {}): Record<string, unknown> {
  let out: string;
  try {
    out = execFileSync("pulumi", ["stack", "output", "--json", `--show-secrets=${options.showSecrets === true}`, "--stack", stack], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") {
      throw new UsageError("--stack needs the pulumi CLI, which is not on PATH; install it or pass --url and --expect-version");
    }
    throw new UsageError(`pulumi stack output failed for stack ${stack}: ${(err.stderr ?? err.message).trim().split("\n")[0]}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out);
  } catch {
    throw new UsageError(`pulumi stack output for ${stack} is not JSON`);
  }
  return parsed as Record<string, unknown>;
}
