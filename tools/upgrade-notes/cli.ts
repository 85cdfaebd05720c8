// `npm run upgrade-notes -- [--part <part>] --from <v> --to <v> [--stack staging] [--json]`: the
// upgrade dossier of one part's move on stdout (Markdown for a PR, or JSON for ZenML and MLflow).
// Exit 2 + one line per problem for a bad request (unknown version, downgrade, bad flag); exit 1
// when it cannot be built (offline, unreadable wheel, a plan that fails).
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PARTS, compareDotted, partsInOrder } from "../../components/parts";
import type { CliEnv, CliIo } from "../cli-io";
import { planOnDemand, type Plan, type Planner } from "../offline/plan-result";
import { buildDossier, DossierError, renderMarkdown, type Project } from "./dossier";
import { partDossierMarkdown } from "./part-dossier";

const USAGE = `usage: npm run upgrade-notes -- [--part <${partsInOrder()
  .map((p) => p.name)
  .join("|")}>] --from <version> --to <version> [--stack staging] [--json]`;
const OPTIONS = {
  part: { type: "string", default: "zenml" },
  from: { type: "string" },
  to: { type: "string" },
  stack: { type: "string", default: "staging" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const args = (argv: string[]) =>
  parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;

/** Whether this request's dossier reads the stack's plan (Kubernetes, MySQL). */
export function needsPlan(argv: string[]): { stack: string } | undefined {
  try {
    const v = args(argv);
    return v.part === "kubernetes" || v.part === "mysql" ? { stack: v.stack! } : undefined;
  } catch {
    return undefined; // upgradeNotes reports the bad flag
  }
}

/** The dossier, synchronously; `plan` is the stack's plan for the parts that read it. */
export function upgradeNotes(argv: string[], projectDir = path.resolve(__dirname, "../.."), plan?: Plan): CliResult {
  try {
    const values = args(argv);
    if (values.help) return { code: 0, stdout: USAGE + "\n", stderr: "" };
    const rule = PARTS[values.part!];
    if (!rule)
      throw new DossierError(
        `unknown part "${values.part}" (parts: ${partsInOrder()
          .map((p) => p.name)
          .join(", ")})`,
        2,
      );
    if (rule.releases.kind === "pypi") {
      const dossier = buildDossier(projectDir, values.from, values.to, { project: rule.releases.project as Project });
      return {
        code: 0,
        stdout: values.json ? JSON.stringify(dossier, null, 2) + "\n" : renderMarkdown(dossier),
        stderr: "",
      };
    }
    const problems = [
      ["--from", values.from],
      ["--to", values.to],
    ].flatMap(([flag, v]) =>
      v === undefined
        ? [`${flag} is required`]
        : rule.explainBadVersion(v)
          ? [`${flag} ${rule.explainBadVersion(v)}`]
          : [],
    );
    if (values.json)
      problems.push(`--json is for the parts whose dossier is data (zenml, mlflow); ${rule.name}'s is Markdown`);
    if (problems.length > 0) throw new DossierError(problems.join("\n"), 2);
    if (compareDotted(values.to!, values.from!) < 0)
      throw new DossierError(`refusing ${values.from} -> ${values.to}: that is a downgrade (${rule.noDowngrade})`, 2);
    return { code: 0, stdout: partDossierMarkdown(projectDir, rule.name, values.from!, values.to!, plan), stderr: "" };
  } catch (err) {
    // A bad flag: the reason, then the usage (tools/cli-io.ts's shape); a refused request: its reasons only.
    if ((err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"))
      return { code: 2, stdout: "", stderr: `upgrade-notes: ${(err as Error).message.split("\n")[0]}\n${USAGE}\n` };
    return {
      code: err instanceof DossierError ? err.exitCode : 1,
      stdout: "",
      stderr: (err as Error).message
        .split("\n")
        .map((l) => `upgrade-notes: ${l}\n`)
        .join(""),
    };
  }
}

/** The whole CLI: plans the stack first when the part's dossier reads it (`planner` stands in for that plan in tests). */
export async function main(
  argv: string[],
  io: CliIo,
  _env: CliEnv,
  planner: Planner = planOnDemand,
  projectDir = path.resolve(__dirname, "../.."),
): Promise<number> {
  const planned = needsPlan(argv);
  let plan: Plan | undefined;
  if (planned) {
    try {
      plan = await planner({ stack: planned.stack, projectDir });
    } catch (err) {
      io.stderr(`upgrade-notes: the plan of ${planned.stack} failed: ${(err as Error).message.split("\n")[0]}\n`);
      return 1;
    }
  }
  const r = upgradeNotes(argv, projectDir, plan);
  io.stdout(r.stdout);
  io.stderr(r.stderr);
  return r.code;
}
