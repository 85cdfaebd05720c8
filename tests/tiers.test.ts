// The fast tier (everything outside vitest.config.mts's PROCESS_TESTS) starts no process: a test
// that does fails there with the way out, instead of quietly slowing the tier run while editing.
import * as childProcess from "node:child_process";
import { describe, expect, it } from "vitest";

describe("the fast test tier", () => {
  it("refuses to start a process, naming the list to move the test to", () => {
    expect(() => childProcess.spawnSync("true")).toThrow(/fast test tier starts no processes; list this file in vitest\.config\.mts's PROCESS_TESTS/);
    expect(() => childProcess.execFileSync("true")).toThrow(/fast test tier/);
  });
});
