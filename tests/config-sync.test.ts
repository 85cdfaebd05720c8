// npm run config:sync: Pulumi.yaml's config block and docs/CONFIG.md follow the schema, and the
// rest of Pulumi.yaml (comments, runtime) survives a sync.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ENVIRONMENT_MINIMUMS, FIELDS } from "../components/config";
import { configReference, declarationOf, syncProjectFile } from "../tools/config/generate";
import { main } from "../tools/config/sync";
import { captureTool } from "./helpers/cli";
import { PROJECT_DIR } from "./helpers/plan";

const PROJECT_YAML = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8");

/** A copy of the project's generated files in a temporary folder. */
function copyProject(edit: (projectYaml: string) => string = (t) => t): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-sync-"));
  fs.mkdirSync(path.join(dir, "docs"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), edit(PROJECT_YAML));
  fs.copyFileSync(path.join(PROJECT_DIR, "docs", "CONFIG.md"), path.join(dir, "docs", "CONFIG.md"));
  return dir;
}

describe("config:sync", () => {
  it("rewrites a drifted config block to the schema, keeping comments and the runtime block", () => {
    const drifted = PROJECT_YAML.replace(
      / {2}vpcCidr:\n {4}type: string\n/,
      "  vpcCidr:\n    # kept by hand\n    type: integer\n",
    )
      .replace(
        / {2}pipelinesNamespace:\n {4}type: string\n {4}default: zenml-pipelines\n/,
        "  pipelinesNamespace:\n    type: string\n",
      )
      .replace("config:\n", "config:\n  retiredKey:\n    type: string\n    description: gone\n");
    const synced = syncProjectFile(drifted);
    const config = parse(synced).config as Record<string, unknown>;
    expect(Object.keys(config)).toEqual(Object.keys(FIELDS));
    for (const [key, field] of Object.entries(FIELDS)) expect(config[key], key).toEqual(declarationOf(field));
    expect(synced).toContain("    # kept by hand\n    type: string\n");
    expect(synced).toContain("# index.ts loads through tools/loader");
    expect(synced.split("\nconfig:\n")[0]).toBe(PROJECT_YAML.split("\nconfig:\n")[0]);
    expect(syncProjectFile(synced)).toBe(synced);
  });

  it("writes both files, then finds them up to date; --check names each stale file and exits 1", async () => {
    const dir = copyProject((t) => t.replace("default: 60\n", "default: 30\n"));
    fs.writeFileSync(path.join(dir, "docs", "CONFIG.md"), "hand-edited\n");
    const stale = await captureTool(main, ["--check", "--dir", dir]);
    expect(stale).toMatchObject({ code: 1, stdout: "" });
    expect(stale.stderr.split("\n").filter(Boolean)).toEqual([
      "config:sync: Pulumi.yaml is out of date: run npm run config:sync",
      "config:sync: docs/CONFIG.md is out of date: run npm run config:sync",
    ]);
    expect(await captureTool(main, ["--dir", dir])).toMatchObject({
      code: 0,
      stdout: "config:sync: wrote Pulumi.yaml\nconfig:sync: wrote docs/CONFIG.md\n",
    });
    expect(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")).toBe(PROJECT_YAML);
    expect(await captureTool(main, ["--check", "--dir", dir])).toMatchObject({ code: 0, stderr: "" });
  });

  it("refuses an unknown flag with its usage (exit 2)", async () => {
    const r = await captureTool(main, ["--chek"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^config:sync: Unknown option '--chek'[\s\S]*\nusage: npm run config:sync/);
  });
});

describe("docs/CONFIG.md", () => {
  const doc = configReference();
  it("lists every key with its type, default, allowed values and the prod floors", () => {
    for (const [key, field] of Object.entries(FIELDS)) {
      const section = doc.split(`\n## ${key}\n`)[1]?.split("\n## ")[0] ?? "";
      expect(section, key).toContain(`- Type: ${field.kind}`);
      expect(section, key).toContain(
        "default" in field ? `- Default: \`${JSON.stringify(field.default)}\`` : "- Default: none, required",
      );
      expect(section, key).toContain("- Allowed: ");
    }
    expect(doc).toContain(
      `- Floors: staging: at least ${ENVIRONMENT_MINIMUMS.staging.backupRetentionDays}; prod: at least ${ENVIRONMENT_MINIMUMS.prod.backupRetentionDays}`,
    );
    expect(doc.split("\n## dbMultiAz\n")[1]).toMatch(/^[\s\S]*?- Floors: staging: any; prod: `true`/);
  });

  it("escapes what markdown would swallow (placeholders in angle brackets, wildcards)", () => {
    expect(doc).toContain("\\<registry>/\\<repository>:\\<mlflowVersion>@sha256:\\<digest>");
    expect(doc).toContain("kube-\\*");
  });
});
