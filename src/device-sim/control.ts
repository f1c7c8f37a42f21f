/**
 * The short requests (SPEC §4.3, §4.8): BAUD, ABORT, CONFIRM, ROLLBACK, PING, REBOOT, and the
 * reply a device gives to a request it cannot parse. HELLO is answered by the device itself
 * (hello.ts builds it) and DATA/BEGIN/END have their own modules.
 */
import { MSG, STATUS, type Message, type MessageOf, type MsgName } from '../protocol/index.js';
import type { DeviceCore } from './device-core.js';
import { customOp } from './flash-ops.js';

/** Lowest rate accepted in BAUD (below it a 1 KiB chunk takes over 100 ms). */
export const MIN_SWITCH_BAUD = 9600;

/**
 * BAUD: answer at the old rate, wait until that answer has left, switch. The caller arms the
 * 1 s fallback (no valid frame at the new rate -> back to the old one).
 */
export async function handleBaud(d: DeviceCore, m: MessageOf<'BAUD'>): Promise<boolean> {
  const max = d.opts.maxBaud;
  if (max === 0 || m.baud > max || m.baud < MIN_SWITCH_BAUD) {
    d.send({ type: 'BAUD_ACK', status: STATUS.UNSUPPORTED, baud: m.baud });
    return false;
  }
  d.send({ type: 'BAUD_ACK', status: STATUS.OK, baud: m.baud });
  await d.drainOutput();
  d.setLineRate(m.baud);
  return true;
}

export async function handleAbort(d: DeviceCore): Promise<void> {
  const had = d.session !== undefined;
  d.session = undefined;
  if (d.records) await d.flashWork(d.records.clear());
  if (had) d.counters.aborts++;
  d.event({ type: 'abort' });
  d.send({ type: 'ABORT_ACK', status: STATUS.OK });
}

function otadataMs(d: DeviceCore): number {
  return d.opts.timing.flash.sectorEraseMs + d.opts.timing.flash.pageProgramMs;
}

/** CONFIRM: esp_ota_mark_app_valid_cancel_rollback (with anti-rollback, the eFuse follows the app). */
export async function handleConfirm(d: DeviceCore): Promise<void> {
  const { apps } = d;
  if (!d.opts.rollback || !apps.runningPending()) {
    d.send({ type: 'CONFIRM_ACK', status: STATUS.NO_PENDING, boot: apps.nextBoot() & 0xff });
    return;
  }
  await d.flashWork([customOp('otadata confirm', otadataMs(d), () => apps.confirm())]);
  const run = apps.slot(apps.running);
  if (d.opts.antiRollback && run.secureVersion > d.efuseSecureVersion) d.efuseSecureVersion = run.secureVersion;
  apps.invalidate();
  d.event({ type: 'confirm', version: run.version });
  d.send({ type: 'CONFIRM_ACK', status: STATUS.OK, boot: apps.nextBoot() & 0xff });
}

/** ROLLBACK: esp_ota_mark_app_invalid_rollback_and_reboot; answers before it resets. */
export async function handleRollback(d: DeviceCore): Promise<void> {
  const { apps } = d;
  if (!d.opts.rollback || !apps.runningPending()) {
    d.send({ type: 'ROLLBACK_ACK', status: STATUS.NO_PENDING, boot: apps.nextBoot() & 0xff });
    return;
  }
  if (!apps.rollbackPossible()) {
    d.send({ type: 'ROLLBACK_ACK', status: STATUS.BAD_STATE, boot: apps.nextBoot() & 0xff });
    return;
  }
  const version = apps.slot(apps.running).version;
  await d.flashWork([customOp('otadata invalidate', otadataMs(d), () => apps.markRunningInvalid())]);
  apps.invalidate();
  d.event({ type: 'rollback', version });
  d.send({ type: 'ROLLBACK_ACK', status: STATUS.OK, boot: apps.nextBoot() & 0xff });
  await d.drainOutput();
  d.reset('rollback');
}

export async function handleReboot(d: DeviceCore): Promise<void> {
  d.send({ type: 'REBOOT_ACK', status: STATUS.OK });
  await d.drainOutput();
  d.reset('reboot');
}

/**
 * SPEC §4.9: a request the device refuses without acting on it gets a short reply (its reply type,
 * the status byte only). HELLO with a wrong magic is stray traffic and gets no answer (undefined).
 */
export function shortReply(name: MsgName, status: number): Message | undefined {
  return name === 'HELLO' ? undefined : { type: 'REPLY', code: MSG[name] | 0x80, status };
}
