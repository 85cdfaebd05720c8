import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FIELDS } from "../components/config";
import { expectedFiles } from "../tools/config/sync";
import { readProjectFile } from "../tools/offline/stack-files";
import { PROJECT_DIR, STACKS } from "./helpers/plan";

describe("Pulumi.yaml and docs/CONFIG.md declare exactly what the program reads", () => {
  const project = readProjectFile(PROJECT_DIR);

  it("is the config block the schema generates (every key, type, default and description)", () => {
    for (const f of expectedFiles(PROJECT_DIR)) expect(f.current, `${f.file} is out of date: run npm run config:sync`).toBe(f.expected);
    expect(Object.keys(project.config)).toEqual(Object.keys(FIELDS));
    for (const [key, field] of Object.entries(FIELDS)) expect(field.description.length, key).toBeGreaterThan(10);
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
