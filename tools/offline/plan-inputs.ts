// What a plan starts from besides the program: the organization and what each stack reports as
// deployed. Kept apart from the program, so callers (the tests' plan cache) read them without loading it.
import * as semver from "semver";
import { ADDON_PINS_KEY, EKS_ADDONS, PARTS, addonPart, compareDotted } from "../../components/parts";
import { HISTORY_OUTPUT, HISTORY_FORMAT, currentVersions, readHistory } from "../../components/part-history";
import { ZENML_SERVER_IMAGE, readImageLock, type ImageLock } from "../../components/image-lock";
import { mockAddonVersion, type StackOutputsByName } from "./mocks";
import { listStacks, readStackConfig } from "./stack-files";

export const ORGANIZATION = "organization";

/** Each part's version as a stack file pins it (add-ons: their pin, else the mocked AWS default). */
export function pinnedParts(values: Record<string, string>, project: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rule of Object.values(PARTS)) {
    const v = rule.configKey !== ADDON_PINS_KEY ? values[`${project}:${rule.configKey}`] : undefined;
    if (v) out[rule.name] = v;
  }
  let pins: string[] = [];
  try {
    pins = JSON.parse(values[`${project}:eksAddonVersions`] ?? "[]") as string[];
  } catch {
    // a malformed list is the program's to report
  }
  const k8s = out.kubernetes;
  for (const addon of EKS_ADDONS) {
    const pin = pins.find((p) => typeof p === "string" && p.startsWith(`${addon}=`));
    if (pin) out[addonPart(addon)] = pin.split("=")[1];
    else if (k8s) out[addonPart(addon)] = mockAddonVersion(addon, k8s);
  }
  return out;
}

/**
 * Outputs a stack deployed by the program before `versionHistory` reports (zenmlVersionHistory,
 * partVersionHistory...) after running these part versions, having run `history` before. The
 * program reads them once; the golden scenarios start from them.
 */
export function deployedOutputs(parts: Record<string, string>, history: Record<string, string[]> = {}): Record<string, unknown> {
  const partHistory = Object.fromEntries(Object.entries(parts).map(([p, v]) => [p, [...new Set([...(history[p] ?? []), v])]]));
  return { ...(parts.zenml ? { zenmlVersion: parts.zenml, zenmlVersionHistory: partHistory.zenml } : {}), partVersions: parts, partVersionHistory: partHistory };
}

/**
 * Outputs a stack deployed by this program reports after running these part versions, having run
 * `history` before; with `stack`, also the names its live reads address (its cluster and database).
 */
export function historyOutputs(parts: Record<string, string>, history: Record<string, string[]> = {}, stack?: string): Record<string, unknown> {
  const records = Object.fromEntries(Object.entries(parts).map(([p, v]) => [p, { deployed: v, versions: [...new Set([...(history[p] ?? []), v])], snapshots: [], awsMoves: [] }]));
  const targets = stack ? { clusterName: `zenml-${stack}`, activeDatabaseInstanceIdentifier: `zenml-${stack}` } : {};
  return { ...(parts.zenml ? { zenmlVersion: parts.zenml } : {}), partVersions: parts, [HISTORY_OUTPUT]: { format: HISTORY_FORMAT, parts: records }, ...targets };
}

/** What AWS runs when nothing moved under a stack: what its outputs record, for the parts AWS can move. */
export function recordedLive(outputs: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(currentVersions(readHistory(outputs))).filter(([part]) => PARTS[part]?.live));
}

/** The `crossStackFacts` output a stack deployed from this file reports (components/config.ts). */
export function crossStackFactsOf(stack: string, values: Record<string, string>, project: string): Record<string, string> {
  const value = (key: string) => values[`${project}:${key}`] ?? "";
  return { stack, vpcCidr: value("vpcCidr"), serverHostname: value("serverHostname"), mlflowHostname: value("mlflowHostname"), promotionSourceStack: value("promotionSourceStack") };
}

/**
 * Outputs that make every stack look like it already runs what its own file pins, having run
 * every lower version pinned anywhere in the repo (staging ran prod's pin before its own), for
 * every versioned part.
 */
export function steadyStateOutputs(projectDir: string, project: string): StackOutputsByName {
  const pins = new Map<string, Record<string, string>>();
  const facts = new Map<string, Record<string, string>>();
  for (const stack of listStacks(projectDir)) {
    try {
      const values = readStackConfig(projectDir, stack).values;
      const parts = pinnedParts(values, project);
      if (parts.zenml && semver.valid(parts.zenml)) pins.set(stack, parts);
      facts.set(stack, crossStackFactsOf(stack, values, project));
    } catch {
      // An unreadable stack file reports nothing; planning that stack reports why.
    }
  }
  let lock: ImageLock = {};
  try {
    lock = readImageLock(projectDir);
  } catch {
    // a broken lock is the program's to report
  }
  const outputs: StackOutputsByName = {};
  for (const [stack, parts] of pins) {
    const history: Record<string, string[]> = {};
    for (const [part, version] of Object.entries(parts)) {
      const all = [...new Set([...pins.values()].map((p) => p[part]).filter((v): v is string => v !== undefined))].sort(compareDotted);
      history[part] = all.filter((v) => compareDotted(v, version) <= 0);
    }
    // The digests the lock pins for every version the stack ran: an unchanged lock is a steady state.
    const digests = Object.fromEntries((history.zenml ?? []).flatMap((v) => (lock[ZENML_SERVER_IMAGE]?.[v] ? [[v, lock[ZENML_SERVER_IMAGE][v]]] : [])));
    outputs[`${ORGANIZATION}/${project}/${stack}`] = { ...historyOutputs(parts, history, stack), crossStackFacts: facts.get(stack), serverImageDigests: digests };
  }
  return outputs;
}
