// Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI would hand them to the program:
// every value a string, project defaults applied, `secure:` values replaced by a placeholder.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const SECRET_PLACEHOLDER = "[secret]";

export interface ProjectConfigDecl {
  type: "string" | "integer" | "boolean" | "array";
  description?: string;
  default?: unknown;
  items?: { type: string };
}

export interface ProjectFile {
  name: string;
  config: Record<string, ProjectConfigDecl>;
}

export interface StackConfig {
  /** Fully qualified key -> the string Pulumi would pass. */
  values: Record<string, string>;
  /** Keys whose value was `secure:` and is only a placeholder offline. */
  secretKeys: string[];
}

export class StackFileError extends Error {}

// A plan reads Pulumi.yaml and every stack file several times (its own config, what each stack
// pins); parsing them again each time was a tenth of a plan. Keyed by content, handed out as copies.
const parsedYaml = new Map<string, unknown>();
function parseYamlFile(file: string): unknown {
  const text = fs.readFileSync(file, "utf8");
  if (!parsedYaml.has(text)) {
    if (parsedYaml.size >= 64) parsedYaml.clear();
    parsedYaml.set(text, parse(text));
  }
  return structuredClone(parsedYaml.get(text));
}

export function readProjectFile(projectDir: string): ProjectFile {
  const file = path.join(projectDir, "Pulumi.yaml");
  const doc = parseYamlFile(file) as { name?: string; config?: Record<string, ProjectConfigDecl> } | null;
  if (!doc?.name) throw new StackFileError(`${file}: no project name`);
  return { name: doc.name, config: doc.config ?? {} };
}

export function stackFilePath(projectDir: string, stack: string): string {
  return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

export function listStacks(projectDir: string): string[] {
  return fs
    .readdirSync(projectDir)
    .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function toConfigString(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** The config as written in one stack file, keys qualified, `secure:` values replaced; no defaults. */
export function readWrittenConfig(file: string, projectName: string): StackConfig {
  let doc: { config?: Record<string, unknown> } | null;
  try {
    doc = parseYamlFile(file) as { config?: Record<string, unknown> } | null;
  } catch (err) {
    throw new StackFileError(`${path.basename(file)} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const unqualified = Object.keys(doc?.config ?? {}).filter((k) => !k.includes(":"));
  if (unqualified.length > 0) {
    // Pulumi files them under the project, where they silently override the qualified key that bump/promote edit.
    const lines = unqualified.map((k) => `  - ${k.length > 80 ? `${k.slice(0, 80)}…` : k}: write it as ${projectName}:${k.length > 80 ? "…" : k}${`${projectName}:${k}` in (doc?.config ?? {}) ? ", and keep only one of the two (this one overrides it)" : ""}`);
    throw new StackFileError(`${path.basename(file)}: keys without a namespace are refused:\n${lines.join("\n")}`);
  }
  for (const [rawKey, value] of Object.entries(doc?.config ?? {})) {
    const key = rawKey;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
      values[key] = SECRET_PLACEHOLDER;
      secretKeys.push(key);
    } else {
      values[key] = toConfigString(value);
    }
  }
  return { values, secretKeys };
}

/** The config a `pulumi up -s <stack>` would see, offline: project defaults, then the stack file. */
export function readStackConfig(projectDir: string, stack: string, file = stackFilePath(projectDir, stack)): StackConfig {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new StackFileError(`"${stack}" is not a valid stack name`);
  if (!fs.existsSync(file)) {
    const known = listStacks(projectDir);
    throw new StackFileError(`No stack file for "${stack}" (${path.basename(file)} not found; stacks: ${known.join(", ") || "none"})`);
  }
  const project = readProjectFile(projectDir);
  const defaults: Record<string, string> = {};
  for (const [key, decl] of Object.entries(project.config)) {
    if (decl.default !== undefined) defaults[`${project.name}:${key}`] = toConfigString(decl.default);
  }
  const written = readWrittenConfig(file, project.name);
  return { values: { ...defaults, ...written.values }, secretKeys: written.secretKeys };
}
