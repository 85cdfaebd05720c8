// Run as a child of the engine suite (the offline plan's mocks would replace the inline program's
// runtime in-process): reads {stack, stackFile, stackOutputs} as JSON on stdin and prints the offline
// plan's aliases of that exact config and world, {urn: [alias URNs]}, for the resources that have any.
import * as fs from "node:fs";
import * as path from "node:path";
import { runPlan } from "../offline/plan";
import type { StackOutputsByName } from "../offline/mocks";

async function main(): Promise<void> {
  const input = JSON.parse(fs.readFileSync(0, "utf8")) as { stack: string; stackFile: string; stackOutputs: StackOutputsByName };
  const plan = await runPlan({ projectDir: path.join(__dirname, "..", ".."), stack: input.stack, stackFile: input.stackFile, stackOutputs: input.stackOutputs });
  const aliased = plan.resources.filter((r) => r.options.aliases.length > 0).map((r) => [r.urn, r.options.aliases]);
  process.stdout.write(JSON.stringify(Object.fromEntries(aliased)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
