// What makes a plan cheap must not change what it computes or hide what a user needs to see.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { rdsCaBundle } from "../components/rds-ca";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ProgramFailed, runPlan } from "../tools/offline/plan";
import { readProjectFile, readStackConfig } from "../tools/offline/stack-files";
import { PROJECT_DIR } from "./helpers/plan";

/** Runs `body` with a prepareStackTrace that counts the stacks formatted for Pulumi's promise records. */
async function countPromiseStacks(body: () => Promise<unknown>): Promise<number> {
  const outer = Error.prepareStackTrace;
  let promiseStacks = 0;
  Error.prepareStackTrace = (error, frames) => {
    if (frames[0]?.getFunctionName() === "debuggablePromise") promiseStacks++;
    return outer ? outer(error, frames) : String(error);
  };
  try {
    await body();
    return promiseStacks;
  } finally {
    Error.prepareStackTrace = outer;
  }
}

describe("Pulumi's per-promise stacks during a plan", () => {
  it("are neither recorded nor formatted unless PULUMI_DEBUG_PROMISE_LEAKS asks for them, and the caller's formatter is back afterwards", async () => {
    const before = Error.prepareStackTrace;
    // Three resources are enough to make Pulumi record stacks: the whole program would only cost more.
    const program = async () => ({ ids: ["a", "b", "c"].map((name) => new random.RandomId(name, { byteLength: 4 }).hex) });
    expect(await countPromiseStacks(() => runPlan({ stack: "staging", projectDir: PROJECT_DIR, program }))).toBe(0);
    expect(Error.prepareStackTrace).toBe(before);
    vi.stubEnv("PULUMI_DEBUG_PROMISE_LEAKS", "1");
    try {
      expect(await countPromiseStacks(() => runPlan({ stack: "staging", projectDir: PROJECT_DIR, program }))).toBeGreaterThan(20);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("a program that fails by a bug shows where: the failure's cause carries the program's whole stack", async () => {
    const limit = Error.stackTraceLimit;
    const err = await runPlan({ stack: "staging", projectDir: PROJECT_DIR, program: async () => { throw new TypeError("from the program"); } }).then(() => new Error("the plan did not fail"), (e: Error) => e);
    expect(err.message).toBe("from the program");
    expect(err.stack).toMatch(/\n\s+at .*plan-speed\.test\.ts/);
    expect((err.cause as Error).stack).toMatch(/^TypeError: from the program\n\s+at .*plan-speed\.test\.ts/);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it("a refusal is the program's message and nothing more, planned once", async () => {
    let runs = 0;
    const refusal = async () => {
      runs++;
      throw new pulumi.RunError("zenml-platform:zenmlVersion on staging: refused");
    };
    const err = await runPlan({ stack: "staging", projectDir: PROJECT_DIR, program: refusal }).then(() => undefined, (e: ProgramFailed) => e);
    expect(err).toMatchObject({ message: "zenml-platform:zenmlVersion on staging: refused", userFacing: true });
    expect(runs).toBe(1);
  });
});

describe("stack files read once per content", () => {
  it("hand out copies, and a changed file is read again", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zenml-stack-files-"));
    try {
      fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
      const original = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.staging.yaml"), "utf8");
      fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), original);
      const first = readStackConfig(dir, "staging");
      first.values["zenml-platform:serverReplicas"] = "changed by a caller";
      readProjectFile(dir).config.serverReplicas = { type: "integer", default: 99 };
      expect(readStackConfig(dir, "staging").values["zenml-platform:serverReplicas"]).not.toBe("changed by a caller");
      expect(readProjectFile(dir).config.serverReplicas?.default).not.toBe(99);
      fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), original.replace(/serverReplicas: *\d+/, "serverReplicas: 7"));
      expect(readStackConfig(dir, "staging").values["zenml-platform:serverReplicas"]).toBe("7");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the RDS CA bundle, parsed once per process", () => {
  it("still answers by region and by date", () => {
    const today = rdsCaBundle("eu-west-1");
    expect(today).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(rdsCaBundle("eu-west-1")).toBe(today);
    expect(rdsCaBundle("us-east-1")).not.toBe(today);
    expect(rdsCaBundle("eu-west-1", new Date("2200-01-01"))).toBe("");
  });
});
