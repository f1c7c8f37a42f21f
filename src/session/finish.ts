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
import { END_FLAGS, END_TIMEOUT_MS, STATUS } from '../protocol/index.js';
import type { Reporter } from '../reporter.js';
import type { DeviceLink, MessageOf } from './device-link.js';
import { slotLabel } from './device-summary.js';
import { connect } from './handshake.js';
import { deviceStatusError, type StatusContext } from './status-errors.js';

export interface FinishOptions {
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
  reboot: boolean;
  ctx: StatusContext;
  /** Names a slot index from the device's HELLO_ACK partition list. */
  slotName: (index: number) => string;
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
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      await link.send({ type: 'END', flags: o.reboot ? END_FLAGS.REBOOT : 0 });
      let res: MessageOf<'RESULT'>;
      try {
        res = await waitExtending(link, o, () => busy);
      } catch (e) {
        if (e instanceof OtaError && e.code === 'TIMEOUT') continue;
        throw e;
      }
      if (res.status === STATUS.OK) return { bootLabel: o.slotName(res.boot), version: res.version, secureVersion: res.secureVersion };
      if (res.status === STATUS.NO_SESSION && attempt > 0) return await confirmFromHello(link, o);
      throw deviceStatusError(res.status, o.ctx, res.detail);
    }
    throw new OtaError('TIMEOUT', `the device did not report the result of verification within ${END_TIMEOUT_MS / 1000} s (3 attempts)`);
  } finally {
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

/** The RESULT was lost but the device has no session: see what it will boot now. */
async function confirmFromHello(link: DeviceLink, o: FinishOptions): Promise<FinishResult> {
  const h = await connect(link, { clock: o.clock, timeoutMs: 3000, signal: o.signal });
  const p = h.parts[h.boot];
  if (!p) throw new OtaError('DEVICE_STATE', 'the device lost the result of the update and reports no boot slot');
  return { bootLabel: slotLabel(p.subtype), version: p.version, secureVersion: p.secureVersion };
}
