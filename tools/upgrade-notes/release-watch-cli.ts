// `npm run release-watch -- [--only <part>] [--today YYYY-MM-DD] [--github-output <path>] [--dir .]`
// `npm run release-watch -- --apply --part <part> --version <v> --body-file <path>`
// `npm run release-watch -- --refresh-calendar` (components/eks-calendar.json from AWS's answer)
// One line per part (in the engine's order): what is out and whether it is due. The first part
// with a due version is proposed (one part per PR); with --apply it bumps staging's pin of that
// part and writes the PR's body with its dossier. Exit 2: bad release-watch.yaml or usage; exit 1:
// a source unreachable, or the decision changed since the first step.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PARTS, addonOf, partRule, partsInOrder } from "../../components/parts";
import { UsageError, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { planOnDemand, type Planner } from "../offline/plan-result";
import { PinFileError, pinnedVersions, readPin } from "../gitops/pin-file";
import { bump, upgradeBranch } from "../gitops/version-change";
import { stackFilePath } from "../offline/stack-files";
import { DossierError } from "./dossier";
import { dossierSourceFor } from "./part-dossier";
import { defaultSources, pinnedRequirements, type ReleaseSources } from "./release-sources";
import {
  HOLD_FILE,
  WatchError,
  findAddon,
  findKubernetes,
  findMysql,
  findPypi,
  readSettings,
  writeRefreshedCalendar,
  type PartFinding,
  type WatchDecision,
  type WatchSettings,
} from "./release-watch";

/** What each part's source says, in the engine's order. */
async function findings(
  dir: string,
  sources: ReleaseSources,
  settings: WatchSettings,
  now: Date,
  only?: string,
): Promise<PartFinding[]> {
  const pins = pinnedVersions(readPin(stackFilePath(dir, "staging")).text, "Pulumi.staging.yaml");
  const out: PartFinding[] = [];
  for (const rule of partsInOrder().filter((r) => only === undefined || r.name === only)) {
    const pin = pins[rule.name];
    const r = rule.releases;
    if (r.kind === "pypi")
      out.push(
        pin
          ? findPypi(rule.name, pin, await sources.pypi(r.project), settings)
          : { part: rule.name, pin: "", candidates: [], reason: `${rule.label} is off on staging` },
      );
    else if (r.kind === "eks-cluster-versions") out.push(findKubernetes(pin, sources.clusterVersions(), settings, now));
    else if (r.kind === "eks-addon-versions")
      out.push(
        findAddon(rule.name, pin, pins.kubernetes, pin ? sources.addonVersions(r.addon) : { addons: [] }, settings),
      );
    else out.push(findMysql(pin, sources.engineVersions(), sources.majorEngineVersions(), settings, now));
  }
  return out;
}

/** The first part with a due version that installs; the others' reasons as they are. */
function decide(
  dir: string,
  found: PartFinding[],
  sources: ReleaseSources,
  settings: WatchSettings,
): { decision: WatchDecision; lines: string[] } {
  const lines: string[] = [];
  let chosen: { part: string; version: string; reason: string } | undefined;
  for (const f of found) {
    let reason = f.reason;
    let version: string | undefined;
    const rule = partRule(f.part);
    for (const candidate of f.candidates) {
      // ZenML and MLflow only count as out when they install with the dependencies we pin beside them.
      const problem =
        rule.releases.kind === "pypi"
          ? sources.installProblem(pinnedRequirements(dir, rule.releases.project, candidate))
          : undefined;
      if (problem) {
        reason += `; ${candidate} skipped: it and our pinned dependencies do not install (${problem})`;
        continue;
      }
      version = candidate;
      if (candidate !== f.candidates[0]) reason += `; proposing ${candidate}`;
      break;
    }
    if (version && !chosen && !settings.hold) chosen = { part: f.part, version, reason };
    lines.push(
      `${f.part}: ${reason}${version && chosen?.part !== f.part ? ` (${settings.hold ? "held" : "waits: one part per PR, in the engine's order"})` : ""}`,
    );
  }
  if (settings.hold) return { decision: { action: "none", reason: `held by ${HOLD_FILE}: ${settings.hold}` }, lines };
  return { decision: chosen ? { action: "bump", ...chosen } : { action: "none", reason: "nothing to propose" }, lines };
}

const titleOf = (part: string, version: string) => `Upgrade ${PARTS[part].label} to ${version} on staging`;

/** The pull request's body: why it was opened, how to stop it, then the dossier. */
export function pullRequestBody(
  part: string,
  version: string,
  stagingPin: string,
  prodPin: string,
  dossier: string[],
  bumpMessage: string,
): string {
  const label = PARTS[part].label;
  return [
    `${label} ${version} is due. This PR moves staging from ${stagingPin || "(AWS's default)"} to ${version}; prod runs ${prodPin || "(AWS's default)"}, so the dossier below covers ${prodPin || stagingPin} -> ${version}, the move prod will make after promotion.`,
    "",
    `Opened by the scheduled release watch (\`.github/workflows/zenml-release-watch.yml\`). To stop it proposing ${label}, set \`parts.${part}.hold\` in \`${HOLD_FILE}\` (\`hold\` stops every part); to pass over one bad version, add it to \`parts.${part}.skip\`.`,
    ...dossier,
    "",
    "<details><summary>npm run bump</summary>",
    "",
    "```",
    bumpMessage,
    "```",
    "",
    "</details>",
    "",
  ].join("\n");
}

const USAGE = `usage: npm run release-watch -- [--only <part>] [--today YYYY-MM-DD] [--github-output <path>] [--dir .]
       npm run release-watch -- --apply --part <part> --version <v> --body-file <path>
       npm run release-watch -- --refresh-calendar`;
const TOOL: ToolSpec = { name: "release-watch", usage: USAGE, badInput: (err) => err instanceof PinFileError };

/** Exit 0 decided (or applied), 1 a source unreachable or the decision changed, 2 bad usage or settings. `planner` and `sources` stand in for the plan and the release sources in tests. */
export async function main(
  argv: string[],
  io: CliIo,
  env: CliEnv,
  planner: Planner = planOnDemand,
  sources: ReleaseSources = defaultSources(env),
): Promise<number> {
  return runTool(TOOL, io, async () => {
    try {
      await watch(argv, io, planner, sources);
      return 0;
    } catch (err) {
      if (!(err instanceof WatchError || err instanceof DossierError)) throw err;
      io.stderr(
        err.message
          .split("\n")
          .map((l) => `release-watch: ${l}\n`)
          .join(""),
      );
      return err.exitCode;
    }
  });
}

async function watch(argv: string[], io: CliIo, planner: Planner, sources: ReleaseSources): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      apply: { type: "boolean", default: false },
      part: { type: "string" },
      only: { type: "string" },
      version: { type: "string" },
      today: { type: "string" },
      "refresh-calendar": { type: "boolean", default: false },
      "body-file": { type: "string" },
      "github-output": { type: "string" },
      dir: { type: "string", default: path.resolve(__dirname, "../..") },
    },
    strict: true,
  });
  if (values.apply && (!values["body-file"] || !values.version || !values.part))
    throw new UsageError(
      "--apply needs --part and --version (what the watch decided on) and --body-file <path> (the PR body)",
    );
  for (const part of [values.part, values.only])
    if (part !== undefined && !PARTS[part])
      throw new UsageError(
        `unknown part "${part}" (parts: ${partsInOrder()
          .map((p) => p.name)
          .join(", ")})`,
      );
  if (values.today !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.today))
    throw new UsageError(`--today takes YYYY-MM-DD, got "${values.today}"`);
  const dir = values.dir!;
  const settings = readSettings(dir);
  const now = values.today ? new Date(`${values.today}T12:00:00Z`) : new Date();
  const today = now.toISOString().slice(0, 10);
  if (values["refresh-calendar"]) {
    const changed = writeRefreshedCalendar(dir, sources.clusterVersions(), today);
    io.stdout(
      `release-watch: EKS calendar ${changed.length > 0 ? `refreshed: ${changed.join(", ")}` : "already matches AWS's answer"}\n`,
    );
    return;
  }
  // Applying re-decides over every part: the part asked for must still be the first one due.
  const { decision, lines } = decide(
    dir,
    await findings(dir, sources, settings, now, values.apply ? undefined : values.only),
    sources,
    settings,
  );
  for (const line of lines) io.stdout(`release-watch: ${line}\n`);
  io.stdout(
    `release-watch: ${decision.action === "bump" ? `proposing ${decision.part} ${decision.version}` : decision.reason}\n`,
  );
  const outputs: Record<string, string> = { action: decision.action, part: "", version: "", branch: "", title: "" };
  if (decision.action === "bump") {
    Object.assign(outputs, {
      part: decision.part,
      version: decision.version,
      branch: upgradeBranch(decision.part, decision.version),
      title: titleOf(decision.part, decision.version),
    });
    if (values.apply && (values.version !== decision.version || values.part !== decision.part)) {
      throw new WatchError(
        `the watch now proposes ${decision.part} ${decision.version}, not ${values.part} ${values.version}: nothing changed, the next run proposes it`,
        1,
      );
    }
    if (values.apply) {
      const part = decision.part;
      const pin = (stack: string) => readPin(stackFilePath(dir, stack), part).pin.value;
      const [stagingPin, prodPin] = [pin("staging"), pin("prod")];
      const dossier = (await dossierSourceFor(dir, "staging", part, planner))(
        part,
        prodPin || stagingPin,
        decision.version,
      );
      const result = bump(dir, { stack: "staging", part, version: decision.version });
      // A new Kubernetes version is accepted once the calendar knows its end of standard support.
      const calendar = part === "kubernetes" ? writeRefreshedCalendar(dir, sources.clusterVersions(), today) : [];
      if (calendar.length > 0)
        dossier.push("", `EKS calendar refreshed from \`aws eks describe-cluster-versions\` (${calendar.join(", ")}).`);
      fs.writeFileSync(
        values["body-file"]!,
        pullRequestBody(part, decision.version, stagingPin, prodPin, dossier, result.message),
      );
      io.stdout(
        `release-watch: staging's ${addonOf(part) ?? part} bumped to ${decision.version}; PR body in ${values["body-file"]}\n`,
      );
    }
  } else if (values.apply) {
    throw new WatchError(`the watch proposes nothing now (${decision.reason}): nothing changed`, 1);
  }
  if (values["github-output"])
    fs.appendFileSync(
      values["github-output"],
      Object.entries(outputs)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
}
