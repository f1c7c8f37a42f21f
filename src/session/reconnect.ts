/**
 * Reopening a port that went away. A USB-serial adapter re-enumerates when the board resets, so the
 * device node vanishes for a moment; we retry opening until `timeoutMs` passes.
 */
import type { Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import { abortError } from './device-link.js';

export async function reopenWithin(
  open: () => Promise<Transport>,
  timeoutMs: number,
  clock: Clock,
  signal?: AbortSignal,
  label?: string,
): Promise<Transport> {
  const end = clock.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (signal?.aborted) throw abortError();
    try {
      return await open();
    } catch (e) {
      last = e;
      const code = e instanceof OtaError ? e.code : '';
      // Wrong permissions or a wrong path typed by the user will not fix themselves... but a
      // vanished node (PORT_NOT_FOUND) or a briefly locked one may: keep trying those.
      if (code !== 'PORT_NOT_FOUND' && code !== 'PORT_BUSY' && code !== 'LINK_LOST') throw e;
    }
    if (clock.now() >= end) break;
    await clock.sleep(250);
  }
  throw new OtaError(
    'LINK_LOST',
    `the link to ${label ?? 'the device'} was lost and the port did not come back within ${(timeoutMs / 1000).toFixed(0)} s; push the same image again to resume`,
    { cause: last, disconnected: true },
  );
}
