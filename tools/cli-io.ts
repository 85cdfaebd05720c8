// The one shape of our command-line tools. A tool exports `main(argv, io, env)`: its arguments,
// where it writes, the environment it reads; it resolves to the exit code and never touches
// `process`, so tests call it in-process with strings. tools/cli.cjs runs it for npm.

/** Where a tool writes: the process's streams from the command line, strings in tests. Text is written as is. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export type CliEnv = Readonly<Record<string, string | undefined>>;

/** Every tool's entry. A tool may take a fourth argument with stand-ins for what it reaches (tests only). */
export type CliMain = (argv: string[], io: CliIo, env: CliEnv) => Promise<number>;

/**
 * The caller's mistake: an unknown or missing flag, a bad value, a setting the tool needs. The tool
 * exits 2 and prints `<tool>: <message>` and its usage.
 */
export class UsageError extends Error {}

export interface ToolSpec {
  /** The npm script's name, the prefix of every line the tool writes to stderr. */
  name: string;
  usage: string;
  /** Errors of the tool's own modules that mean bad input (a stack file, a config): exit 2, message only. */
  badInput?: (err: unknown) => boolean;
}

/** node:util's parseArgs refuses unknown or malformed flags with these codes. */
const isParseArgsError = (err: unknown) =>
  String((err as { code?: unknown } | null)?.code ?? "").startsWith("ERR_PARSE_ARGS");

/** Runs a tool's body, turning bad usage and bad input into exit 2; anything else is the tool's bug and propagates. */
export async function runTool(spec: ToolSpec, io: CliIo, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.stderr(`${spec.name}: ${(err as Error).message}\n${spec.usage.trimEnd()}\n`);
      return 2;
    }
    if (spec.badInput?.(err)) {
      io.stderr(`${spec.name}: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

/** A tool's `--help`: the usage on stdout, exit 0. */
export function printUsage(spec: ToolSpec, io: CliIo): number {
  io.stdout(`${spec.usage.trimEnd()}\n`);
  return 0;
}

export const processIo = (): CliIo => ({
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
});

/** How tools/cli.cjs runs a tool: the process's arguments, streams and environment; a crash is exit 1. */
export function runAsProcess(name: string, main: CliMain, argv: string[]): void {
  const io = processIo();
  main(argv, io, process.env).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      io.stderr(`${name}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
