// What a plan starts from besides the program: the organization and what each stack reports as
// deployed. Kept free of Pulumi and the program, so callers can read them without loading either.
import * as semver from "semver";
import type { StackOutputsByName } from "./mocks";
import { listStacks, readStackConfig } from "./stack-files";

export const ORGANIZATION = "organization";

/**
 * Outputs that make every stack look like it already runs what its own file pins, having run
 * every lower version pinned anywhere in the repo (staging ran prod's pin before its own).
 */
export function steadyStateOutputs(projectDir: string, project: string): StackOutputsByName {
  const pins = new Map<string, string>();
  for (const stack of listStacks(projectDir)) {
    try {
      const version = readStackConfig(projectDir, stack).values[`${project}:zenmlVersion`];
      if (version && semver.valid(version)) pins.set(stack, version);
    } catch {
      // An unreadable stack file reports nothing; planning that stack reports why.
    }
  }
  const all = [...new Set(pins.values())].sort(semver.compare);
  const outputs: StackOutputsByName = {};
  for (const [stack, version] of pins) {
    outputs[`${ORGANIZATION}/${project}/${stack}`] = { zenmlVersion: version, zenmlVersionHistory: all.filter((v) => semver.lte(v, version)) };
  }
  return outputs;
}
