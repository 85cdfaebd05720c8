// `npm run plan -- --stack <name> [--json] [--deployed-version X.Y.Z] [--source-version X.Y.Z] [--deployed-mlflow-version X.Y.Z] [--set key=value]...`
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ORGANIZATION, ProgramFailed, runPlan, steadyStateOutputs, type Plan } from "./offline/plan";
import { StackFileError, listStacks, readProjectFile } from "./offline/stack-files";
import { renderTree } from "./offline/render";

const USAGE = `usage: npm run plan -- --stack <name> [--json] [--deployed-version X.Y.Z|none] [--source-version X.Y.Z]

  --stack             stack to plan (a Pulumi.<stack>.yaml next to Pulumi.yaml)
  --json              print one JSON document instead of a tree
  --deployed-version  what the stack runs now (default: the version its file pins; "none" = first deploy)
  --source-version    what the promotion source stack runs (default: the version its file pins)
  --deployed-mlflow-version  the MLflow version the stack runs now (default: its file's mlflowVersion)
  --set key=value     override one config key of the stack file (repeatable), e.g. --set mlflowVersion=3.17.2`;

function fail(message: string, code = 2): never {
  process.stderr.write(`plan: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        stack: { type: "string" },
        json: { type: "boolean", default: false },
        "deployed-version": { type: "string" },
        "source-version": { type: "string" },
        "deployed-mlflow-version": { type: "string" },
        set: { type: "string", multiple: true },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const projectDir = path.resolve(__dirname, "..");
  if (!args.stack) fail(`--stack is required (stacks: ${listStacks(projectDir).join(", ")})\n${USAGE}`);
  const project = readProjectFile(projectDir).name;
  const stackOutputs = steadyStateOutputs(projectDir, project);
  const self = `${ORGANIZATION}/${project}/${args.stack}`;
  const deployed = args["deployed-version"];
  if (deployed === "none") delete stackOutputs[self];
  else if (deployed) stackOutputs[self] = { zenmlVersion: deployed, zenmlVersionHistory: [deployed] };
  const source = args["source-version"];
  if (source) {
    for (const name of Object.keys(stackOutputs)) if (name !== self) stackOutputs[name] = { zenmlVersion: source, zenmlVersionHistory: [source] };
  }

  const mlflowDeployed = args["deployed-mlflow-version"];
  if (mlflowDeployed) stackOutputs[self] = { ...(stackOutputs[self] ?? {}), mlflowVersion: mlflowDeployed, mlflowVersionHistory: [mlflowDeployed] };
  const overrides: Record<string, string> = {};
  for (const pair of args.set ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) fail(`--set takes key=value, got "${pair}"\n${USAGE}`);
    const key = pair.slice(0, eq);
    overrides[key.includes(":") ? key : `${project}:${key}`] = pair.slice(eq + 1);
  }

  let plan: Plan;
  try {
    plan = await runPlan({ stack: args.stack, projectDir, stackOutputs, overrides });
  } catch (err) {
    if (err instanceof StackFileError) fail(err.message);
    if (err instanceof ProgramFailed && err.userFacing) {
      const created = err.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference").length;
      fail(`${err.message}\n(${created} resources registered before the program stopped)`);
    }
    throw err;
  }
  for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(args.json ? JSON.stringify(plan, null, 2) + "\n" : renderTree(plan));
}

main().catch((err: unknown) => fail(`internal error: ${err instanceof Error ? err.stack : String(err)}`, 1));
