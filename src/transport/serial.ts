/**
 * The real serial port behind the Transport interface, and the only module that imports
 * `serialport` (house style §8 rule 4). It owns three things the layers above must never see:
 * - errors: open failures become OtaErrors that say what to do (serial-errors.ts);
 * - disconnects: serialport reports an unplug only as a 'close' event carrying
 *   `{ disconnected: true }`, after which `port.write()` silently queues forever
 *   (toolchain-notes §2.3), so every pending and later operation here rejects with LINK_LOST;
 * - two bugs of bindings-cpp 13.0.0, patched once on import: the full-duplex stall
 *   (poller-fix.ts) and a hang-up that only reads never notice (hangup-fix.ts); and its thread-pool
 *   round trip per read and write, replaced by I/O on the loop thread (loop-io.ts).
 */
import type { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { systemClock, type Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { applyHangupFix } from './hangup-fix.js';
import { applyLoopIoWrites } from './loop-io.js';
import { applyPollerFix } from './poller-fix.js';
import { scanSerialPorts, type PortInfo, type ScanOptions } from './port-scan.js';
import { badBaud, inspectPath, mapOpenError } from './serial-errors.js';
import { DrainWait } from './drain-wait.js';
import { Inbox } from './inbox.js';
import type { Transport } from './transport.js';
import { TurnCork } from './turn-cork.js';
import { bridgeHint, normalizeId } from './usb-hints.js';

applyPollerFix();
applyHangupFix();
applyLoopIoWrites();

export type { PortInfo } from './port-scan.js';

export interface SerialOpenOptions {
  baud: number;
  /** Used to bound how long close() waits for the OS. Default systemClock. */
  clock?: Clock;
  /**
   * How much received data the stream buffers while reading is paused before the OS has to hold
   * it. Default 64 KiB; the link emulator uses less so back-pressure reaches the sending program.
   */
  readBufferBytes?: number;
}

/** A Transport on a serial port, with read flow control for relays such as the link emulator. */
export interface SerialTransport extends Transport {
  readonly path: string;
  /** Stops taking bytes from the OS, so the sender eventually blocks. */
  pauseReading(): void;
  resumeReading(): void;
}

/** Tcdrain in close() can block for the tty's closing_wait (30 s by default) on a stuck adapter. */
const CLOSE_WAIT_MS = 2000;

export async function openSerialTransport(path: string, opts: SerialOpenOptions): Promise<SerialTransport> {
  const { baud } = opts;
  if (!Number.isInteger(baud) || baud <= 0) throw badBaud(path, baud);
  const port = new SerialPort({
    path,
    baudRate: baud,
    autoOpen: false,
    ...(opts.readBufferBytes !== undefined && { highWaterMark: opts.readBufferBytes }),
  });
  try {
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    throw mapOpenError(path, baud, err, await inspectPath(path));
  }
  return wrapSerialPort(port, path, opts.clock ?? systemClock);
}

/** Builds the Transport over an already open port stream (real, or binding-mock in tests). */
export function wrapSerialPort(port: SerialPortStream, path: string, clock: Clock = systemClock): SerialTransport {
  return new SerialLink(port, path, clock);
}

class SerialLink implements SerialTransport {
  private state: 'open' | 'closed' | 'lost' = 'open';
  private endErr: OtaError | undefined;
  private readonly inbox = new Inbox();
  private closeCb: ((err: OtaError) => void) | undefined;
  /** Settles when the port is closed or lost; every operation races against it. */
  private readonly ended: Promise<never>;
  private endNow!: (err: OtaError) => void;
  /** The callback of the last write: all earlier writes have reached the OS when it fires. */
  private lastWrite: Promise<void> = Promise.resolve();
  /** Joins one event-loop turn's writes into one (turn-cork.ts). */
  private readonly cork: TurnCork;
  /** Writes held back by the stream's high-water mark wait here (drain-wait.ts). */
  private readonly drained: DrainWait;

  constructor(private readonly port: SerialPortStream, readonly path: string, private readonly clock: Clock) {
    this.cork = new TurnCork(port);
    this.drained = new DrainWait(port);
    this.ended = new Promise<never>((_, reject) => {
      this.endNow = reject;
    });
    this.ended.catch(() => {});
    port.on('data', (chunk: Buffer) => {
      if (this.state !== 'open') return;
      this.inbox.deliver(chunk);
    });
    // Without a listener an 'error' event would crash the process; what matters is whether the
    // port is still open afterwards, which 'close' tells us.
    port.on('error', () => {});
    port.on('close', (err?: { disconnected?: boolean; message?: string } | null) => {
      if (this.state !== 'open') return;
      const why = err?.message ? ` (${err.message})` : '';
      this.lose(new OtaError('LINK_LOST', `serial port ${path} went away${why}: unplugged, reset, or the other end exited`, {
        disconnected: true,
        details: { port: path },
        ...(err ? { cause: err } : {}),
      }));
    });
  }

  get baud(): number {
    return this.port.baudRate;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.endErr);
    // Copy: the stream keeps a reference until the OS has taken the bytes.
    const buf = Buffer.from(bytes);
    this.cork.hold();
    let accepted!: boolean;
    const done = new Promise<void>((resolve) => {
      // A failed write closes the port as disconnected (SerialPortStream._write), which 'close'
      // turns into LINK_LOST; the callback itself only tells us the write is over.
      accepted = this.port.write(buf, () => resolve());
    });
    this.lastWrite = done;
    if (accepted) return Promise.resolve();
    // Above the stream's high-water mark: hold the caller until it drains (back-pressure).
    return this.guard(this.drained.next());
  }

  drain(): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.endErr);
    // SerialPortStream.drain() only waits for the write already in the binding, not for those
    // still queued in the stream, so wait for our last write first, then tcdrain.
    const drained = this.lastWrite.then(
      () => new Promise<void>((resolve, reject) => this.port.drain((err) => (err ? reject(err) : resolve()))),
    );
    return this.guard(drained);
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.inbox.set(cb);
  }

  onClose(cb: (err: OtaError) => void): void {
    this.closeCb = cb;
  }

  async setBaud(baud: number): Promise<void> {
    if (this.state !== 'open') throw this.endErr;
    if (!Number.isInteger(baud) || baud <= 0) throw badBaud(this.path, baud);
    const updated = new Promise<void>((resolve, reject) =>
      this.port.update({ baudRate: baud }, (err) => (err ? reject(badBaud(this.path, baud, err)) : resolve())),
    );
    await this.guard(updated);
  }

  pauseReading(): void {
    this.port.pause();
  }

  resumeReading(): void {
    this.port.resume();
  }

  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.end('closed', new OtaError('LINK_LOST', `serial port ${this.path} was closed`, { details: { port: this.path } }));
    if (!this.port.isOpen) return;
    const closed = new Promise<void>((resolve) => this.port.close(() => resolve()));
    const timer = { t: undefined as { cancel(): void } | undefined };
    const timeout = new Promise<void>((resolve) => { timer.t = this.clock.setTimer(CLOSE_WAIT_MS, resolve); });
    await Promise.race([closed, timeout]);
    timer.t?.cancel();
  }

  private lose(err: OtaError): void {
    this.end('lost', err);
    this.closeCb?.(err);
  }

  private end(state: 'closed' | 'lost', err: OtaError): void {
    this.state = state;
    this.endErr = err;
    this.inbox.clear();
    this.endNow(err);
  }

  private guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.ended]);
  }
}

export interface ListOptions extends ScanOptions {
  /** The udev-based lister; replaceable for tests. Default serialport's `SerialPort.list`. */
  list?: () => Promise<{ path: string; manufacturer?: string | undefined; serialNumber?: string | undefined; vendorId?: string | undefined; productId?: string | undefined }[]>;
}

/**
 * Serial ports with USB ids and a hint for common ESP bridges. Uses udev through serialport when
 * it can, and scans /dev and sysfs itself when udevadm is missing or fails.
 */
export async function listSerialPorts(opts: ListOptions = {}): Promise<PortInfo[]> {
  const list = opts.list ?? (() => SerialPort.list());
  let raw;
  try {
    raw = await list();
  } catch {
    return scanSerialPorts(opts);
  }
  return raw.map((p) => {
    const vendorId = normalizeId(p.vendorId);
    const productId = normalizeId(p.productId);
    const hint = bridgeHint(vendorId, productId);
    return {
      path: p.path,
      ...(p.manufacturer !== undefined && { manufacturer: p.manufacturer }),
      ...(p.serialNumber !== undefined && { serialNumber: p.serialNumber }),
      ...(vendorId !== undefined && { vendorId }),
      ...(productId !== undefined && { productId }),
      ...(hint !== undefined && { hint }),
    };
  });
}
