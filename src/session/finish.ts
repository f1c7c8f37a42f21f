/**
 * The end of a session (SPEC §4.7): END, then RESULT once the device has checked the GCM tag,
 * verified the app in flash and switched otadata. Verification can take seconds on a real ESP32,
 * which the device announces with ACK(BUSY); we extend the wait by what it announces.
 *
 * If the RESULT itself is lost, a repeated END finds no session (the device already cleared it);
 * we then ask HELLO what is set to boot rather than guessing.
 */
import type { Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { END_FLAGS, END_TIMEOUT_MS, STATUS, type Message } from '../protocol/index.js';
import type { Reporter } from '../reporter.js';
import type { DeviceLink, MessageOf } from './device-link.js';
import { slotLabel } from './device-summary.js';
import type { EarlyEnd } from './early-end.js';
import { connect } from './handshake.js';
import { repeatRequest } from './reply-timeout.js';
import { deviceStatusError, SessionLostError, type StatusContext } from './status-errors.js';

export interface FinishOptions {
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
  reboot: boolean;
  ctx: StatusContext;
  /** Names a slot index from the device's HELLO_ACK partition list. */
  slotName: (index: number) => string;
  /** The slot being written (BEGIN_ACK.target): what must boot after a successful END. */
  target: number;
  /** File length, for the "session lost" error. */
  total: number;
  /** END already sent after the last DATA frame (early-end.ts): wait for its RESULT first. */
  early?: EarlyEnd;
  /** The data phase's smoothed round trip (ms; 0 if unknown): how soon a silent device gets END again. */
  srttMs?: number;
  /** Called for each END repeat (reply-timeout.ts); without it END is not repeated, only retried after END_TIMEOUT. */
  onRepeat?: () => void;
}

export interface FinishResult {
  bootLabel: string;
  version: string;
  secureVersion: number;
}

export async function finishSession(link: DeviceLink, o: FinishOptions): Promise<FinishResult> {
  let busy = 0;
  const off = link.listen((m) => {
    if (m.type === 'ACK' && m.status === STATUS.BUSY) {
      busy += m.busyMs;
      o.reporter.event({ type: 'busy', ms: m.busyMs, phase: 'verify' });
    }
  });
  const end: Message = { type: 'END', flags: o.reboot ? END_FLAGS.REBOOT : 0 };
  let repeats = 0;
  // A lost END or RESULT is sent again after a short silence, not after END_TIMEOUT: the device
  // keeps sending ACKs while it takes in the last data, and announces verification with ACK(BUSY).
  const stopRepeats = !o.onRepeat ? () => {} : repeatRequest(link, end, {
    clock: o.clock,
    rttMs: o.srttMs || link.lastRttMs,
    onRepeat: () => {
      repeats++;
      o.onRepeat?.();
      o.reporter.event({ type: 'retry', offset: o.total, reason: 'unanswered', request: 'END' });
    },
  });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const endSent = attempt === 0 && o.early !== undefined && !o.early.needsEnd;
      let res: MessageOf<'RESULT'>;
      if (endSent && o.early!.result) {
        res = o.early!.result;
      } else {
        const pending = waitExtending(link, o, () => busy);
        try {
          if (!endSent) await link.send(end);
          res = await pending;
        } catch (e) {
          pending.catch(() => {});
          if (e instanceof OtaError && e.code === 'TIMEOUT') continue;
          throw e;
        }
      }
      if (res.status === STATUS.OK) return { bootLabel: o.slotName(res.boot), version: res.version, secureVersion: res.secureVersion };
      if (res.status === STATUS.NO_SESSION) {
        // First END: the device lost the session before verifying (it reset); resume it. A repeated
        // END: our first END may have worked and only its RESULT was lost; ask what boots now.
        if (attempt === 0 && repeats === 0) throw new SessionLostError(o.total);
        return await confirmFromHello(link, o);
      }
      throw deviceStatusError(res.status, o.ctx, res.detail);
    }
    throw new OtaError('TIMEOUT', `the device did not report the result of verification within ${END_TIMEOUT_MS / 1000} s (3 attempts)`);
  } finally {
    stopRepeats();
    off();
  }
}

async function waitExtending(link: DeviceLink, o: FinishOptions, busy: () => number): Promise<MessageOf<'RESULT'>> {
  for (;;) {
    const before = busy();
    try {
      return await link.wait('RESULT', END_TIMEOUT_MS + before, { signal: o.signal });
    } catch (e) {
      if (!(e instanceof OtaError && e.code === 'TIMEOUT' && busy() > before)) throw e;
    }
  }
}

/**
 * The RESULT was lost and the device has no session: it either finished (and switched its boot slot
 * to the one we wrote) or lost the session (reset). Only the first counts as success; we never
 * report the old boot slot as an update.
 */
async function confirmFromHello(link: DeviceLink, o: FinishOptions): Promise<FinishResult> {
  const h = await connect(link, { clock: o.clock, timeoutMs: 3000, signal: o.signal });
  const p = h.parts[h.boot];
  if (!p || h.boot !== o.target || !p.valid) throw new SessionLostError(o.total);
  return { bootLabel: slotLabel(p.subtype), version: p.version, secureVersion: p.secureVersion };
}
