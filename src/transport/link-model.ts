/**
 * One direction of an emulated UART: a bounded TX buffer drained onto the wire at baud/10 bytes per
 * second (8N1 = 10 bits a byte), a fault model (link-faults.ts), a one-way latency, fragmentation
 * and a cable cut. Shared by the in-memory pair (memory.ts) and the pty link emulator, so both
 * behave the same for the same options and seed.
 *
 * Timing: each byte's completion time is computed from an absolute anchor (when the wire last went
 * from idle to busy, or the baud changed), never by adding up timer delays, so late timers only
 * batch more bytes and never drift. One timer covers a batch of about `batchMs` of wire time, not
 * one byte. A byte is delivered when its last bit has been sent, plus the latency.
 *
 * Real timers (Node's setTimeout) never fire sooner than about 1 ms after they are set. A model that
 * waited for a timer before every step would add one or two such ticks to every short message (an
 * ACK), so the model acts on anything due within EARLY_MS of now at once: bytes are scheduled onto
 * the wire up to EARLY_MS ahead (their completion times stay exact, and the next write starts after
 * them), and a delivery due within EARLY_MS happens now. Timing errors are then about +-0.5 ms
 * instead of always +1..2 ms; the long-run rate is exact either way.
 */
import type { Clock, Timer } from '../clock.js';
import { ByteQueue } from './byte-queue.js';
import { FaultInjector, type FaultOptions, type FaultStats } from './link-faults.js';

export interface LinkDirectionOptions extends FaultOptions {
  /** Pace at baud/10 bytes per second of the clock; the sending end's baud counts. Default false (instant). */
  pace?: boolean;
  /** One-way latency in ms added to every byte (USB adapter latency timer: ~1 ms CP210x, 16 ms FTDI). Default 0. */
  latencyMs?: number;
  /** Largest chunk handed to the receiver at once; longer deliveries are fragmented. Default unlimited. */
  maxChunk?: number;
  /** Cut the link once this many bytes have left the sender (they are still delivered). */
  disconnectAfterBytes?: number;
  /** Random source for every fault; pass `seededRng(n)` for reproducible runs. Default Math.random. */
  rng?: () => number;
  /**
   * Size of the sender's TX buffer when paced. `write()` resolves once the written bytes fit in it,
   * like a UART driver's ring buffer, so a writer can never get more than this far ahead of the
   * wire. Default 4096.
   */
  txBufferBytes?: number;
  /** Wire time covered by one delivery batch when paced. Default 2 ms. */
  batchMs?: number;
}

export interface LinkDirectionStats extends FaultStats {
  /** Bytes accepted from the sender. */
  written: number;
  /** Bytes that left the sender's TX buffer (took wire time). */
  sent: number;
  /** Bytes handed to the receiver (after drops, corruption and garbage). */
  delivered: number;
}

export interface DirectionWiring {
  clock: Clock;
  /** Initial rate of both ends. */
  baud: number;
  deliver(bytes: Uint8Array): void;
  /** Called once `disconnectAfterBytes` is reached and the last of those bytes was delivered. */
  onCut(): void;
}

interface Waiter {
  /** Resolve once `sentTotal` reaches this. */
  until: number;
  resolve(): void;
  reject(err: Error): void;
}

interface InFlight {
  at: number;
  bytes: Uint8Array;
  cut: boolean;
}

const DEFAULT_TX_BUFFER = 4096;
const DEFAULT_BATCH_MS = 2;
/** How early the model may act to avoid waiting for a timer tick (half of Node's ~1 ms floor). */
const EARLY_MS = 0.5;

export class LinkDirection {
  readonly stats: LinkDirectionStats = {
    written: 0, sent: 0, delivered: 0, flippedBits: 0, dropped: 0, garbage: 0, garbled: 0,
  };
  private txBaud: number;
  private rxBaud: number;
  private readonly faults: FaultInjector;
  private readonly queue = new ByteQueue();
  private enqueued = 0;
  private waiters: Waiter[] = [];
  /** Wire anchor: byte k after the anchor completes at anchorT + (k + 1) * msPerByte. */
  private anchorT = 0;
  private anchorCount = 0;
  /** When the last byte taken onto the wire completes (may be up to EARLY_MS in the future). */
  private wireFreeAt = 0;
  private pumpTimer: Timer | undefined;
  private pumpQueued = false;
  private inFlight: InFlight[] = [];
  private deliveryTimer: Timer | undefined;
  private cutPending = false;
  private downErr: Error | undefined;

  constructor(private readonly opts: LinkDirectionOptions, private readonly wiring: DirectionWiring) {
    if (opts.maxChunk !== undefined && !(opts.maxChunk >= 1)) throw new TypeError('"maxChunk" must be >= 1');
    if (opts.latencyMs !== undefined && !(opts.latencyMs >= 0)) throw new TypeError('"latencyMs" must be >= 0');
    this.txBaud = wiring.baud;
    this.rxBaud = wiring.baud;
    this.faults = new FaultInjector(opts, opts.rng ?? Math.random, this.stats);
  }

  /** Bytes written but not yet on the wire. */
  get backlog(): number {
    return this.queue.length;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.downErr) return Promise.reject(this.downErr);
    if (bytes.length === 0) return Promise.resolve();
    if (this.queue.length === 0) this.reanchor();
    this.queue.push(bytes);
    this.enqueued += bytes.length;
    this.stats.written += bytes.length;
    this.schedulePump();
    return this.waitSent(this.enqueued - (this.opts.txBufferBytes ?? DEFAULT_TX_BUFFER));
  }

  /** Resolves when every byte written so far has left the sender (paced: its last bit is out). */
  drain(): Promise<void> {
    if (this.downErr) return Promise.reject(this.downErr);
    return this.waitSent(this.enqueued).then(() => {
      const left = this.wireFreeAt - this.wiring.clock.now();
      if (!this.opts.pace || left <= 1e-9) return undefined;
      return new Promise<void>((resolve) => { this.wiring.clock.setTimer(left, resolve); });
    });
  }

  /** The sender changed rate: bytes already due go at the old rate, the rest at the new one. */
  setTxBaud(baud: number): void {
    this.pumpNow();
    this.txBaud = baud;
    this.reanchor();
    this.cancelPump();
    this.schedulePump();
  }

  setRxBaud(baud: number): void {
    this.rxBaud = baud;
  }

  /** Stops everything: queued and in-flight bytes are lost, waiting writers and drains reject. */
  shutdown(err: Error): void {
    if (this.downErr) return;
    this.downErr = err;
    this.cancelPump();
    this.deliveryTimer?.cancel();
    this.deliveryTimer = undefined;
    this.queue.clear();
    this.inFlight = [];
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  private get msPerByte(): number {
    return 10_000 / this.txBaud;
  }

  private reanchor(): void {
    // Bytes already scheduled up to EARLY_MS ahead keep the wire until they are done.
    this.anchorT = Math.max(this.wiring.clock.now(), this.wireFreeAt);
    this.anchorCount = 0;
  }

  private waitSent(until: number): Promise<void> {
    if (this.stats.sent >= until) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ until, resolve, reject }));
  }

  private schedulePump(): void {
    if (this.downErr || this.cutPending || this.queue.length === 0) return;
    if (!this.opts.pace) {
      // Instant link: still asynchronous, so a receiver that answers inside onData never re-enters
      // the sender's write(). A microtask keeps FakeClock tests free of timer bookkeeping.
      if (!this.pumpQueued) {
        this.pumpQueued = true;
        queueMicrotask(() => this.pump());
      }
      return;
    }
    if (this.pumpTimer || this.pumpQueued) return;
    const batch = Math.max(1, Math.round((this.opts.batchMs ?? DEFAULT_BATCH_MS) / this.msPerByte));
    const target = this.anchorT + (this.anchorCount + Math.min(batch, this.queue.length)) * this.msPerByte;
    const clock = this.wiring.clock;
    const wait = target - clock.now();
    if (wait <= EARLY_MS) {
      // A short message: schedule it now rather than a timer tick from now. Still a microtask, so
      // a receiver answering inside its data callback never re-enters the sender's write().
      this.pumpQueued = true;
      queueMicrotask(() => this.pump());
      return;
    }
    this.pumpTimer = clock.setTimer(wait, () => this.pump());
  }

  private cancelPump(): void {
    this.pumpTimer?.cancel();
    this.pumpTimer = undefined;
  }

  private pump(): void {
    this.pumpTimer = undefined;
    this.pumpQueued = false;
    this.pumpNow();
    this.schedulePump();
  }

  /** Moves every byte whose transmission has completed by now onto the wire. */
  private pumpNow(): void {
    if (this.downErr || this.cutPending || this.queue.length === 0) return;
    const now = this.wiring.clock.now();
    let n = this.queue.length;
    let doneAt = now;
    if (this.opts.pace) {
      // The epsilon absorbs float error when a FakeClock lands exactly on a computed target.
      const due = Math.floor((now + EARLY_MS - this.anchorT) / this.msPerByte + 1e-9) - this.anchorCount;
      n = Math.min(n, due);
    }
    const limit = this.opts.disconnectAfterBytes;
    if (limit !== undefined) n = Math.min(n, limit - this.stats.sent);
    if (n <= 0) return;
    if (this.opts.pace) {
      this.anchorCount += n;
      doneAt = this.anchorT + this.anchorCount * this.msPerByte;
      this.wireFreeAt = doneAt;
    }
    const bytes = this.queue.take(n);
    this.stats.sent += n;
    const cut = limit !== undefined && this.stats.sent >= limit;
    if (cut) this.cutPending = true;
    this.transmit(this.faults.apply(bytes, this.txBaud, this.rxBaud), doneAt, cut);
    this.settleWaiters();
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => this.stats.sent >= w.until);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => this.stats.sent < w.until);
    for (const w of ready) w.resolve();
  }

  private transmit(bytes: Uint8Array, doneAt: number, cut: boolean): void {
    this.inFlight.push({ at: doneAt + (this.opts.latencyMs ?? 0), bytes, cut });
    this.deliverDue();
  }

  /** Delivers, in order, everything due within EARLY_MS; sets one timer for the next batch. */
  private deliverDue(): void {
    const clock = this.wiring.clock;
    while (this.inFlight.length > 0 && this.inFlight[0]!.at <= clock.now() + EARLY_MS) {
      const f = this.inFlight.shift()!;
      this.deliver(f.bytes, f.cut);
      if (this.downErr) return;
    }
    const head = this.inFlight[0];
    if (this.deliveryTimer || !head) return;
    this.deliveryTimer = clock.setTimer(head.at - clock.now(), () => {
      this.deliveryTimer = undefined;
      this.deliverDue();
    });
  }

  private deliver(bytes: Uint8Array, cut: boolean): void {
    const max = this.opts.maxChunk ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < bytes.length && !this.downErr; i += max) {
      const chunk = bytes.length <= max ? bytes : bytes.subarray(i, i + max);
      this.stats.delivered += chunk.length;
      this.wiring.deliver(chunk);
    }
    if (cut && !this.downErr) this.wiring.onCut();
  }
}
