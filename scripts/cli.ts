/** What the npm-run scripts share: their output channels, their exit codes for failures, how they run from the shell. */
import { UsageError } from './replay/window';

export interface Io {
  /** Results (stdout). */
  out: (line: string) => void;
  /** Usage errors, notes and progress (stderr). */
  log: (line: string) => void;
}

/** Logs a failure: 2 for a usage error (with the usage text), 1 for anything else. */
export function failureExitCode(err: unknown, usage: string, io: Pick<Io, 'log'>): number {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.log(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  io.log(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  return 1;
}

/** Runs a script's `main` with the process's arguments and streams; its result is the exit code. */
export function runMain(main: (argv: string[], io: Io) => Promise<number>): void {
  const io: Io = { log: (line) => process.stderr.write(`${line}\n`), out: (line) => process.stdout.write(`${line}\n`) };
  main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
