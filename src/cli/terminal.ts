/**
 * The CLI's contact with the process: output lines, TTY detection and Ctrl-C. Library code never
 * touches these; commands get them from here so tests can swap them.
 */
import { OtaError } from '../errors.js';

export const terminal = {
  stdoutLine: (line: string): void => void process.stdout.write(`${line}\n`),
  stderrLine: (line: string): void => void process.stderr.write(`${line}\n`),
  stderrIsTTY: (): boolean => !!process.stderr.isTTY,
  stderrStream: (): NodeJS.WritableStream => process.stderr,
};

/**
 * Runs `fn` with signals tied to Ctrl-C (SIGINT) and SIGTERM, in stages:
 * - with `stop` wanted (station): the first signal fires `stop` (take no new work, let the work in
 *   flight finish), the second fires `abort`;
 * - otherwise the first signal fires `abort` (the session sends ABORT; the device keeps its firmware).
 * One more signal after `abort` stops waiting for a clean end and exits at once (status 130).
 */
export async function runStoppable<T>(
  fn: (abort: AbortSignal, stop: AbortSignal) => Promise<T>,
  o: { graceful?: boolean; stopMessage?: string } = {},
): Promise<T> {
  const abort = new AbortController();
  const stop = new AbortController();
  const onSignal = (): void => {
    if (o.graceful && !stop.signal.aborted) {
      stop.abort();
      terminal.stderrLine(`ota-uart: ${o.stopMessage ?? 'stopping'}; press Ctrl-C again to abort the updates in progress`);
    } else if (!abort.signal.aborted) {
      stop.abort();
      terminal.stderrLine('ota-uart: aborting (the device keeps its current firmware); press Ctrl-C again to quit at once');
      abort.abort(new OtaError('ABORTED', 'aborted by the user'));
    } else {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(abort.signal, stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The one-stage form: the first Ctrl-C aborts cleanly. */
export function runInterruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return runStoppable((abort) => fn(abort));
}
