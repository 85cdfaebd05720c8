// One temporary world for the engine suite: a project folder with this repository's Pulumi.yaml
// (its typed config schema) plus the local plugins, a `file://` backend with a passphrase secrets
// provider, and the real program (components/stack.ts) run inline by the Automation API, so the
// engine talks to the language runtime inside this process and no language host is needed.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type EngineEvent, type OpType, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { defineStack } from "../../components/stack";
import type { LiveVersionsByPart } from "../offline/outputs";
import { recordedLive } from "../offline/plan-inputs";
import { writePlugins } from "./plugins";
import { LIVE_FILE_ENV } from "./provider/serve";

export const PROJECT = "zenml-platform";
export const ORGANIZATION = "organization";
const PASSPHRASE = "engine-suite-only";

/** One step the engine took (or planned, in a preview). */
export interface Step {
  op: OpType;
  urn: string;
  type: string;
  /** Logical name: the URN's last part. */
  name: string;
  /** Inputs that differ (updates and replaces). */
  diffs: string[];
  /** Whether the resource being deleted is kept in the cloud (retainOnDelete). */
  retained: boolean;
  /** Order in which the engine started the step, and finished it (apply only). */
  started: number;
  finished?: number;
}

export interface Outcome {
  ok: boolean;
  steps: Step[];
  /** The program's or the engine's error, in a line or a few. */
  error?: string;
  warnings: string[];
  seconds: number;
}

/** The CLI's own `error:` lines from a failed command's output (when the engine reported no diagnostic). */
function cliErrors(message: string): string {
  const errors = message.split("\n").filter((l) => /^\s*error:/.test(l) && !/update failed|preview failed/.test(l)).map((l) => l.trim().replace(/^error:\s*/, ""));
  return errors.length > 0 ? [...new Set(errors)].join("\n") : message;
}

/** A resource as `pulumi stack export` shows it. */
export interface StateResource {
  urn: string;
  type: string;
  id?: string;
  parent?: string;
  protect?: boolean;
  retainOnDelete?: boolean;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  provider?: string;
  aliases?: string[];
}

/** Values a stack file may hold: scalars and lists, as in Pulumi.<stack>.yaml. */
export type ConfigValue = string | number | boolean | string[];

export class World {
  readonly dir: string;
  readonly backend: string;
  private readonly stacks = new Map<string, Stack>();
  private sequence = 0;
  /** Parts AWS moved on its own, by stack: what the live reads find instead of what the stack deployed. */
  readonly awsMoves = new Map<string, LiveVersionsByPart>();

  private constructor(
    readonly projectDir: string,
    private readonly command: PulumiCommand,
    readonly cliVersion: string,
    /** The folder whose bin/pulumi is the CLI (the Automation API's layout). */
    private readonly cliRoot: string,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-world-"));
    this.backend = path.join(this.dir, "backend");
    fs.mkdirSync(this.backend);
    fs.mkdirSync(path.join(this.dir, "home"));
    const project = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    // The program runs inline (in this process): no entry file, no language host options.
    delete project.main;
    project.runtime = "nodejs";
    project.plugins = { providers: writePlugins(path.join(this.dir, "plugins"), projectDir) };
    fs.mkdirSync(path.join(this.dir, "project"));
    fs.writeFileSync(path.join(this.dir, "project", "Pulumi.yaml"), stringify(project));
  }

  /** A world whose engine is the CLI at `cliPath`. */
  static async create(projectDir: string, cliPath: string): Promise<World> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "engine-cli-"));
    fs.mkdirSync(path.join(root, "bin"));
    fs.symlinkSync(cliPath, path.join(root, "bin", "pulumi"));
    const command = await PulumiCommand.get({ root, skipVersionCheck: true });
    return new World(projectDir, command, command.version?.toString() ?? "unknown", root);
  }

  get env(): Record<string, string> {
    return {
      PULUMI_BACKEND_URL: `file://${this.backend}`,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      PULUMI_HOME: path.join(this.dir, "home"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      // The engine starts the plugins with its own environment: the aws plugin finds the live versions here.
      [LIVE_FILE_ENV]: this.liveFile,
    };
  }

  /** Where the aws plugin reads what AWS runs for the stack being run (tools/engine/provider/serve.ts). */
  get liveFile(): string {
    return path.join(this.dir, "live.json");
  }

  /**
   * The program every update runs: the real one. The images we build have no digest in the lock for
   * the story's versions (no images workflow ran), so they are stood in for as in the offline plan;
   * the scenario "built image without a digest" runs it without, as a real deploy does.
   */
  static readonly program: PulumiFn = async () => defineStack({ standInBuiltImages: true });

  async stack(name: string): Promise<Stack> {
    const known = this.stacks.get(name);
    if (known) return known;
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: `${ORGANIZATION}/${name}`, projectName: PROJECT, program: World.program },
      { workDir: path.join(this.dir, "project"), envVars: this.env, pulumiCommand: this.command, secretsProvider: "passphrase" },
    );
    this.stacks.set(name, stack);
    return stack;
  }

  /** The stack's settings file in the project folder (its config as the engine reads it). */
  stackFile(name: string): string {
    return path.join(this.dir, "project", `Pulumi.${name}.yaml`);
  }

  /** Writes the stack's config: this repository's Pulumi.<stack>.yaml with `overrides` (keys without namespace) on top. */
  async configure(name: string, overrides: Record<string, ConfigValue> = {}, raw: Record<string, unknown> = {}): Promise<void> {
    await this.stack(name);
    const file = this.stackFile(name);
    const settings = (fs.existsSync(file) ? parse(fs.readFileSync(file, "utf8")) : {}) ?? {};
    const repoFile = path.join(this.projectDir, `Pulumi.${name}.yaml`);
    const repo = (fs.existsSync(repoFile) ? parse(fs.readFileSync(repoFile, "utf8")) : { config: {} }) as { config: Record<string, unknown> };
    const config: Record<string, unknown> = { ...repo.config };
    for (const [key, value] of Object.entries(overrides)) config[key.includes(":") ? key : `${PROJECT}:${key}`] = value;
    fs.writeFileSync(file, stringify({ ...settings, config: { ...config, ...raw } }));
  }

  private collector(): { onEvent: (e: EngineEvent) => void; steps: Step[]; diagnostics: string[]; warnings: string[] } {
    const steps: Step[] = [];
    const diagnostics: string[] = [];
    const warnings: string[] = [];
    const onEvent = (event: EngineEvent) => {
      const pre = event.resourcePreEvent?.metadata;
      if (pre) {
        const urn = pre.urn;
        steps.push({ op: pre.op, urn, type: pre.type, name: urn.split("::").slice(3).join("::"), diffs: pre.diffs ?? [], retained: pre.old?.retainOnDelete === true, started: ++this.sequence });
      }
      const done = event.resOutputsEvent?.metadata;
      if (done) {
        const step = [...steps].reverse().find((s) => s.urn === done.urn && s.op === done.op && s.finished === undefined);
        if (step) step.finished = ++this.sequence;
      }
      const diag = event.diagnosticEvent;
      if (diag?.severity === "error") diagnostics.push(diag.message.trim());
      if (diag?.severity === "warning") warnings.push(diag.message.trim());
    };
    return { onEvent, steps, diagnostics, warnings };
  }

  /** The stack's outputs as its last update left them in the backend (secrets as ciphertext); empty before its first. */
  deployedOutputs(name: string): Record<string, unknown> {
    const file = this.stateFile(name);
    if (!fs.existsSync(file)) return {};
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as { checkpoint?: { latest?: { resources?: StateResource[] } } };
    return state.checkpoint?.latest?.resources?.find((r) => r.type === "pulumi:pulumi:Stack")?.outputs ?? {};
  }

  /** What the stack's last update deployed of the parts AWS can move, from its `versionHistory`; empty before its first. */
  deployedVersions(name: string): LiveVersionsByPart {
    return recordedLive(this.deployedOutputs(name));
  }

  private async run(kind: "up" | "preview" | "destroy", name: string, program?: PulumiFn): Promise<Outcome> {
    const stack = await this.stack(name);
    // AWS runs what the stack's last update deployed, unless a scenario says AWS moved a part since.
    fs.writeFileSync(this.liveFile, JSON.stringify({ ...this.deployedVersions(name), ...this.awsMoves.get(name) }));
    const { onEvent, steps, diagnostics, warnings } = this.collector();
    const t0 = Date.now();
    try {
      if (kind === "up") await stack.up({ onEvent, program });
      else if (kind === "preview") await stack.preview({ onEvent, program });
      else await stack.destroy({ onEvent });
      return { ok: true, steps, warnings, seconds: (Date.now() - t0) / 1000 };
    } catch (err) {
      const message = diagnostics.length > 0 ? diagnostics.join("\n") : cliErrors(err instanceof Error ? err.message : String(err));
      return { ok: false, steps, error: message, warnings, seconds: (Date.now() - t0) / 1000 };
    }
  }

  up(name: string, program?: PulumiFn): Promise<Outcome> {
    return this.run("up", name, program);
  }

  preview(name: string, program?: PulumiFn): Promise<Outcome> {
    return this.run("preview", name, program);
  }

  destroy(name: string): Promise<Outcome> {
    return this.run("destroy", name);
  }

  /** The stack's state file in the backend, as the engine wrote it. */
  stateFile(name: string): string {
    return path.join(this.backend, ".pulumi", "stacks", PROJECT, `${name}.json`);
  }

  /** The stack's resources as the state holds them, secrets in plain text (`pulumi stack export --show-secrets`). */
  async resources(name: string): Promise<StateResource[]> {
    const stack = await this.stack(name);
    return ((await stack.exportStack()).deployment as { resources?: StateResource[] }).resources ?? [];
  }

  /** The stack's deployment, for editing and importing back (secrets in plain text). */
  async exportDeployment(name: string): Promise<{ version: number; deployment: Record<string, unknown> }> {
    const stack = await this.stack(name);
    return (await stack.exportStack()) as unknown as { version: number; deployment: Record<string, unknown> };
  }

  async importDeployment(name: string, state: { version: number; deployment: Record<string, unknown> }): Promise<void> {
    const stack = await this.stack(name);
    await stack.importStack(state as never);
  }

  async outputs(name: string): Promise<Record<string, unknown>> {
    const stack = await this.stack(name);
    return Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]));
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.rmSync(this.cliRoot, { recursive: true, force: true });
  }
}

