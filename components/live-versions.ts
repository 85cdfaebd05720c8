// What AWS runs now for each part it can move on its own (components/parts.ts `live`): reads
// (invokes), never resources, so a refusal still comes before anything is registered. The names
// come from what the stack's last update exported; a stack never deployed has nothing to read.
import * as aws from "@pulumi/aws";
import { addonOf, partsInOrder, type LiveReader } from "./parts";

/** The deployed resources the reads address, from the stack's previous outputs. */
export interface LiveTargets {
  clusterName?: string;
  databaseInstanceIdentifier?: string;
}

export interface LiveVersions {
  /** Version per part, for every part that could be read. */
  versions: Record<string, string>;
  /** Why a part could not be read (a warning each). */
  unread: string[];
}

/** "8.4.3" -> "8.4": the program pins MySQL's major and lets RDS apply minors. */
export const mysqlMajor = (engineVersion: string) => /^\d+\.\d+/.exec(engineVersion)?.[0];

async function read(reader: LiveReader, part: string, targets: LiveTargets): Promise<string | undefined> {
  switch (reader) {
    case "eks-cluster-version":
      return targets.clusterName ? (await aws.eks.getCluster({ name: targets.clusterName })).version : undefined;
    case "eks-addon-version":
      return targets.clusterName ? (await aws.eks.getAddon({ clusterName: targets.clusterName, addonName: addonOf(part)! })).addonVersion : undefined;
    case "rds-engine-major":
      return targets.databaseInstanceIdentifier ? mysqlMajor((await aws.rds.getInstance({ dbInstanceIdentifier: targets.databaseInstanceIdentifier })).engineVersion ?? "") : undefined;
  }
}

/** Reads every live version it has a target for; a failed read is reported, never fatal. */
export async function readLiveVersions(stack: string, targets: LiveTargets): Promise<LiveVersions> {
  const versions: Record<string, string> = {};
  const unread: string[] = [];
  await Promise.all(
    partsInOrder()
      .filter((rule) => rule.live)
      .map(async (rule) => {
        try {
          const version = await read(rule.live!.reader, rule.name, targets);
          if (typeof version === "string" && version !== "") versions[rule.name] = version;
        } catch (err) {
          unread.push(`Stack "${stack}": could not read the ${rule.label} version AWS runs (${String((err as Error).message ?? err).split("\n")[0]}); deciding from the recorded version only.`);
        }
      }),
  );
  return { versions, unread };
}
