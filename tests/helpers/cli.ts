import type { CliEnv, CliIo } from "../../tools/cli-io";
import type { Planner } from "../../tools/offline/plan-result";
import { cachedRunPlan } from "./plan";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI's main() against strings instead of the process's streams. */
export async function captureIo(run: (io: CliIo) => Promise<number>): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await run({ stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** A CLI that plans, in-process: the same main() its npm script runs, without a process start; plans go through the suite's cache. */
export function runMain(main: (argv: string[], io: CliIo, env: CliEnv, planner?: Planner) => Promise<number>, argv: string[]): Promise<CliResult> {
  return captureTool(main, argv, {}, cachedRunPlan);
}

/** A tool's `main(argv, io, env, deps)` in-process (tools/cli-io.ts), its output as strings. */
export function captureTool<D>(
  main: (argv: string[], io: CliIo, env: CliEnv, deps?: D) => Promise<number>,
  argv: string[],
  env: CliEnv = {},
  deps?: D,
): Promise<CliResult> {
  return captureIo((io) => main(argv, io, env, deps));
}

/** Text written line by line, as the lines (without the final newline's empty one). */
export const linesOf = (text: string): string[] => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));
