/**
 * Finding the device: HELLO every HELLO_INTERVAL_MS until a HELLO_ACK arrives (SPEC §4.1). The
 * decoder drops boot-log text and half frames, so a device that is still printing its boot banner
 * simply answers a later HELLO. A device speaking another protocol version is a clear error, and a
 * device that never answers gets a message saying what was tried and what, if anything, came back.
 */
import type { Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { CONNECT_TIMEOUT_MS, HELLO_INTERVAL_MS, PROTO_VERSION, type Message } from '../protocol/index.js';
import { abortError, type DeviceLink, type MessageOf } from './device-link.js';

export type HelloAck = MessageOf<'HELLO_ACK'>;

export interface ConnectOptions {
  clock: Clock;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Names the port in error messages ("/dev/ttyUSB0"). */
  portLabel?: string;
}

export async function connect(link: DeviceLink, opts: ConnectOptions): Promise<HelloAck> {
  const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const start = opts.clock.now();
  let attempts = 0;
  const hello: Message = { type: 'HELLO', hostProto: PROTO_VERSION, flags: 0 };
  for (;;) {
    if (opts.signal?.aborted) throw abortError();
    attempts++;
    const left = timeoutMs - (opts.clock.now() - start);
    try {
      const ack = await link.request(hello, 'HELLO_ACK', Math.max(1, Math.min(HELLO_INTERVAL_MS, left)), { signal: opts.signal });
      if (ack.proto !== PROTO_VERSION) {
        throw new OtaError(
          'PROTOCOL_VERSION',
          `the device on ${opts.portLabel ?? 'the port'} speaks ota-uart protocol ${ack.proto}; this host speaks ${PROTO_VERSION}. ` +
            (ack.proto > PROTO_VERSION ? 'Upgrade ota-uart.' : 'Update the device firmware or use an older ota-uart.'),
          { details: { deviceProto: ack.proto, hostProto: PROTO_VERSION, port: opts.portLabel } },
        );
      }
      return ack;
    } catch (e) {
      if (!(e instanceof OtaError) || e.code !== 'TIMEOUT') throw e;
    }
    if (opts.clock.now() - start >= timeoutMs) throw noDeviceError(link, attempts, timeoutMs, opts.portLabel);
  }
}

/**
 * NO_DEVICE, saying what was tried (port, baud, how long, how many HELLOs) and what came back, so
 * the user can tell a dead or unplugged board from a baud mismatch or firmware without a receiver.
 */
export function noDeviceError(link: DeviceLink, attempts: number, timeoutMs: number, portLabel?: string, rates?: number[]): OtaError {
  const d = link.decoder.counters;
  const c = link.counters;
  const baud = link.transport.baud;
  const at = rates && rates.length > 1 ? `${rates.join(' or ')} baud` : `${baud} baud`;
  const tried = `no ota-uart device answered on ${portLabel ?? 'the port'} at ${at}: sent ${attempts} HELLO frames over ${(timeoutMs / 1000).toFixed(1)} s`;
  let heard: string;
  if (c.rxBytes === 0) {
    heard = 'no bytes at all came back (is the board powered and on this port, is TX/RX crossed correctly, is it held in reset or in the ROM bootloader?)';
  } else if (c.receivedFrames > 0) {
    heard = `got ${c.receivedFrames} protocol frames but no HELLO_ACK (is another program talking to the device?)`;
  } else if (c.rxTextBytes >= c.rxBytes * 0.9) {
    heard = `got ${c.rxBytes} bytes of non-protocol text ("${quote(link.rxSample)}"): is the firmware with the ota-uart receiver running? (the example firmware is in firmware/esp-idf-example)`;
  } else {
    heard = `got ${c.rxBytes} bytes that are neither text nor frames (${d.badCrc} bad CRCs): a baud-rate mismatch? the device listens at the rate set with --initial-baud`;
  }
  return new OtaError('NO_DEVICE', `${tried}; ${heard}`, {
    details: { port: portLabel, baud, ...(rates && { rates }), attempts, timeoutMs, rxBytes: c.rxBytes, rxTextBytes: c.rxTextBytes, decoder: { ...d } },
  });
}

/** A short, single-line, printable excerpt of what the device sent. */
function quote(bytes: readonly number[]): string {
  const text = String.fromCharCode(...bytes.slice(0, 60))
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '.')
    .trim();
  return bytes.length > 60 ? `${text}...` : text;
}

/** How long HELLO stays at one rate before trying the next. */
const RATE_SLICE_MS = 1000;

/**
 * HELLO at each of `rates` in turn (RATE_SLICE_MS each, first rate first) until the device answers
 * or `timeoutMs` passes. After a lost session the device may still run at the switched rate (only
 * the link glitched, or the port was reopened at the initial rate) or be back at its initial rate
 * (it reset); a new push, or `info`, may find a device that an earlier host left at the switched
 * rate (killed before it could switch the device back).
 */
export async function connectAtRates(
  link: DeviceLink,
  rates: number[],
  timeoutMs: number,
  opts: { clock: Clock; signal?: AbortSignal; portLabel?: string },
): Promise<HelloAck> {
  const t = link.transport;
  const unique = [...new Set(rates)];
  const end = opts.clock.now() + timeoutMs;
  let attempts = 0;
  for (let i = 0; ; i++) {
    const rate = unique[i % unique.length]!;
    if (t.baud !== rate) await t.setBaud(rate);
    const left = end - opts.clock.now();
    const slice = unique.length === 1 ? left : Math.min(RATE_SLICE_MS, left);
    try {
      return await connect(link, { clock: opts.clock, timeoutMs: Math.max(1, slice), signal: opts.signal, portLabel: opts.portLabel });
    } catch (e) {
      if (!(e instanceof OtaError && e.code === 'NO_DEVICE')) throw e;
      attempts += Number(e.details.attempts ?? 0);
      if (opts.clock.now() >= end - 1) throw unique.length === 1 ? e : noDeviceError(link, attempts, timeoutMs, opts.portLabel, unique);
    }
  }
}
