import type { CliIo } from "../../tools/cli-io";
import type { Planner } from "../../tools/offline/plan";
import { cachedRunPlan } from "./plan";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

type Main = (argv: string[], io: CliIo, planner?: Planner) => Promise<number>;

/** One of our CLIs in-process: the same main() its npm script runs, without a process start; plans go through the suite's cache. */
export async function runMain(main: Main, argv: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, cachedRunPlan);
  return { code, stdout, stderr };
}
