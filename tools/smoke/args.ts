// Command-line parsing for the server smoke check. Pure: no I/O, no process access.
import { parseArgs } from "node:util";
import { UsageError } from "../cli-io";

export const DEFAULT_DEPLOYMENT = "kubernetes";

export interface SmokeOptions {
  /** Server base URL without trailing slash, e.g. https://zenml.staging.example.com */
  url?: string;
  /** Pulumi stack to read `serverUrl` / `zenmlVersion` from (instead of --url / --expect-version). */
  stack?: string;
  /** Exact server version expected from /api/v1/info. */
  expectVersion?: string;
  /** deployment_type expected from /api/v1/info. Default "kubernetes" (the Helm chart's value). */
  expectDeployment: string;
  /** database_type expected from /api/v1/info. Default "mysql". */
  expectDatabase: string;
  /** Name of a ZenML stack that must exist (optional). */
  expectStack?: string;
  /** Per-request timeout in seconds. Default 10. */
  timeoutSec: number;
  /** Retries per step on transient failures (rollout in progress). Default 5. */
  retries: number;
  /** First backoff delay in ms; doubles on each retry, capped at maxBackoffMs. Default 1000. */
  backoffMs: number;
  /** Cap on one backoff delay. Default 30000. */
  maxBackoffMs: number;
  /** Emit the JSON report on stdout instead of the table. */
  json: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm run smoke -- (--url <server url> --expect-version <X.Y.Z> | --stack <pulumi stack>) [options]

  --url <url>               ZenML server base URL (http/https)
  --expect-version <X.Y.Z>  server version that /api/v1/info must report
  --stack <name>            read url + version from \`pulumi stack output --json\` (needs the pulumi CLI)
  --expect-deployment <t>   expected deployment_type (default ${DEFAULT_DEPLOYMENT}; a local server reports "other")
  --expect-database <t>     expected database_type (default mysql)
  --expect-stack <name>     a ZenML stack with this name must exist
  --timeout <seconds>       per-request timeout (default 10)
  --retries <n>             retries per step while the server rolls out (default 5)
  --backoff-ms <ms>         first retry delay, doubled each retry (default 1000, capped by --max-backoff-ms 30000)
  --json                    print a JSON report instead of the table
  -h, --help

Environment: ZENML_API_KEY (required): a service-account API key; it is never printed.
Exit codes: 0 all steps passed, 1 a step failed, 2 usage/configuration error.`;

function num(name: string, raw: string | undefined, def: number, min: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    throw new UsageError(`--${name} must be a number >= ${min}, got "${raw}"`);
  }
  return n;
}

const VERSION_RE = /^\d+\.\d+\.\d+([-.+][0-9A-Za-z.-]+)?$/;

export function normalizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url is not a valid URL: "${raw}"`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new UsageError(`--url must be http(s), got "${u.protocol}"`);
  }
  if (u.username || u.password) {
    throw new UsageError("--url must not embed credentials");
  }
  return u.toString().replace(/\/+$/, "");
}

export function parseSmokeArgs(argv: string[]): SmokeOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: "string" },
        stack: { type: "string" },
        "expect-version": { type: "string" },
        "expect-deployment": { type: "string" },
        "expect-database": { type: "string" },
        "expect-stack": { type: "string" },
        timeout: { type: "string" },
        retries: { type: "string" },
        "backoff-ms": { type: "string" },
        "max-backoff-ms": { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  const opts: SmokeOptions = {
    url: v.url !== undefined ? normalizeUrl(v.url) : undefined,
    stack: v.stack,
    expectVersion: v["expect-version"],
    expectDeployment: v["expect-deployment"] ?? DEFAULT_DEPLOYMENT,
    expectDatabase: v["expect-database"] ?? "mysql",
    expectStack: v["expect-stack"],
    timeoutSec: num("timeout", v.timeout, 10, 0.001),
    retries: Math.floor(num("retries", v.retries, 5, 0)),
    backoffMs: num("backoff-ms", v["backoff-ms"], 1000, 0),
    maxBackoffMs: num("max-backoff-ms", v["max-backoff-ms"], 30000, 0),
    json: v.json ?? false,
    help: v.help ?? false,
  };
  if (opts.help) return opts;
  if (opts.stack !== undefined && opts.url !== undefined) {
    throw new UsageError("use either --url or --stack, not both");
  }
  if (opts.stack === undefined) {
    if (opts.url === undefined) throw new UsageError("--url (or --stack) is required");
    if (opts.expectVersion === undefined) throw new UsageError("--expect-version is required with --url");
  }
  if (opts.expectVersion !== undefined && !VERSION_RE.test(opts.expectVersion)) {
    throw new UsageError(`--expect-version must look like X.Y.Z, got "${opts.expectVersion}"`);
  }
  return opts;
}

/** Delay before retry number `attempt` (1-based): backoff * 2^(attempt-1), capped. */
export function backoffDelay(attempt: number, backoffMs: number, maxBackoffMs: number): number {
  return Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, attempt - 1));
}
