// The Python requirements that pin zenml (the registration client and server, the pipeline smoke
// suite): they test the version staging runs next, so they follow staging's zenmlVersion and move
// with it in the same change (`npm run bump` of staging's ZenML rewrites them).
import * as fs from "node:fs";
import * as path from "node:path";
import { readPin } from "./pin-file";
import { repoFiles } from "../repo-files";

const ZENML_REQUIREMENT = /^(zenml(?:\[[^\]]*\])?==)(\S+)/;
const NOT_SOURCES = new Set(["node_modules", ".cache", ".git"]);

/** Every `requirements*.txt` below dir, relative to it. */
export function requirementFiles(dir: string): string[] {
  return repoFiles(dir, NOT_SOURCES, (name) => /^requirements.*\.txt$/.test(name));
}

export interface RequirementPin {
  file: string;
  pin: string;
  /** Why the pin is wrong, naming the file, its pin and staging's; undefined when it is staging's. */
  problem?: string;
}

/** The zenml pins of every requirements file, each checked against staging's zenmlVersion. */
export function zenmlRequirementPins(dir: string): RequirementPin[] {
  const staging = readPin(path.join(dir, "Pulumi.staging.yaml")).pin.value;
  return requirementFiles(dir).flatMap((file) =>
    fs
      .readFileSync(path.join(dir, file), "utf8")
      .split("\n")
      .flatMap((line) => {
        const pin = ZENML_REQUIREMENT.exec(line.trim())?.[2];
        if (pin === undefined) return [];
        const problem = pin === staging ? undefined : `${file} pins zenml==${pin}, but Pulumi.staging.yaml pins zenmlVersion ${staging}: the version under test is staging's, move them together`;
        return [{ file, pin, problem }];
      }),
  );
}

/** Rewrites every zenml pin to `version` (only those lines); returns the files it changed. */
export function moveZenmlRequirementPins(dir: string, version: string): string[] {
  const changed: string[] = [];
  for (const file of requirementFiles(dir)) {
    const full = path.join(dir, file);
    const text = fs.readFileSync(full, "utf8");
    const next = text
      .split("\n")
      .map((line) => line.replace(ZENML_REQUIREMENT, (_, head: string) => `${head}${version}`))
      .join("\n");
    if (next === text) continue;
    fs.writeFileSync(`${full}.tmp`, next);
    fs.renameSync(`${full}.tmp`, full);
    changed.push(file);
  }
  return changed;
}
