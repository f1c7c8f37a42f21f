/**
 * The simulated ESP32's RAM: everything a reset throws away (UART buffers, the frame decoder, what
 * the app knows about its slots, the OTA session, the line rate, the ACK kept back). A reset makes
 * a new one; the flash and the eFuses stay.
 */
import type { Timer } from '../clock.js';
import { FrameDecoder, type Message } from '../protocol/index.js';
import { AckCoalescer } from './ack-coalesce.js';
import type { AppState } from './app-state.js';
import type { ResolvedOptions } from './device-core.js';
import type { Flash } from './flash.js';
import type { OtaSession } from './ota-session.js';
import { RecordLog } from './resume-record.js';
import { UartRx } from './uart-rx.js';

export interface Ram {
  uart: UartRx;
  decoder: FrameDecoder;
  apps: AppState | undefined;
  session: OtaSession | undefined;
  /** The image the last successful END installed, while no BEGIN has been accepted since (SPEC §4.2 bit6). */
  installed: InstalledImage | undefined;
  /** A new session's key failed to unwrap after BEGIN_ACK: DATA and END get this status (SPEC §4.4). */
  refusal: number | undefined;
  baud: number;
  booting: boolean;
  looping: boolean;
  stallMs: number;
  baudFallback: Timer | undefined;
  records: RecordLog | undefined;
  acks: AckCoalescer;
}

export interface InstalledImage {
  /** SHA-256 of the whole file (SPEC §4.2 bit6). */
  digest: Uint8Array;
  total: number;
  /** Index into the app slots of where it was written. */
  slot: number;
}

/** RAM as it is at power-on: booting, at the reset line rate; `emit` sends the device's messages. */
export function freshRam(opts: ResolvedOptions, flash: Flash, nvsSector: number | undefined, emit: (m: Message) => void): Ram {
  return {
    uart: new UartRx(opts.rxBufferBytes, opts.iramUart),
    decoder: new FrameDecoder({ maxFrame: opts.maxFrame, versions: 'any' }),
    apps: undefined,
    session: undefined,
    installed: undefined,
    refusal: undefined,
    baud: opts.baud,
    booting: true,
    looping: false,
    stallMs: 0,
    baudFallback: undefined,
    records: nvsSector !== undefined ? new RecordLog(flash, opts.timing.flash, nvsSector) : undefined,
    acks: new AckCoalescer(emit),
  };
}
