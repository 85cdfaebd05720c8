// What an in-process CLI writes to: the process's streams from the command line, strings in tests.

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Runs a CLI's main() against the real process: its arguments, its streams, its exit code. */
export function runFromCommandLine(main: (argv: string[], io: CliIo) => Promise<number>): void {
  void main(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }).then((code) => (process.exitCode = code));
}
