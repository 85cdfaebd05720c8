// Prod deploy gate, first line of defence: a successful staging deploy (which includes the smoke
// suite) must exist for the exact version prod is about to run. The program's promotion gate is
// the second line. An emergency override is the program's own: a non-empty
// zenml-platform:promotionOverrideReason in Pulumi.prod.yaml (reviewed in the PR, approved in the
// `prod` environment, recorded in prod's outputs) lets both lines pass, loudly.
//   staging-gate --prod-file Pulumi.prod.yaml   (in CI: needs `gh` with actions:read, full git history)
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { parseDocument } from "yaml";
import { PinFileError, locatePin, readPin } from "./pin-file";

export const OVERRIDE_KEY = "zenml-platform:promotionOverrideReason";

export interface StagingRun {
  headSha: string;
  url?: string;
  /** The pin of Pulumi.staging.yaml at that commit; undefined when it could not be read. */
  pin?: string;
}

export function verifiedRun(prodPin: string, runs: StagingRun[]): StagingRun | undefined {
  return runs.find((r) => r.pin === prodPin);
}

/** The override reason in a stack file's text ("" when absent). */
export function overrideReason(text: string): string {
  const value = parseDocument(text).getIn(["config", OVERRIDE_KEY]);
  return typeof value === "string" ? value.trim() : "";
}

export function gateMessage(prodPin: string, runs: StagingRun[], override = ""): { ok: boolean; overridden?: boolean; message: string } {
  const run = verifiedRun(prodPin, runs);
  if (run) return { ok: true, message: `staging deployed and smoke-tested ${prodPin} at ${run.headSha}${run.url ? ` (${run.url})` : ""}` };
  const seen = [...new Set(runs.map((r) => r.pin).filter(Boolean))].join(", ") || "none";
  const missing = `no successful staging deploy of ${prodPin} among the last ${runs.length} (versions seen: ${seen})`;
  if (override.trim() !== "") return { ok: true, overridden: true, message: `OVERRIDDEN: ${missing}. ${OVERRIDE_KEY}: ${override.trim()}` };
  return { ok: false, message: `${missing}. Deploy it to staging first.` };
}

function main(): void {
  const { values } = parseArgs({ options: { "prod-file": { type: "string", default: "Pulumi.prod.yaml" }, workflow: { type: "string", default: "deploy-staging.yml" }, limit: { type: "string", default: "50" } } });
  const prod = readPin(values["prod-file"]!);
  const prodPin = prod.pin.value;
  const listed = JSON.parse(
    execFileSync("gh", ["run", "list", "--workflow", values.workflow!, "--branch", "staging", "--status", "success", "--limit", values.limit!, "--json", "headSha,url"], { encoding: "utf8" }),
  ) as { headSha: string; url: string }[];
  const runs = listed.map((r): StagingRun => {
    try {
      const text = execFileSync("git", ["show", `${r.headSha}:Pulumi.staging.yaml`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      return { ...r, pin: locatePin(text, "Pulumi.staging.yaml").value };
    } catch {
      return { ...r };
    }
  });
  const verdict = gateMessage(prodPin, runs, overrideReason(prod.text));
  // A workflow-command annotation, so an override shows on the run's summary page.
  process.stdout.write(`${verdict.overridden ? "::warning title=staging gate overridden::" : ""}staging-gate: ${verdict.message}\n`);
  if (!verdict.ok) process.exit(1);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`staging-gate: ${err instanceof PinFileError ? err.message : (err as Error).message}\n`);
    process.exit(2);
  }
}
