// Where the release watch learns what is out, from the source each part's users trust: PyPI for
// ZenML and MLflow (and pip, for whether a release and our pinned dependencies install), the AWS
// APIs for Kubernetes, the EKS add-ons and the MySQL engine (read-only calls). Tests answer from
// fixtures: RELEASE_WATCH_PYPI (a base URL) and RELEASE_WATCH_AWS_FIXTURES (a folder of the JSON
// the aws CLI prints).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { WatchError } from "./release-watch";

interface PypiFile { yanked?: boolean; packagetype?: string }
/** PyPI's JSON API answer for a project (only the part read here). */
export interface PypiProject { releases: Record<string, PypiFile[]> }

/** `aws eks describe-cluster-versions` (the part read here). */
export interface ClusterVersions { clusterVersions: { clusterVersion: string; versionStatus?: string; status?: string; endOfStandardSupportDate?: string }[] }
/** `aws eks describe-addon-versions --addon-name X`. */
export interface AddonVersions { addons: { addonName: string; addonVersions: { addonVersion: string; compatibilities: { clusterVersion: string; defaultVersion?: boolean }[] }[] }[] }
/** `aws rds describe-db-engine-versions --engine mysql`. */
export interface EngineVersions { DBEngineVersions: { EngineVersion: string; DBParameterGroupFamily?: string; Status?: string; ValidUpgradeTarget?: { EngineVersion: string; IsMajorVersionUpgrade?: boolean }[] }[] }
/** `aws rds describe-db-major-engine-versions --engine mysql`. */
export interface MajorEngineVersions { DBMajorEngineVersions: { MajorEngineVersion: string; SupportedEngineLifecycles?: { LifecycleSupportName: string; LifecycleSupportEndDate: string }[] }[] }

export interface ReleaseSources {
  pypi(project: string): Promise<PypiProject>;
  clusterVersions(): ClusterVersions;
  addonVersions(addon: string): AddonVersions;
  engineVersions(): EngineVersions;
  majorEngineVersions(): MajorEngineVersions;
  /** Whether pip can install these requirement lines together (undefined), or why not. */
  installProblem(requirements: string[]): string | undefined;
}

async function fetchJson(url: string): Promise<unknown> {
  let response: Response | undefined;
  // One retry: a kept-alive connection the server just closed fails the first attempt.
  for (let attempt = 1; !response; attempt++) {
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(30_000), headers: { accept: "application/json" } });
    } catch (err) {
      if (attempt >= 2) throw new WatchError(`cannot reach ${url} (offline?): ${(err as Error).message}`, 1);
    }
  }
  if (!response.ok) throw new WatchError(`${url} answered HTTP ${response.status}`, 1);
  return response.json();
}

/** One read-only AWS call, or its fixture: `<folder>/<service>-<operation>[-<qualifier>].json`. */
function aws(env: NodeJS.ProcessEnv, service: string, operation: string, args: string[], qualifier?: string): unknown {
  const fixtures = env.RELEASE_WATCH_AWS_FIXTURES;
  if (fixtures) {
    const file = path.join(fixtures, `${service}-${operation}${qualifier ? `-${qualifier}` : ""}.json`);
    if (!fs.existsSync(file)) throw new WatchError(`no fixture ${file}`, 1);
    return JSON.parse(fs.readFileSync(file, "utf8"));
  }
  const run = spawnSync("aws", [service, operation, ...args, "--output", "json"], { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
  if (run.error || run.status !== 0) throw new WatchError(`aws ${service} ${operation} failed: ${run.error?.message ?? run.stderr.trim().split("\n").at(-1)}`, 1);
  return JSON.parse(run.stdout);
}

/** pip's own resolver, without installing: the release with every pin we keep beside it. */
function pipInstallProblem(requirements: string[], env: NodeJS.ProcessEnv): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-watch-"));
  try {
    const file = path.join(dir, "requirements.txt");
    fs.writeFileSync(file, requirements.join("\n") + "\n");
    const pip = spawnSync(env.PYTHON ?? "python3", ["-m", "pip", "install", "--dry-run", "--ignore-installed", "--disable-pip-version-check", "--quiet", "--retries", "1", "--timeout", "20", "-r", file], { encoding: "utf8", env, maxBuffer: 16 * 1024 * 1024 });
    if (pip.error) throw new WatchError(`cannot run pip: ${pip.error.message}`, 1);
    if (pip.status === 0) return undefined;
    const lines = `${pip.stderr}\n${pip.stdout}`.split("\n").map((l) => l.trim()).filter(Boolean);
    return lines.find((l) => /^ERROR: (Could not find|No matching|Cannot install|ResolutionImpossible)/.test(l)) ?? lines.at(-1) ?? `pip exited ${pip.status}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function defaultSources(env: NodeJS.ProcessEnv = process.env): ReleaseSources {
  // Deciding and applying ask about the same candidates: pip answers each set once per run.
  const installProblems = new Map<string, string | undefined>();
  const pypiBase = (env.RELEASE_WATCH_PYPI ?? "https://pypi.org/pypi").replace(/\/$/, "");
  return {
    pypi: async (project) => (await fetchJson(`${pypiBase}/${project}/json`)) as PypiProject,
    clusterVersions: () => aws(env, "eks", "describe-cluster-versions", []) as ClusterVersions,
    addonVersions: (addon) => aws(env, "eks", "describe-addon-versions", ["--addon-name", addon], addon) as AddonVersions,
    engineVersions: () => aws(env, "rds", "describe-db-engine-versions", ["--engine", "mysql"], "mysql") as EngineVersions,
    majorEngineVersions: () => aws(env, "rds", "describe-db-major-engine-versions", ["--engine", "mysql"], "mysql") as MajorEngineVersions,
    installProblem: (requirements) => {
      const key = requirements.join("\n");
      if (!installProblems.has(key)) installProblems.set(key, pipInstallProblem(requirements, env));
      return installProblems.get(key);
    },
  };
}

/** The requirement lines a release must install with: the files that pin the server beside it. */
export function pinnedRequirements(projectDir: string, project: string, version: string): string[] {
  const read = (file: string) =>
    fs
      .readFileSync(path.join(projectDir, file), "utf8")
      .split("\n")
      .map((l) => l.replace(/\s*#.*$/, "").trim())
      .filter(Boolean);
  if (project === "mlflow") return read("components/mlflow/image/requirements.txt").map((l) => l.replace("${MLFLOW_VERSION}", version));
  // What the rehearsal, the smoke suite and the registration tests install (rehearsal/ensure-venv.sh).
  const lines = [...read("smoke/requirements.txt"), ...read("components/registration/requirements.txt")].map((l) => l.replace(/^zenml(\[[^\]]*\])?==.*/, `zenml[server,connectors-aws]==${version}`));
  return [...new Set(lines)];
}
