// The reviewed catalogue of pipelines each environment deploys (pipelines/<stack>.yaml), and the
// digest that names the post-upgrade Job. Reading and validation happen before any resource is
// registered; every problem is reported at once, naming the file and the entry.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UserFacingError } from "../errors";
import { digestOf } from "../kit/digest";

export const CATALOGUE_DIR = "pipelines";
// The post-upgrade Job's contract with the tools that wait for it (kept here: no Pulumi import).
export const POST_UPGRADE_NAMESPACE = "zenml";
export const POST_UPGRADE_CONTAINER = "post-upgrade";
/** The line of the Job's log that carries its JSON report (post_upgrade.py REPORT_PREFIX). */
export const POST_UPGRADE_REPORT_PREFIX = "POST_UPGRADE_REPORT ";
/** A ConfigMap holds at most 1 MiB; leave room for the script and the catalogue itself. */
export const MAX_BUNDLED_BYTES = 768 * 1024;
const BUNDLED_FILE = /\.(py|ya?ml|json|txt|csv)$/;

const NAME = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/;
const MODULE_PIPELINE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$/;
// Five cron fields: minute hour day-of-month month day-of-week (what a Kubernetes CronJob accepts).
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const REL_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9_./-]+$/;
const GIT_REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

const name = z.string().regex(NAME, "must be lowercase letters, digits, '-' or '_', 1..63 characters");
const relPath = z.string().regex(REL_PATH, "must be a relative path without '..'");

const sourceSchema = z.union([
  z.object({ path: relPath }).strict(),
  z.object({ repo: z.string().regex(/^https:\/\/[^\s@]+\.git$/, "must be an https:// git URL ending in .git"), ref: z.string().regex(GIT_REF, "must be a tag, branch or commit") }).strict(),
]);

const entrySchema = z
  .object({
    name,
    /** Where the code lives: a folder of this repo, or a git repository at a reviewed ref. */
    source: sourceSchema,
    pipeline: z.string().regex(MODULE_PIPELINE, 'must be "module:pipeline", e.g. "training.pipelines:train"'),
    /** ZenML run configuration (YAML), relative to the source root. */
    config: relPath,
    snapshot: name,
    runTemplate: name.optional(),
    schedule: z.object({ name, cron: z.string().refine((c) => { const f = c.trim().split(/\s+/); return f.length === 5 && f.every((x) => CRON_FIELD.test(x)); }, "must be a 5-field cron expression, e.g. \"0 3 * * *\"") }).strict().optional(),
    /** The one smoke run after an upgrade: a run configuration with mock data, agreed with the team. */
    smoke: z.object({ config: relPath }).strict(),
  })
  .strict();

const ignoredSchema = z.object({ kind: z.enum(["snapshot", "run_template", "schedule"]), name: z.string().min(1), reason: z.string().trim().min(10, "must say why (at least 10 characters)") }).strict();

const catalogueSchema = z.object({ pipelines: z.array(z.unknown()), ignored: z.array(z.unknown()).default([]) }).strict();

export type CatalogueEntry = z.infer<typeof entrySchema>;
export type IgnoredItem = z.infer<typeof ignoredSchema>;

export interface PipelineCatalogue {
  environment: string;
  pipelines: CatalogueEntry[];
  ignored: IgnoredItem[];
}

/** Files of the in-repo sources, keyed by path relative to the repo root; bundled into the Job. */
export type SourceFiles = Record<string, string>;

function issueText(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.join(".") + ": " : ""}${i.message}`);
}

/** Pure: validates a parsed catalogue; `exists` says whether a repo-relative path exists. */
export function validateCatalogue(environment: string, raw: unknown, exists: (repoPath: string) => boolean): { catalogue?: PipelineCatalogue; problems: string[] } {
  const problems: string[] = [];
  const top = catalogueSchema.safeParse(raw ?? {});
  if (!top.success) return { problems: issueText(top.error.issues) };
  const pipelines: CatalogueEntry[] = [];
  top.data.pipelines.forEach((item, index) => {
    const label = typeof (item as { name?: unknown })?.name === "string" ? `entry "${(item as { name: string }).name}"` : `entry #${index + 1}`;
    const parsed = entrySchema.safeParse(item);
    if (!parsed.success) {
      for (const line of issueText(parsed.error.issues)) problems.push(`${label}: ${line}`);
      return;
    }
    const e = parsed.data;
    if ("path" in e.source) {
      const root = e.source.path;
      if (!exists(root)) problems.push(`${label}: source.path: ${root} does not exist in this repository`);
      else {
        const moduleFile = `${root}/${e.pipeline.split(":")[0].replace(/\./g, "/")}.py`;
        if (!exists(moduleFile)) problems.push(`${label}: pipeline: module file ${moduleFile} does not exist`);
        for (const [key, rel] of [["config", e.config], ["smoke.config", e.smoke.config]] as const) {
          if (!exists(`${root}/${rel}`)) problems.push(`${label}: ${key}: ${root}/${rel} does not exist`);
        }
      }
    }
    pipelines.push(e);
  });
  // Names are global on the server: two entries must never own the same snapshot, template or schedule.
  const seen = new Map<string, string>();
  for (const e of pipelines) {
    // A run template names its own snapshot too (ZenML renames the template's source snapshot).
    const owned: [string, string | undefined, string][] = [["entry", e.name, "entry"], ["snapshot", e.snapshot, "snapshot"], ["run template", e.runTemplate, "snapshot"], ["schedule", e.schedule?.name, "schedule"]];
    for (const [kind, value, space] of owned) {
      if (value === undefined) continue;
      const key = `${space}:${value}`;
      if (seen.has(key)) problems.push(`entry "${e.name}": ${kind} name "${value}" is already used by entry "${seen.get(key)}"${space === "snapshot" ? " (a run template names its own snapshot)" : ""}`);
      else seen.set(key, e.name);
    }
  }
  const ignored: IgnoredItem[] = [];
  top.data.ignored.forEach((item, index) => {
    const parsed = ignoredSchema.safeParse(item);
    if (!parsed.success) for (const line of issueText(parsed.error.issues)) problems.push(`ignored #${index + 1}: ${line}`);
    else ignored.push(parsed.data);
  });
  return problems.length ? { problems } : { catalogue: { environment, pipelines, ignored }, problems };
}

export function cataloguePath(projectDir: string, environment: string): string {
  return path.join(projectDir, CATALOGUE_DIR, `${environment}.yaml`);
}

/** Reads and validates pipelines/<environment>.yaml; throws one UserFacingError listing every problem. */
export function readCatalogue(projectDir: string, environment: string): PipelineCatalogue {
  const file = cataloguePath(projectDir, environment);
  const rel = path.relative(projectDir, file);
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserFacingError(err.code === "ENOENT" ? `Pipeline catalogue ${rel} is missing for stack "${environment}" (an empty one is "pipelines: []")` : `Pipeline catalogue ${rel} is not valid YAML: ${err.message.split("\n")[0]}`);
  }
  const { catalogue, problems } = validateCatalogue(environment, raw, (p) => fs.existsSync(path.join(projectDir, p)));
  if (!catalogue) throw new UserFacingError(`Invalid pipeline catalogue ${rel} for stack "${environment}":\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return catalogue;
}

/** The files of every in-repo source folder (code and configs), to ship with the Job. */
export function bundleSources(projectDir: string, catalogue: PipelineCatalogue): SourceFiles {
  const files: SourceFiles = {};
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(projectDir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = `${rel}/${d.name}`;
      if (d.isDirectory() && !d.name.startsWith(".") && d.name !== "__pycache__") walk(child);
      else if (d.isFile() && BUNDLED_FILE.test(d.name)) files[child] = fs.readFileSync(path.join(projectDir, child), "utf8");
    }
  };
  for (const root of new Set(catalogue.pipelines.flatMap((e) => ("path" in e.source ? [e.source.path] : [])))) walk(root);
  const size = Object.values(files).reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (size > MAX_BUNDLED_BYTES) throw new UserFacingError(`Pipeline catalogue for stack "${catalogue.environment}": in-repo sources are ${size} bytes, more than a ConfigMap can carry (${MAX_BUNDLED_BYTES}); move them to a git source`);
  return files;
}

/** Short digest naming the post-upgrade Job: a new version, catalogue, source file or script means a new Job. */
export function postUpgradeDigest(zenmlVersion: string, catalogue: PipelineCatalogue, sources: SourceFiles, script: string): string {
  const files = Object.keys(sources).sort().flatMap((key) => [key, sources[key]]);
  return digestOf(zenmlVersion, JSON.stringify(catalogue), ...files, script);
}
