/**
 * The short device conversations behind `ota-uart info | confirm | rollback | reboot`: connect, ask
 * one thing, report. Each opens the link through the same `open` factory as push().
 */
import { systemClock, type Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { CONNECT_TIMEOUT_MS, STATUS } from '../protocol/index.js';
import type { Transport } from '../transport/transport.js';
import { DeviceLink } from './device-link.js';
import { describeDevice, slotSummary, type DeviceSummary } from './device-summary.js';
import { connectAtRates, type HelloAck } from './handshake.js';
import { deviceStatusError } from './status-errors.js';

export interface DeviceCommandOptions {
  open: () => Promise<Transport>;
  portLabel?: string;
  connectTimeoutMs?: number;
  /**
   * A second line rate to look for the device at (the rate a push switches to): a host killed
   * mid-push leaves the device there until it resets. HELLO alternates between the port's rate and
   * this one.
   */
  alsoTryBaud?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

async function withDevice<T>(o: DeviceCommandOptions, fn: (link: DeviceLink, hello: HelloAck, clock: Clock) => Promise<T>): Promise<T> {
  const clock = o.clock ?? systemClock;
  const transport = await o.open();
  try {
    const link = new DeviceLink(transport, clock);
    const rates = [transport.baud, ...(o.alsoTryBaud ? [o.alsoTryBaud] : [])];
    const hello = await connectAtRates(link, rates, o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, { clock, signal: o.signal, portLabel: o.portLabel });
    return await fn(link, hello, clock);
  } finally {
    await transport.close().catch(() => {});
  }
}

export function deviceInfo(o: DeviceCommandOptions): Promise<DeviceSummary> {
  return withDevice(o, async (_l, hello) => describeDevice(hello));
}

export interface ConfirmResult {
  action: 'confirm' | 'rollback';
  running: string;
  boot: string;
  version: string;
}

/** Marks the running (pending) app valid, cancelling the rollback. */
export function confirmApp(o: DeviceCommandOptions): Promise<ConfirmResult> {
  return withDevice(o, async (link, hello) => {
    const r = await link.request({ type: 'CONFIRM' }, 'CONFIRM_ACK', 5000, { signal: o.signal });
    if (r.status === STATUS.NO_PENDING) {
      throw new OtaError('DEVICE_STATE', `nothing to confirm on ${o.portLabel ?? 'the device'}: the running app (${hello.runVersion}) is not pending verification`, { details: { status: r.status } });
    }
    if (r.status !== STATUS.OK) throw deviceStatusError(r.status);
    return { action: 'confirm', running: slotSummary(hello, hello.running).slot, boot: slotSummary(hello, r.boot).slot, version: hello.runVersion };
  });
}

/** Marks the running (pending) app invalid; the device reboots into the previous app. */
export function rollbackApp(o: DeviceCommandOptions): Promise<ConfirmResult> {
  return withDevice(o, async (link, hello) => {
    const r = await link.request({ type: 'ROLLBACK' }, 'ROLLBACK_ACK', 5000, { signal: o.signal });
    if (r.status === STATUS.NO_PENDING) {
      throw new OtaError('DEVICE_STATE', `nothing to roll back on ${o.portLabel ?? 'the device'}: the running app (${hello.runVersion}) is not pending verification`, { details: { status: r.status } });
    }
    if (r.status === STATUS.BAD_STATE) {
      throw new OtaError('DEVICE_STATE', `${o.portLabel ?? 'the device'} has no other bootable app to roll back to`, { details: { status: r.status } });
    }
    if (r.status !== STATUS.OK) throw deviceStatusError(r.status);
    const b = slotSummary(hello, r.boot);
    return { action: 'rollback', running: slotSummary(hello, hello.running).slot, boot: b.slot, version: b.version };
  });
}

export function rebootDevice(o: DeviceCommandOptions): Promise<void> {
  return withDevice(o, (link) => requestReboot(link, o.signal));
}

/** REBOOT on a link already talking to the device (SPEC §4.8). */
export async function requestReboot(link: DeviceLink, signal?: AbortSignal): Promise<void> {
  const r = await link.request({ type: 'REBOOT' }, 'REBOOT_ACK', 5000, { signal });
  if (r.status !== STATUS.OK) throw deviceStatusError(r.status);
}
