// `npm run plan -- --stack <name> [--json] [--deployed part=version ...] [--live part=version ...] [--deployed-version X.Y.Z] [--source-version X.Y.Z] [--set key=value ...]`
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ORGANIZATION, historyOutputs, recordedLive, steadyStateOutputs } from "./offline/plan-inputs";
import { ProgramFailed, planOnDemand, type Plan, type Planner } from "./offline/plan-result";
import { EKS_ADDONS, PARTS, addonPart, partsInOrder } from "../components/parts";
import { mockAddonVersion } from "./offline/mocks";
import { StackFileError, listStacks, readProjectFile, readStackConfig } from "./offline/stack-files";
import { renderTree } from "./offline/render";
import { upgradeReportMarkdown } from "../components/upgrade-report";
import type { PartReportEntry } from "../components/version-policy";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "./cli-io";

const PART_NAMES = partsInOrder().map((p) => p.name);
const LIVE_PARTS = partsInOrder()
  .filter((p) => p.live)
  .map((p) => p.name);

const USAGE = `usage: npm run plan -- --stack <name> [--json|--report] [--deployed <part>=<version> ...] [--live <part>=<version> ...] [--deployed-version X.Y.Z|none] [--source-version X.Y.Z]

  --stack             stack to plan (a Pulumi.<stack>.yaml next to Pulumi.yaml)
  --json              print one JSON document instead of a tree
  --report            print only the upgrade report, as a Markdown table (the PR comment's)
  --deployed          what the stack's records say one part runs, repeatable: ${PART_NAMES.join(", ")}
                      (e.g. --deployed zenml=0.97.0 --deployed kubernetes=1.33 --deployed mysql=8.4);
                      parts not given run what the file pins
  --live              what AWS runs now for a part it can move on its own, repeatable: ${LIVE_PARTS.join(", ")}
                      (e.g. --live kubernetes=1.35 after EKS upgraded the cluster itself); default: what the records say
  --deployed-version  ZenML shorthand: --deployed zenml=X ("none" = first deploy of everything)
  --source-version    what the promotion source stack runs (default: the version its file pins)
  --set key=value     override one config key of the stack file (repeatable), e.g. --set mlflowVersion=3.17.2`;

/** A request the plan refuses (a flag's value, the stack file, the program's own refusal): `plan: <message>`, exit 2. */
class PlanRefused extends Error {}

function fail(message: string): never {
  throw new PlanRefused(message);
}

const TOOL: ToolSpec = { name: "plan", usage: USAGE, badInput: (err) => err instanceof PlanRefused };

/** `planner` stands in for the plan in tests (they plan through their cache). */
export async function main(argv: string[], io: CliIo, _env: CliEnv, planner: Planner = planOnDemand): Promise<number> {
  return runTool(TOOL, io, async () => {
    await plan(argv, io, planner);
    return 0;
  });
}

async function plan(argv: string[], io: CliIo, planner: Planner): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      json: { type: "boolean", default: false },
      report: { type: "boolean", default: false },
      "deployed-version": { type: "string" },
      deployed: { type: "string", multiple: true },
      live: { type: "string", multiple: true },
      "source-version": { type: "string" },
      set: { type: "string", multiple: true },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (args.help) {
    printUsage(TOOL, io);
    return;
  }
  const projectDir = path.resolve(__dirname, "..");
  if (!args.stack) throw new UsageError(`--stack is required (stacks: ${listStacks(projectDir).join(", ")})`);
  // A missing or unreadable stack file is reported before Pulumi and the program load.
  try {
    readStackConfig(projectDir, args.stack);
  } catch (err) {
    if (err instanceof StackFileError) fail(err.message);
    throw err;
  }
  const project = readProjectFile(projectDir).name;
  const stackOutputs = steadyStateOutputs(projectDir, project);
  const self = `${ORGANIZATION}/${project}/${args.stack}`;
  const pairs = (flag: string, items: string[] | undefined, allowed: string[]) => {
    const out: Record<string, string> = {};
    for (const item of items ?? []) {
      const m = /^([a-z0-9:-]+)=(\S+)$/.exec(item);
      if (!m) fail(`--${flag} ${item}: expected <part>=<version>, parts: ${allowed.join(", ")}`);
      if (!allowed.includes(m[1])) fail(`--${flag} ${item}: unknown part "${m[1]}" (parts: ${allowed.join(", ")})`);
      const why = PARTS[m[1]].explainBadVersion(m[2]);
      if (why) fail(`--${flag} ${item}: ${why}`);
      out[m[1]] = m[2];
    }
    return out;
  };
  const overrides = pairs("deployed", args.deployed, PART_NAMES);
  const liveOverrides = pairs("live", args.live, LIVE_PARTS);
  const deployed = args["deployed-version"];
  if (deployed === "none" && Object.keys(overrides).length > 0)
    fail(`--deployed-version none (a first deploy) contradicts --deployed ${args.deployed!.join(" ")}`);
  if (deployed === "none" && Object.keys(liveOverrides).length > 0)
    fail(`--deployed-version none (a first deploy: nothing runs yet) contradicts --live ${args.live!.join(" ")}`);
  if (deployed !== undefined && deployed !== "none") {
    if (overrides.zenml !== undefined && overrides.zenml !== deployed)
      fail(`--deployed-version ${deployed} contradicts --deployed zenml=${overrides.zenml}`);
    overrides.zenml = deployed;
  }
  if (deployed === "none") delete stackOutputs[self];
  else if (Object.keys(overrides).length > 0) {
    // The stack runs these versions now; it has run nothing else (so no gate history is assumed).
    const current = (stackOutputs[self]?.partVersions ?? {}) as Record<string, string>;
    const parts = { ...current, ...overrides };
    // An add-on that runs AWS's default follows the simulated cluster version unless given itself.
    if (overrides.kubernetes && current.kubernetes) {
      for (const addon of EKS_ADDONS) {
        const part = addonPart(addon);
        if (overrides[part] === undefined && current[part] === mockAddonVersion(addon, current.kubernetes))
          parts[part] = mockAddonVersion(addon, overrides.kubernetes);
      }
    }
    stackOutputs[self] = { ...stackOutputs[self], ...historyOutputs(parts, {}, args.stack) };
  }
  // What AWS runs: the records, unless --live says it moved.
  const live = { ...recordedLive(stackOutputs[self]), ...liveOverrides };
  const source = args["source-version"];
  if (source) {
    for (const name of Object.keys(stackOutputs)) {
      if (name !== self)
        stackOutputs[name] = {
          ...stackOutputs[name],
          ...historyOutputs({ ...((stackOutputs[name].partVersions ?? {}) as Record<string, string>), zenml: source }),
        };
    }
  }

  const configOverrides: Record<string, string> = {};
  for (const pair of args.set ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set takes key=value, got "${pair}"`);
    const key = pair.slice(0, eq);
    configOverrides[key.includes(":") ? key : `${project}:${key}`] = pair.slice(eq + 1);
  }

  let planned: Plan;
  try {
    planned = await planner({ stack: args.stack, projectDir, stackOutputs, overrides: configOverrides, live });
  } catch (err) {
    if (err instanceof StackFileError) fail(err.message);
    if (err instanceof ProgramFailed && err.userFacing) {
      const created = err.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference").length;
      fail(`${err.message}\n(${created} resources registered before the program stopped)`);
    }
    throw err;
  }
  for (const w of planned.warnings) io.stderr(`warning: ${w}\n`);
  const report = (planned.upgradeReport as { parts?: PartReportEntry[] } | undefined)?.parts ?? [];
  io.stdout(
    args.report
      ? upgradeReportMarkdown(args.stack, report)
      : args.json
        ? JSON.stringify(planned, null, 2) + "\n"
        : renderTree(planned),
  );
}
