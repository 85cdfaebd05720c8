import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FIELDS } from "../components/config";
import { readProjectFile } from "../tools/offline/stack-files";
import { PROJECT_DIR, STACKS } from "./helpers/plan";

describe("Pulumi.yaml declares exactly what the program reads", () => {
  const project = readProjectFile(PROJECT_DIR);

  it("has every key, with the same type and default, and a description", () => {
    expect(Object.keys(project.config).sort()).toEqual(Object.keys(FIELDS).sort());
    for (const [key, field] of Object.entries(FIELDS)) {
      const decl = project.config[key];
      expect(decl.type, key).toBe(field.kind);
      expect(decl.description?.length ?? 0, key).toBeGreaterThan(10);
      expect(decl.default, key).toEqual("default" in field ? field.default : undefined);
    }
  });

  it("both stack files set the same keys, so neither can drift silently", () => {
    const keysOf = (stack: string) => Object.keys(parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")).config).sort();
    const [staging, prod] = STACKS.map(keysOf);
    expect(staging).toEqual(prod);
    expect(staging.filter((k) => k.startsWith("zenml-platform:")).map((k) => k.split(":")[1]).sort()).toEqual(Object.keys(FIELDS).sort());
  });

  it("commits no secret in clear text", () => {
    for (const stack of STACKS) {
      const text = fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8");
      expect(text).not.toMatch(/password|secretKey|accessKey|token/i);
    }
  });
});
