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
 * Runs `fn` with an AbortSignal tied to Ctrl-C (SIGINT) and SIGTERM. The first signal asks the
 * session to stop cleanly (it tells the device to drop the session); a second one exits at once.
 */
export async function runInterruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let hits = 0;
  const onSignal = (): void => {
    hits++;
    if (hits === 1) {
      terminal.stderrLine('ota-uart: stopping (the device keeps its current firmware); press Ctrl-C again to quit at once');
      ac.abort(new OtaError('ABORTED', 'aborted by the user'));
    } else {
      // Second Ctrl-C: stop waiting for a clean end; let the default handler end the process.
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.kill(process.pid, 'SIGINT');
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
