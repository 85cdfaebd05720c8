// Golden plans: the JSON plan of both stacks in every situation the program distinguishes, held
// byte for byte, so a restructuring proves it changed nothing. `UPDATE_GOLDEN=1 npm test -- golden`
// rewrites them after an intended change (review the diff). Independently, every URN the program
// planned when the baseline was taken must still be planned, or be an alias of a planned resource:
// a URN that vanishes is a resource the engine would delete and create anew.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ProgramFailed, type Plan } from "../tools/offline/plan-result";
import { PROJECT_DIR, plan } from "./helpers/plan";
import { SCENARIOS, type GoldenScenario } from "./golden/scenarios";

const GOLDEN_DIR = path.join(PROJECT_DIR, "tests", "golden", "plans");
const URN_BASELINE = path.join(PROJECT_DIR, "tests", "golden", "urns.json");
const update = process.env.UPDATE_GOLDEN === "1";

// Support warnings depend on the day the tests run, not on the program.
const DATED = /EKS standard support/;

type Golden = { plan: Omit<Plan, "warnings"> & { warnings: string[] } } | { refused: { message: string; registered: string[] } };

async function goldenOf(scenario: GoldenScenario): Promise<Golden> {
  try {
    const p = await plan(scenario.stack, { overrides: scenario.overrides, deployed: scenario.deployed });
    return { plan: { ...p, warnings: p.warnings.filter((w) => !DATED.test(w)) } };
  } catch (err) {
    if (!(err instanceof ProgramFailed)) throw err;
    return { refused: { message: err.message, registered: err.registeredTypes.filter((t) => t !== "pulumi:pulumi:StackReference") } };
  }
}

const fileOf = (name: string) => path.join(GOLDEN_DIR, `${name}.json`);
const text = (golden: Golden) => JSON.stringify(golden, null, 1) + "\n";
const urnsOf = (golden: Golden) => ("plan" in golden ? golden.plan.resources.map((r) => r.urn) : []);

describe("golden plans", () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))("%s is unchanged", async (name, scenario) => {
    const golden = await goldenOf(scenario);
    if (update) {
      fs.mkdirSync(GOLDEN_DIR, { recursive: true });
      fs.writeFileSync(fileOf(name), text(golden));
    }
    expect(fs.existsSync(fileOf(name)), `no golden for ${name}: run UPDATE_GOLDEN=1 npm test -- golden`).toBe(true);
    // Compared as text: a whole-object diff of 500 resources is unreadable, the first differing line is not.
    const want = fs.readFileSync(fileOf(name), "utf8").split("\n");
    const got = text(golden).split("\n");
    const first = want.findIndex((line, i) => line !== got[i]);
    expect(first === -1 && want.length === got.length ? "" : `line ${first + 1}: want ${want[first]} got ${got[first]}`).toBe("");
  });

  it("every scenario refuses or plans as its name says", async () => {
    for (const s of SCENARIOS) {
      const golden = await goldenOf(s);
      expect("refused" in golden, s.name).toBe(s.name.startsWith("refuse-"));
      if ("refused" in golden) expect(golden.refused.registered, `${s.name} registered resources before refusing`).toEqual([]);
    }
  });

  it("keeps every URN of the baseline planned, or aliased by a planned resource", async () => {
    const now = new Set<string>();
    for (const s of SCENARIOS) {
      const golden = await goldenOf(s);
      if ("plan" in golden) for (const r of golden.plan.resources) for (const urn of [r.urn, ...r.options.aliases]) now.add(urn);
    }
    if (update && !fs.existsSync(URN_BASELINE)) {
      const all = new Set<string>();
      for (const s of SCENARIOS) for (const urn of urnsOf(await goldenOf(s))) all.add(urn);
      fs.writeFileSync(URN_BASELINE, JSON.stringify([...all].sort(), null, 1) + "\n");
    }
    const baseline = JSON.parse(fs.readFileSync(URN_BASELINE, "utf8")) as string[];
    expect(baseline.length).toBeGreaterThan(100);
    expect(baseline.filter((urn) => !now.has(urn))).toEqual([]);
  });

  it("shows aliases in each resource's options (the database's parameter group carries its old name)", async () => {
    const golden = await goldenOf(SCENARIOS.find((s) => s.name === "staging-steady")!);
    if (!("plan" in golden)) throw new Error("staging-steady refused");
    const group = golden.plan.resources.find((r) => r.type === "aws:rds/parameterGroup:ParameterGroup")!;
    expect(group.options.aliases.some((a) => a.endsWith("::zenml-database-params"))).toBe(true);
    expect(golden.plan.resources.every((r) => Array.isArray(r.options.aliases))).toBe(true);
  });
});
