// `npm run lock-images -- --image post-upgrade|mlflow --version X.Y.Z [--dir .]`
// Writes a built image's requirements for one version: locks/<prefix>-<version>.in (the short input
// with the version and, for the post-upgrade Job, what that ZenML exports for the stack's
// integrations) and locks/<prefix>-<version>.txt, resolved by uv with every artifact's hash, so the
// same pin always installs the same packages. A lock that exists keeps its pins (uv prefers them).
// Exit 0 written, 1 the install or resolution failed, 2 bad input.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  BASE_PYTHON,
  BUILT_IMAGES,
  lockCommand,
  lockedInputFile,
  lockedRequirementsFile,
  type BuiltImage,
  type BuiltImageName,
} from "../../components/kit/built-images";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";

const USAGE = `usage: npm run lock-images -- --image ${Object.keys(BUILT_IMAGES).join("|")} --version X.Y.Z [--dir .]
  Writes <image dir>/locks/<name>-<version>.in and the hashed .txt the Dockerfile installs.
`;

export class LockError extends Error {}

/** Runs a command, its output into ours only when it fails. */
export type Runner = (cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) => string;
const run: Runner = (cmd, args, options) => {
  try {
    return execFileSync(cmd, args, { ...options, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new LockError(
      `${path.basename(cmd)} ${args.slice(0, 3).join(" ")} failed: ${(e.stderr ?? e.message).trim().split("\n").slice(-5).join("\n")}`,
    );
  }
};

/** The short input with the version substituted; refuses an input that does not name it. */
export function expandInput(text: string, image: BuiltImage, version: string): string {
  const placeholder = `\${${image.versionArg}}`;
  if (!text.includes(placeholder))
    throw new LockError(`${image.dir}/${image.input} must pin its package at ${placeholder}`);
  return text.split(placeholder).join(version);
}

/** What ZenML `version` exports for the integrations, from a venv holding exactly that client. */
function zenmlIntegrationRequirements(
  projectDir: string,
  image: BuiltImage,
  version: string,
  runner: Runner,
): string[] {
  const venv = path.join(projectDir, ".cache", "venvs", `zenml-client-${version}`);
  const reqs = `${venv}.requirements.txt`;
  fs.mkdirSync(path.dirname(venv), { recursive: true });
  fs.writeFileSync(reqs, `zenml==${version}\n`);
  runner("bash", [path.join(projectDir, "rehearsal", "build-venv.sh"), venv, reqs], { cwd: projectDir });
  const out = path.join(venv, "integrations.txt");
  runner(
    path.join(venv, "bin", "zenml"),
    ["integration", "export-requirements", "--output-file", out, ...image.zenmlIntegrations],
    {
      cwd: projectDir,
      env: { ...process.env, ZENML_ANALYTICS_OPT_IN: "false", ZENML_CONFIG_PATH: path.join(venv, "zenml-config") },
    },
  );
  // ZenML lists them in no stable order, some twice.
  return [
    ...new Set(
      fs
        .readFileSync(out, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ].sort((a, b) => a.localeCompare(b));
}

export function lockRequirements(
  projectDir: string,
  image: BuiltImage,
  version: string,
  runner: Runner = run,
): { input: string; lock: string } {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new LockError(`--version must be X.Y.Z, got "${version}"`);
  let input = expandInput(fs.readFileSync(path.join(projectDir, image.dir, image.input), "utf8"), image, version);
  if (image.zenmlIntegrations.length > 0) {
    const extra = zenmlIntegrationRequirements(projectDir, image, version, runner);
    input += `# zenml integration export-requirements ${image.zenmlIntegrations.join(" ")} (ZenML ${version}):\n${extra.join("\n")}\n`;
  }
  const inputFile = lockedInputFile(image, version);
  const lockFile = lockedRequirementsFile(image, version);
  fs.mkdirSync(path.join(projectDir, path.dirname(inputFile)), { recursive: true });
  fs.writeFileSync(
    path.join(projectDir, inputFile),
    `# Written by \`${lockCommand(image, version)}\` from ${image.input}: edit that, not this.\n${input}`,
  );
  const uv = runner("bash", [path.join(projectDir, "rehearsal", "build-venv.sh"), "--uv"], { cwd: projectDir }).trim();
  // Universal: one lock for amd64 and arm64 nodes; the base image's Python; every artifact hashed.
  runner(
    uv,
    [
      "pip",
      "compile",
      "--quiet",
      "--universal",
      "--python-version",
      BASE_PYTHON,
      "--generate-hashes",
      "--custom-compile-command",
      lockCommand(image, version),
      "--output-file",
      lockFile,
      inputFile,
    ],
    { cwd: projectDir },
  );
  return { input: inputFile, lock: lockFile };
}

const TOOL: ToolSpec = { name: "lock-images", usage: USAGE };

export async function main(argv: string[], io: CliIo, _env: CliEnv): Promise<number> {
  return runTool(TOOL, io, () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        image: { type: "string" },
        version: { type: "string" },
        dir: { type: "string", default: process.cwd() },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    const image = BUILT_IMAGES[values.image as BuiltImageName] as BuiltImage | undefined;
    if (!image || !values.version)
      throw new UsageError(`--image (${Object.keys(BUILT_IMAGES).join(", ")}) and --version are required`);
    try {
      const written = lockRequirements(values.dir, image, values.version);
      io.stdout(`${written.input}\n${written.lock}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof LockError)) throw err;
      io.stderr(`lock-images: ${err.message}\n`);
      return /must be X\.Y\.Z|must pin/.test(err.message) ? 2 : 1;
    }
  });
}
