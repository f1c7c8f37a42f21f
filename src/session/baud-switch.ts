/**
 * Baud switch (SPEC §4.3): ask, both switch, confirm with PING/PONG at the new rate; if that fails,
 * both sides fall back to the old rate on their own, so a bad adapter or cable never strands the
 * session. Returns the rate in use afterwards.
 */
import type { Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { BAUD_CONFIRM_MS, MSG, REPLY_BIT, STATUS } from '../protocol/index.js';
import type { Reporter } from '../reporter.js';
import type { DeviceLink } from './device-link.js';

export interface BaudSwitchOptions {
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
}

export async function switchBaud(link: DeviceLink, target: number, maxBaud: number, opts: BaudSwitchOptions): Promise<number> {
  const t = link.transport;
  const old = t.baud;
  if (target === old) return old;
  const warn = (message: string): void => opts.reporter.event({ type: 'log', level: 'warn', message });
  if (maxBaud === 0 || target > maxBaud) {
    warn(`the device does not accept ${target} baud (its maximum is ${maxBaud || old}); staying at ${old}`);
    return old;
  }
  // A device without BAUD support answers with the one-byte UNSUPPORTED reply (decoded as REPLY).
  let refused = false;
  const off = link.listen((m) => { if (m.type === 'REPLY' && m.code === (MSG.BAUD | REPLY_BIT)) refused = true; });
  let ack;
  try {
    ack = await link.request({ type: 'BAUD', baud: target }, 'BAUD_ACK', BAUD_CONFIRM_MS, { signal: opts.signal });
  } catch (e) {
    if (!(e instanceof OtaError && e.code === 'TIMEOUT')) throw e;
    if (refused) {
      warn(`the device does not support baud switching; staying at ${old}`);
      return old;
    }
    // The BAUD_ACK may have been lost after the device switched: it returns to the old rate by
    // itself after BAUD_CONFIRM_MS without a valid frame, so wait that out and check.
    await opts.clock.sleep(BAUD_CONFIRM_MS + 100);
    if (!(await pingUntilPong(link, BAUD_CONFIRM_MS * 2, opts))) {
      throw new OtaError('LINK_LOST', `the device stopped answering while switching to ${target} baud`);
    }
    warn(`the device did not confirm ${target} baud; continuing at ${old}`);
    return old;
  } finally {
    off();
  }
  if (ack.status !== STATUS.OK) {
    warn(`the device refused ${target} baud; staying at ${old}`);
    return old;
  }
  try {
    await t.setBaud(target);
  } catch (e) {
    // The device already switched; it falls back by itself after BAUD_CONFIRM_MS of silence.
    warn(`this serial adapter refused ${target} baud (${(e as Error).message}); staying at ${old}`);
    await opts.clock.sleep(BAUD_CONFIRM_MS + 100);
    await pingUntilPong(link, BAUD_CONFIRM_MS * 2, opts);
    return old;
  }
  await opts.clock.sleep(20);
  if (await pingUntilPong(link, BAUD_CONFIRM_MS, opts)) {
    opts.reporter.event({ type: 'baud', baud: target });
    return target;
  }
  await t.setBaud(old);
  await opts.clock.sleep(Math.max(0, BAUD_CONFIRM_MS - 900));
  if (!(await pingUntilPong(link, BAUD_CONFIRM_MS * 2, opts))) {
    throw new OtaError('LINK_LOST', `lost the device after trying ${target} baud, and it did not come back at ${old}`);
  }
  warn(`${target} baud did not work on this link (no answer at the new rate); continuing at ${old}`);
  return old;
}

/** Sends PING every 100 ms until a PONG with the matching nonce arrives or `windowMs` passes. */
export async function pingUntilPong(link: DeviceLink, windowMs: number, opts: { clock: Clock; signal?: AbortSignal }): Promise<boolean> {
  const end = opts.clock.now() + windowMs;
  while (opts.clock.now() < end) {
    const nonce = (Math.random() * 0xffffffff) >>> 0;
    try {
      await link.request({ type: 'PING', nonce }, 'PONG', 100, { pred: (m) => m.nonce === nonce, signal: opts.signal });
      return true;
    } catch (e) {
      if (!(e instanceof OtaError) || e.code !== 'TIMEOUT') throw e;
    }
  }
  return false;
}
