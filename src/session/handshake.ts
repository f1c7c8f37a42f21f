/**
 * Finding the device: HELLO every HELLO_INTERVAL_MS until a HELLO_ACK arrives (SPEC §4.1). The
 * decoder drops boot-log text and half frames, so a device that is still printing its boot banner
 * simply answers a later HELLO. A device speaking another protocol version is a clear error.
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
  /** Describes the port for error messages ("/dev/ttyUSB0 at 115200 baud"). */
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
    await link.send(hello);
    const left = timeoutMs - (opts.clock.now() - start);
    try {
      const ack = await link.wait('HELLO_ACK', Math.max(1, Math.min(HELLO_INTERVAL_MS, left)), {
        signal: opts.signal,
      });
      if (ack.proto !== PROTO_VERSION) {
        throw new OtaError(
          'PROTOCOL_VERSION',
          `the device speaks ota-uart protocol ${ack.proto}; this host speaks ${PROTO_VERSION}. ` +
            (ack.proto > PROTO_VERSION ? 'Upgrade ota-uart.' : 'Update the device firmware or use an older ota-uart.'),
          { details: { deviceProto: ack.proto, hostProto: PROTO_VERSION } },
        );
      }
      return ack;
    } catch (e) {
      if (!(e instanceof OtaError) || e.code !== 'TIMEOUT') throw e;
    }
    if (opts.clock.now() - start >= timeoutMs) {
      const c = link.decoder.counters;
      const heard =
        c.frames + c.noiseBytes === 0
          ? 'nothing at all came back (is the device powered, on this port, and running firmware with the ota-uart receiver? are TX/RX swapped?)'
          : `only unreadable data came back (${c.noiseBytes} noise bytes, ${c.badCrc} bad CRCs: a baud-rate mismatch, or firmware without the ota-uart receiver)`;
      throw new OtaError(
        'NO_DEVICE',
        `no ota-uart device answered on ${opts.portLabel ?? 'the port'}: sent ${attempts} HELLO frames over ${(timeoutMs / 1000).toFixed(1)} s; ${heard}`,
        { details: { attempts, timeoutMs, counters: { ...c } } },
      );
    }
  }
}
