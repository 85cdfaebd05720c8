// The redesign's aliases under the engine: a stack whose state holds each aliased resource under a
// URN it had before (the first alias the offline plan lists for it) must be taken over by today's
// program without a create, replace or delete: the engine itself matches each alias, not our
// reading of how it would. (tests/golden/urns.json cannot be used as such: it holds the mocks' URNs,
// which carry only the parent's type, where the engine's carry the whole parent chain.)
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { Checks, type ScenarioResult, type Story, type StackName } from "./story";
import { effectiveSteps, summarize } from "./steps";

const typeOfUrn = (urn: string) => urn.split("::")[2].split("$").pop()!;
const nameOfUrn = (urn: string) => urn.split("::").slice(3).join("::");
/** Resources are matched by type and name: the offline plan's URNs carry only the parent's type, the engine's the whole chain. */
const keyOf = (urn: string) => `${typeOfUrn(urn)}::${nameOfUrn(urn)}`;

/**
 * The offline plan's aliases for exactly what the engine deployed (the world's stack file, the
 * stacks' real outputs), computed in a child process, by type and name. Aliases that only rename
 * (ours) come before those that change the type (the SDKs' own, e.g. BucketV2 -> Bucket).
 */
export function offlineAliases(story: Story, stack: StackName, stackOutputs: Record<string, Record<string, unknown>>): Map<string, string[]> {
  const projectDir = story.world.projectDir;
  const loader = path.join(projectDir, "tools", "loader", "register.cjs");
  const input = JSON.stringify({ stack, stackFile: story.world.stackFile(stack), stackOutputs });
  const out = execFileSync(process.execPath, ["--require", loader, path.join(__dirname, "plan-aliases.ts")], { input, encoding: "utf8", cwd: projectDir });
  const byUrn = JSON.parse(out) as Record<string, string[]>;
  return new Map(Object.entries(byUrn).map(([urn, list]) => [keyOf(urn), [...list].sort((a, b) => Number(typeOfUrn(a) !== typeOfUrn(urn)) - Number(typeOfUrn(b) !== typeOfUrn(urn)))]));
}

/** The deployment with each renamed resource under its alias: URN, type, and every reference to it. */
export function renameToAliases<T extends { deployment: Record<string, unknown> }>(exported: T, renames: Map<string, string>): T {
  let text = JSON.stringify(exported);
  for (const [urn, alias] of renames) {
    text = text.split(JSON.stringify(urn)).join(JSON.stringify(alias));
    text = text.split(`"${urn}::`).join(`"${alias}::`);
  }
  const renamed = JSON.parse(text) as T;
  const aliases = new Set(renames.values());
  for (const r of (renamed.deployment.resources ?? []) as { urn: string; type: string }[]) if (aliases.has(r.urn)) r.type = typeOfUrn(r.urn);
  return renamed;
}

export async function aliasesKeepUrns(story: Story, stack: StackName): Promise<ScenarioResult> {
  const c = new Checks();
  const outputs: Record<string, Record<string, unknown>> = {};
  for (const name of ["staging", "prod"]) outputs[`organization/zenml-platform/${name}`] = await story.world.outputs(name);
  const aliases = offlineAliases(story, stack, outputs);
  const exported = await story.world.exportDeployment(stack);
  const deployed = new Set(((exported.deployment.resources ?? []) as { urn: string }[]).map((r) => r.urn));
  const renames = new Map([...deployed].filter((urn) => aliases.has(keyOf(urn))).map((urn) => [urn, aliases.get(keyOf(urn))![0]] as [string, string]));
  c.that(renames.size > 0, `${stack}: no deployed resource has an alias to try`);
  await story.world.importDeployment(stack, renameToAliases(exported, renames));
  const result = await story.preview(stack, {}, `preview from the state under ${renames.size} old names`);
  c.ran(result, true);
  const moved = effectiveSteps(result.outcome).filter((s) => s.op === "create" || s.op === "delete" || s.op === "replace");
  c.that(moved.length === 0, `${stack}: the engine did not match the aliases: ${summarize(result.outcome)}`);
  // Back to today's names, so the story goes on from the state it built.
  await story.world.importDeployment(stack, exported);
  const own = [...renames].filter(([urn, alias]) => typeOfUrn(urn) === typeOfUrn(alias)).map(([, alias]) => nameOfUrn(alias));
  return c.done(
    `aliases keep every URN on ${stack} (no create, replace or delete)`,
    `${renames.size} resources under an old URN (${own.length} renamed by this program: ${own.join(", ") || "none"}; ${renames.size - own.length} under an SDK's old type): ${summarize(result.outcome, 3)}`,
  );
}
