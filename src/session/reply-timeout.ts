/**
 * Repeating BEGIN or END that the device did not answer (SPEC §4.4, §4.7).
 *
 * A device answers every request within 100 ms of reading it, or announces longer work with
 * ACK(BUSY) first (§6.3). So once a request has had time to cross the wire, be read, and have its
 * answer cross back, a device that stayed silent did not get it, or its answer was lost. Waiting
 * out BEGIN_TIMEOUT (5 s) or END_TIMEOUT (10 s) instead cost 5 or 10 s on 11 pushes in 120 at a
 * BER of 1e-5 (a 531-byte BEGIN is hit 5 % of the time; scripts/bench, virtual time). Both
 * repeats are safe: a BEGIN for the same image resumes the session the first one opened, where
 * nothing has changed yet, and an END after its RESULT finds no session, which finish.ts answers
 * by asking HELLO what boots.
 */
import type { Clock, Timer } from '../clock.js';
import { encodeMessage, MIN_RTO_MS, type Message } from '../protocol/index.js';
import type { DeviceLink } from './device-link.js';

/** Longest a device may work on a request without announcing it with ACK(BUSY) (SPEC §6.3). */
export const DEVICE_QUIET_MS = 100;

/**
 * Milliseconds of silence after which a request counts as lost: two measured round trips (a repeat
 * that comes too soon only costs a duplicate the device answers again, one that comes late costs
 * idle time), the device's allowed quiet time, and the request's own bytes on the wire (a 531-byte
 * BEGIN takes 46 ms at 115200 baud, which a HELLO round trip does not show); at least MIN_RTO_MS.
 */
export function replyTimeoutMs(rttMs: number, requestBytes: number, baud: number): number {
  const wireMs = (requestBytes * 10 * 1000) / Math.max(1, baud);
  return Math.max(MIN_RTO_MS, 2 * rttMs + DEVICE_QUIET_MS + wireMs);
}

export interface RepeatOptions {
  clock: Clock;
  /** Silence (ms) before the first repeat; each further repeat waits twice as long as the last. */
  quietMs: number;
  /** Sends the request again. */
  resend: () => Promise<void>;
  /** Called before each repeat with its number (1, 2, ...). */
  onRepeat?: (n: number) => void;
}

/**
 * Calls `resend` whenever the device has said nothing for the current quiet time, counted from the
 * latest of: the start (or the last repeat), the last frame it sent, and the end of any work it
 * announced with ACK(BUSY), also before this started (a final flash write announced just before
 * END). Returns a function that stops it. Doubling keeps a link that is slower than we measured
 * from being flooded.
 */
export function repeatWhenQuiet(link: DeviceLink, o: RepeatOptions): () => void {
  let quietMs = o.quietMs;
  let since = o.clock.now();
  let repeats = 0;
  let timer: Timer | undefined;
  let stopped = false;
  const check = (): void => {
    if (stopped) return;
    const now = o.clock.now();
    const due = Math.max(since, link.heardAt, link.busyUntil) + quietMs;
    if (now < due) {
      timer = o.clock.setTimer(due - now, check);
      return;
    }
    o.onRepeat?.(++repeats);
    since = now;
    quietMs *= 2;
    // A failed write means the link is gone; the waiter this runs beside reports that.
    o.resend().catch(() => {});
    timer = o.clock.setTimer(quietMs, check);
  };
  timer = o.clock.setTimer(quietMs, check);
  return () => {
    stopped = true;
    timer?.cancel();
  };
}

/**
 * repeatWhenQuiet for one request (BEGIN, END): sends `request` again, timed by `rttMs` and the
 * request's own size at the link's current rate.
 */
export function repeatRequest(link: DeviceLink, request: Message, o: { clock: Clock; rttMs: number; onRepeat: (n: number) => void }): () => void {
  return repeatWhenQuiet(link, {
    clock: o.clock,
    quietMs: replyTimeoutMs(o.rttMs, encodeMessage(request).length, link.transport.baud),
    resend: () => link.send(request),
    onRepeat: o.onRepeat,
  });
}
