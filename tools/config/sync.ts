// `npm run config:sync [-- --check]`: writes Pulumi.yaml's config block and docs/CONFIG.md from the
// config schema. Exit 0 written (or up to date), 1 out of date with --check, 2 bad usage.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { PROJECT_FILE, REFERENCE_FILE, configReference, syncProjectFile } from "./generate";

const USAGE = `usage: npm run config:sync [-- --check] [--dir DIR]
  Writes ${PROJECT_FILE}'s config block (type, description, default of every key) and ${REFERENCE_FILE}
  from the config schema, components/config/schema.ts. Comments in ${PROJECT_FILE} are kept.
  --check    write nothing; exit 1 and name each file that is out of date
  --dir DIR  the project to sync (default: this checkout)
Exit codes: 0 written or up to date, 1 out of date (--check), 2 bad usage.`;

const TOOL: ToolSpec = { name: "config:sync", usage: USAGE };

/** Each generated file and the text the schema gives it. */
export function expectedFiles(projectDir: string): { file: string; current: string; expected: string }[] {
  const read = (file: string) => {
    const full = path.join(projectDir, file);
    return fs.existsSync(full) ? fs.readFileSync(full, "utf8") : "";
  };
  const project = read(PROJECT_FILE);
  return [
    { file: PROJECT_FILE, current: project, expected: syncProjectFile(project) },
    { file: REFERENCE_FILE, current: read(REFERENCE_FILE), expected: configReference() },
  ];
}

export async function main(argv: string[], io: CliIo, _env: CliEnv): Promise<number> {
  return runTool(TOOL, io, () => {
    const { values } = parseArgs({
      args: argv,
      options: { check: { type: "boolean" }, dir: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    const projectDir = path.resolve(values.dir ?? path.join(__dirname, "..", ".."));
    const stale = expectedFiles(projectDir).filter((f) => f.current !== f.expected);
    for (const f of stale) {
      if (values.check) io.stderr(`${TOOL.name}: ${f.file} is out of date: run npm run config:sync\n`);
      else {
        fs.writeFileSync(path.join(projectDir, f.file), f.expected);
        io.stdout(`${TOOL.name}: wrote ${f.file}\n`);
      }
    }
    if (stale.length === 0) io.stdout(`${TOOL.name}: ${PROJECT_FILE} and ${REFERENCE_FILE} match the schema\n`);
    return values.check && stale.length > 0 ? 1 : 0;
  });
}
