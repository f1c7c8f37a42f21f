/**
 * The simulated device's options, events and counters, and the narrow view of the device that the
 * message handlers (begin.ts, data-phase.ts, end.ts, control.ts) work through. Types only, plus
 * the option defaults.
 */
import type { Clock } from '../clock.js';
import type { DecryptionKey } from '../image/index.js';
import { DURABLE_INTERVAL, MAX_FRAME_ABS, MIN_MAX_FRAME, type Message } from '../protocol/index.js';
import type { AppState } from './app-state.js';
import type { EarlyCheckContext } from './early-checks.js';
import type { SimFaults } from './faults.js';
import type { Flash, FlashTiming } from './flash.js';
import type { FlashOp } from './flash-ops.js';
import type { OtaSession } from './ota-session.js';
import type { InstalledImage } from './ram.js';
import type { RecordLog } from './resume-record.js';
import type { DeviceTiming, TimingModel } from './timing.js';

export interface SimDeviceOptions {
  /** createFlashImage() / openFlashFile(path, { create: true }). */
  flash: Flash;
  /** The device's private key (loadDecryptionKey). */
  key: DecryptionKey;
  /** systemClock in the CLI, FakeClock in tests. */
  clock: Clock;
  /** ESP chip id. Default 0 (ESP32). */
  chipId?: number;
  /** major * 100 + minor. Default 300 (v3.0). */
  chipRev?: number;
  /** Largest frame body accepted. Default MAX_FRAME_ABS (4112). */
  maxFrame?: number;
  /** Receive window in bytes (HELLO_ACK.window, RAM for out-of-order chunks). Default 32 KiB. */
  window?: number;
  /** Highest rate accepted in BAUD (0 = no switching). Default 3 000 000. */
  maxBaud?: number;
  /** UART rate after reset. Default 115200. */
  baud?: number;
  /** 'esp32' = datasheet-typical flash times plus key unwrap, verify and boot times. Default 'instant'. */
  flashTiming?: TimingModel | FlashTiming;
  /** UART ISR is IRAM-safe: no input is lost during flash work. Default true. */
  iramUart?: boolean;
  /** Accepts DATA frames that carry several chunks (HELLO_ACK flag bit5, SPEC §4.5). Default true. */
  multiChunk?: boolean;
  /** Driver RX ring-buffer size. Default window + 32 frame overheads + 2 largest frames. */
  rxBufferBytes?: number;
  /**
   * Plaintext bytes between durable resume records (SPEC §7: at most 65536). Default 0: one after
   * every write, so even a small image resumes after a power cut; the C receiver and the ESP-IDF
   * component write one every 65536 (OTARX_DURABLE_INTERVAL), which costs far less flash time.
   */
  recordInterval?: number;
  /** CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE. Default false. */
  rollback?: boolean;
  /** CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK (eFuse secure_version). Default false. */
  antiRollback?: boolean;
  /** eFuse secure_version at start (kept across resets, like eFuses). Default 0. */
  efuseSecureVersion?: number;
  /** Print the ROM/bootloader log on every reset (as a real ESP32 does). Default false. */
  bootLog?: boolean;
  faults?: SimFaults;
}

export interface ResolvedOptions {
  key: DecryptionKey;
  chipId: number;
  chipRev: number;
  maxFrame: number;
  window: number;
  maxBaud: number;
  baud: number;
  timing: DeviceTiming;
  iramUart: boolean;
  multiChunk: boolean;
  rxBufferBytes: number;
  recordInterval: number;
  rollback: boolean;
  antiRollback: boolean;
  bootLog: boolean;
}

/**
 * 32 KiB: at 3 Mbaud behind a 16 ms adapter latency a lost frame is noticed one round trip after it
 * was sent and its resend lands a round trip later; the window must keep the line busy for both
 * (2 x (32 ms + a frame) x 300 kB/s = 21 KB), or every loss stalls the line. 16 KiB did not, and
 * the data phase lost ~20% at BER 1e-5. Also the most the SACK bitmap can cover at 1 KiB chunks.
 */
export const DEFAULT_WINDOW = 32 * 1024;
export const DEFAULT_MAX_BAUD = 3_000_000;
export const DEFAULT_SIM_BAUD = 115200;
/** Work longer than this is announced with ACK(BUSY) (SPEC §6.3 requires it above 100 ms). */
export const BUSY_ANNOUNCE_MS = 50;

export function resolveOptions(o: SimDeviceOptions, timing: DeviceTiming): ResolvedOptions {
  const maxFrame = o.maxFrame ?? MAX_FRAME_ABS;
  if (!Number.isInteger(maxFrame) || maxFrame < MIN_MAX_FRAME || maxFrame > MAX_FRAME_ABS) {
    throw new TypeError(`"maxFrame" must be an integer in [${MIN_MAX_FRAME}, ${MAX_FRAME_ABS}]`);
  }
  const window = o.window ?? DEFAULT_WINDOW;
  if (!Number.isInteger(window) || window < 16) throw new TypeError('"window" must be an integer >= 16');
  const recordInterval = o.recordInterval ?? 0;
  if (!Number.isInteger(recordInterval) || recordInterval < 0 || recordInterval > DURABLE_INTERVAL) {
    throw new TypeError(`"recordInterval" must be an integer in [0, ${DURABLE_INTERVAL}]`);
  }
  return {
    key: o.key,
    chipId: o.chipId ?? 0,
    chipRev: o.chipRev ?? 300,
    maxFrame,
    window,
    maxBaud: o.maxBaud ?? DEFAULT_MAX_BAUD,
    baud: o.baud ?? DEFAULT_SIM_BAUD,
    timing,
    iramUart: o.iramUart ?? true,
    multiChunk: o.multiChunk ?? true,
    rxBufferBytes: o.rxBufferBytes ?? window + 32 * 32 + 2 * (maxFrame + Math.ceil(maxFrame / 254) + 3),
    recordInterval,
    rollback: o.rollback ?? false,
    antiRollback: o.antiRollback ?? false,
    bootLog: o.bootLog ?? false,
  };
}

/** Notable things the device did, for `ota-uart simulate` and tests. */
export type SimEvent =
  | { type: 'boot'; reason: string; running: string; version: string; notes: string[] }
  | { type: 'hello' }
  | { type: 'baud'; baud: number; phase: 'switched' | 'confirmed' | 'fallback' }
  | { type: 'begin'; offset: number; total: number; target: string; resumed: 'no' | 'ram' | 'flash' }
  | { type: 'refused'; phase: 'begin' | 'data' | 'end'; status: string; reason: string }
  | { type: 'result'; version: string; boot: string }
  | { type: 'abort' }
  | { type: 'confirm' | 'rollback'; version: string }
  | { type: 'reset'; reason: string; offset?: number }
  | { type: 'error'; message: string };

/** Counters (all cumulative over resets). */
export type SimStats = {
  [K in
    | 'rxBytes' | 'txBytes' | 'frames' | 'txFrames' | 'noiseBytes' | 'tooLong' | 'badCobs' | 'tooShort' | 'badCrc' | 'otherVersions'
    | 'badPayload' | 'ignoredReplies' | 'unsupported' | 'dataFrames' | 'consumed' | 'duplicates' | 'outOfOrder' | 'badRequests' | 'creditViolations'
    | 'noSession' | 'acks' | 'busyAcks' | 'begins' | 'resumes' | 'resumesFromFlash' | 'results' | 'refusals' | 'aborts'
    | 'resets' | 'overrunBytes' | 'overruns' | 'ringOverflowBytes' | 'ringHighWater' | 'bytesLostInReset' | 'flashOps'
    | 'flashBusyMs' | 'records' | 'sectorRewrites' | 'stalls' | 'garbageBursts' | 'faultFlippedBits' | 'faultDroppedBytes'
    | 'baudSwitches' | 'baudFallbacks' | 'internalErrors']: number;
};

/** What the message handlers may use. Every await may throw PowerLost (a reset happened). */
export interface DeviceCore {
  readonly flash: Flash;
  readonly opts: ResolvedOptions;
  readonly counters: SimStats;
  readonly apps: AppState;
  /** The durable resume record (SPEC §7), if the flash has an nvs partition. */
  readonly records: RecordLog | undefined;
  efuseSecureVersion: number;
  /** Setting it (BEGIN, ABORT, a refusal) also ends `refusal`; setting a session forgets `installed`. */
  session: OtaSession | undefined;
  /** What the last successful END installed (SPEC §4.2 bit6); RAM only. */
  installed: InstalledImage | undefined;
  /**
   * Set when a new session's key failed to unwrap after its BEGIN_ACK (SPEC §4.4 step 5): every
   * DATA and END is answered with this status until the next BEGIN, ABORT or reset.
   */
  refusal: number | undefined;
  send(m: Message): void;
  /** Sends ACK(BUSY, busy_ms) for the current session position if `ms` is worth announcing. */
  announceBusy(ms: number): void;
  /** Runs flash operations in order; each is a flash blackout of op.ms. */
  flashWork(ops: readonly FlashOp[]): Promise<void>;
  /** The task computes for `ms` (UART interrupts still run). */
  cpuWork(ms: number): Promise<void>;
  drainOutput(): Promise<void>;
  earlyContext(): EarlyCheckContext;
  event(e: SimEvent): void;
  /** Fault hook after data was consumed: true if the device just lost power. */
  powerCutAt(nextOffset: number): boolean;
  /** Resets the chip (RAM lost, bootloader runs). */
  reset(reason: 'reboot' | 'rollback'): void;
  setLineRate(baud: number): void;
}

/** Thrown out of awaits in a handler whose device was reset meanwhile. */
export class PowerLost extends Error {
  constructor() {
    super('device reset');
    this.name = 'PowerLost';
  }
}
