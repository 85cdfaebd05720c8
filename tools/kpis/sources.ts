// Where the KPIs come from: deploy records (a folder of them, or GitHub's artifacts through gh),
// the ZenML API (the server's version and its pipeline runs of the last days, with the client
// version each run recorded) and the package index (each release's upload date).
import * as fs from "node:fs";
import * as path from "node:path";
import { type DeployRecord, parseRecord } from "../gitops/deploy-record";
import { ghSources, PROD_WORKFLOW, STAGING_WORKFLOW } from "../gitops/staging-gate";
import { requestJson } from "../smoke/http";
import type { ClientRun } from "./kpis";

/** Every deploy record (*.json) in a folder, e.g. artifacts downloaded by hand or test fixtures. */
export function recordsFromDir(dir: string): DeployRecord[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => parseRecord(fs.readFileSync(path.join(dir, f), "utf8")))
    .filter((r): r is DeployRecord => r !== undefined);
}

/** The stack's deploy runs (last 100) and their records; a record without its time takes the run's. */
export function recordsFromGitHub(stack: string, repo: string | undefined, env: NodeJS.ProcessEnv): DeployRecord[] {
  const sources = ghSources(repo, process.cwd(), env);
  const [workflow, branch] = stack === "prod" ? [PROD_WORKFLOW, "main"] : [STAGING_WORKFLOW, "staging"];
  return sources
    .runs(workflow, branch)
    .filter((run) => run.status === "completed")
    .flatMap((run) => {
      const record = sources.record(run, stack);
      return record ? [{ ...record, recordedAt: record.recordedAt ?? run.createdAt, runUrl: record.runUrl ?? run.url }] : [];
    });
}

/** Records from several sources, once each (a run's own record is also among its artifacts). */
export function uniqueRecords(records: DeployRecord[]): DeployRecord[] {
  const seen = new Map<string, DeployRecord>();
  for (const r of records) seen.set(`${r.runUrl ?? ""}|${r.sha}|${r.recordedAt ?? ""}`, r);
  return [...seen.values()];
}

const TIMEOUT_MS = 20_000;
// A page of hydrated runs carries each run's configuration: far more than the smoke check's 1 MiB.
const PAGE_BYTES = 32 << 20;

/** ZenML's filter syntax for datetimes: "gte:%Y-%m-%d %H:%M:%S" (UTC). */
export const createdSince = (since: Date) => `gte:${since.toISOString().slice(0, 19).replace("T", " ")}`;

interface RunPage {
  items?: { body?: { user_id?: string; created?: string }; metadata?: { client_environment?: { zenml_version?: string } }; resources?: { user?: { name?: string } | null } }[];
  total_pages?: number;
}

export async function zenmlRuns(serverUrl: string, apiKey: string, since: Date): Promise<{ serverVersion: string; runs: ClientRun[] }> {
  const login = await requestJson({ method: "POST", url: `${serverUrl}/api/v1/login`, form: { password: apiKey }, timeoutMs: TIMEOUT_MS });
  const token = (login.body as { access_token?: string }).access_token;
  if (!token) throw new Error("login answered without an access_token");
  const headers = { authorization: `Bearer ${token}` };
  const version = (await requestJson({ method: "GET", url: `${serverUrl}/api/v1/version`, headers, timeoutMs: TIMEOUT_MS })).body;
  if (typeof version !== "string") throw new Error(`/api/v1/version answered ${JSON.stringify(version)?.slice(0, 40)}, not a version`);
  const runs: ClientRun[] = [];
  for (let page = 1, pages = 1; page <= pages; page++) {
    const query = new URLSearchParams({ created: createdSince(since), hydrate: "true", size: "100", page: String(page), sort_by: "asc:created" });
    const body = (await requestJson({ method: "GET", url: `${serverUrl}/api/v1/runs?${query}`, headers, timeoutMs: TIMEOUT_MS, maxBytes: PAGE_BYTES })).body as RunPage;
    pages = body.total_pages ?? 1;
    for (const item of body.items ?? []) {
      runs.push({
        user: item.resources?.user?.name ?? item.body?.user_id ?? "(unknown user)",
        // The environment of the client that started the run (a snapshot's creator for runs from a snapshot).
        clientVersion: item.metadata?.client_environment?.zenml_version ?? null,
        created: item.body?.created ?? "",
      });
    }
  }
  return { serverVersion: version, runs };
}

/** Each release's first upload time, from the package index's JSON API (the release watch reads the same). */
export async function releaseDates(url = "https://pypi.org/pypi/zenml/json"): Promise<Record<string, string>> {
  const body = (await requestJson({ method: "GET", url, timeoutMs: TIMEOUT_MS, maxBytes: 64 << 20 })).body as { releases?: Record<string, { upload_time_iso_8601?: string }[]> };
  const dates: Record<string, string> = {};
  for (const [version, files] of Object.entries(body.releases ?? {})) {
    const first = files.map((f) => f.upload_time_iso_8601).filter((t): t is string => typeof t === "string").sort()[0];
    if (first) dates[version] = first;
  }
  return dates;
}
