// docs/MIRROR_AND_POLICY.md lists every allowed mirror difference and every policy; this keeps the
// list from drifting when mirror.allow.yaml or policy/rules.ts changes.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { RESOURCE_RULES, STACK_RULES } from "../policy/rules";
import { readAllowList } from "../tools/mirror/check";
import { PROJECT_DIR } from "./helpers/plan";

const doc = fs.readFileSync(path.join(PROJECT_DIR, "docs", "MIRROR_AND_POLICY.md"), "utf8");
const rows = doc.split("\n").filter((l) => l.startsWith("| "));

describe("docs/MIRROR_AND_POLICY.md", () => {
  const allow = readAllowList(path.join(PROJECT_DIR, "mirror.allow.yaml"), PROJECT_DIR);

  it.each(allow.config.map((c) => [c.key, c]))("lists the config allowance %s with its reason", (_key, c) => {
    expect(rows.some((r) => r.includes(`\`${c.key}\``) && r.includes(c.reason))).toBe(true);
  });

  it.each(allow.resources.map((r, i) => [`${r.type} ${r.name ?? ""} ${r.path ?? "(one stack only)"}`, i]))("lists the resource allowance %s with its reason", (_label, i) => {
    const a = allow.resources[i as number];
    const row = rows.find((r) => r.includes(`\`${a.type}\``) && (a.name === undefined || r.includes(`\`${a.name}\``)) && (a.path === undefined ? r.includes("may exist in one stack only") : r.includes(`\`${a.path}\``)) && r.includes(a.reason));
    expect(row).toBeDefined();
  });

  it.each([...RESOURCE_RULES, ...STACK_RULES].map((r) => [r.name, r]))("lists the policy %s with its enforcement and remediation", (_name, rule) => {
    const row = rows.find((r) => r.startsWith(`| \`${rule.name}\` |`));
    expect(row).toBeDefined();
    expect(row).toContain(`| ${rule.enforcement} |`);
    expect(row).toContain(rule.remediation);
  });
});
