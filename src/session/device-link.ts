/**
 * DeviceLink: the host's view of one device over a Transport. It feeds incoming bytes to the pure
 * FrameDecoder, decodes messages, hands each to the first waiter that wants it and to every
 * listener, and encodes outgoing messages. It owns no policy (timeouts and retries live in the
 * session modules); it only turns "bytes in, bytes out" into "messages in, messages out".
 */
import type { Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { FrameDecoder, STATUS, decodeMessage, encodeMessage, type Message } from '../protocol/index.js';
import type { Transport } from '../transport/transport.js';

export type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>;

interface Waiter {
  match: (m: Message) => boolean;
  resolve: (m: Message) => void;
  reject: (e: unknown) => void;
}

export interface LinkCounters {
  sentFrames: number;
  receivedFrames: number;
  badPayload: number;
  /** Every byte that came in, frames and noise alike. */
  rxBytes: number;
  /** Of those, printable ASCII, CR, LF or TAB (a boot log looks like text; a baud mismatch does not). */
  rxTextBytes: number;
}

/** How much of the incoming noise we keep to quote in a "no device" message. */
const SAMPLE_BYTES = 160;

export class DeviceLink {
  readonly decoder = new FrameDecoder();
  readonly counters: LinkCounters = { sentFrames: 0, receivedFrames: 0, badPayload: 0, rxBytes: 0, rxTextBytes: 0 };
  /** The first bytes received (for quoting what a device printed instead of answering). */
  readonly rxSample: number[] = [];
  private waiters: Waiter[] = [];
  private listeners = new Set<(m: Message) => void>();
  private lostListeners = new Set<(e: OtaError) => void>();
  private lost: OtaError | undefined;
  /**
   * Milliseconds from sending the last request() that was answered to its answer (0: none yet):
   * the round trip a repeat of an unanswered request is timed from (reply-timeout.ts).
   */
  lastRttMs = 0;
  /** When the device last sent a frame we could decode (clock ms; -Infinity: never). */
  heardAt = Number.NEGATIVE_INFINITY;
  /** Until when the device said it will be busy (ACK(BUSY): now + busy_ms; SPEC §6.3). */
  busyUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly transport: Transport,
    private readonly clock: Clock,
  ) {
    transport.onData((bytes) => this.onBytes(bytes));
    transport.onClose((err) => this.fail(err));
  }

  /** The error that ended the link, if it ended. */
  get lostError(): OtaError | undefined {
    return this.lost;
  }

  send(m: Message): Promise<void> {
    return this.sendRaw(encodeMessage(m));
  }

  sendRaw(wire: Uint8Array): Promise<void> {
    if (this.lost) return Promise.reject(this.lost);
    this.counters.sentFrames++;
    return this.transport.write(wire);
  }

  /**
   * Calls `fn` once when the link goes away (at once if it already has); returns a function that
   * removes it. For code that waits on its own timers rather than on `wait()`.
   */
  onLost(fn: (e: OtaError) => void): () => void {
    if (this.lost) {
      fn(this.lost);
      return () => {};
    }
    this.lostListeners.add(fn);
    return () => this.lostListeners.delete(fn);
  }

  /** Adds a listener for every decoded message; returns a function that removes it. */
  listen(fn: (m: Message) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Sends `m` and waits for the reply of `type`. The waiter is registered before the bytes go out,
   * so a device that answers faster than our own write completes cannot slip its reply past us.
   */
  async request<T extends Message['type']>(
    m: Message,
    type: T,
    timeoutMs: number,
    opts: { pred?: (m: MessageOf<T>) => boolean; signal?: AbortSignal; what?: string } = {},
  ): Promise<MessageOf<T>> {
    const reply = this.wait(type, timeoutMs, opts);
    const sentAt = this.clock.now();
    try {
      await this.send(m);
    } catch (e) {
      reply.catch(() => {});
      throw e;
    }
    const answer = await reply;
    this.lastRttMs = this.clock.now() - sentAt;
    return answer;
  }

  /**
   * Waits for the next message of `type` (optionally also matching `pred`). Rejects with TIMEOUT
   * after `timeoutMs`, with the link error if the link goes away, or when `signal` aborts.
   */
  wait<T extends Message['type']>(
    type: T,
    timeoutMs: number,
    opts: { pred?: (m: MessageOf<T>) => boolean; signal?: AbortSignal; what?: string } = {},
  ): Promise<MessageOf<T>> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise<MessageOf<T>>((resolve, reject) => {
      const cleanup = (): void => {
        timer.cancel();
        opts.signal?.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      const waiter: Waiter = {
        match: (m) => m.type === type && (!opts.pred || opts.pred(m as MessageOf<T>)),
        resolve: (m) => { cleanup(); resolve(m as MessageOf<T>); },
        reject: (e) => { cleanup(); reject(e); },
      };
      const onAbort = (): void => waiter.reject(abortError());
      const timer = this.clock.setTimer(timeoutMs, () =>
        waiter.reject(new OtaError('TIMEOUT', `no ${opts.what ?? type} from the device within ${Math.round(timeoutMs)} ms`)),
      );
      if (opts.signal?.aborted) { onAbort(); return; }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private onBytes(bytes: Uint8Array): void {
    this.counters.rxBytes += bytes.length;
    for (const b of bytes) {
      if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) this.counters.rxTextBytes++;
      if (this.rxSample.length < SAMPLE_BYTES) this.rxSample.push(b);
    }
    for (const frame of this.decoder.push(bytes)) {
      const m = decodeMessage(frame);
      if (!m) { this.counters.badPayload++; continue; }
      this.counters.receivedFrames++;
      this.heardAt = this.clock.now();
      if (m.type === 'ACK' && m.status === STATUS.BUSY) this.busyUntil = Math.max(this.busyUntil, this.heardAt + m.busyMs);
      for (const l of this.listeners) l(m);
      const w = this.waiters.find((x) => x.match(m));
      if (w) w.resolve(m);
    }
  }

  private fail(err: OtaError): void {
    if (this.lost) return;
    this.lost = err;
    for (const w of [...this.waiters]) w.reject(err);
    for (const l of [...this.lostListeners]) l(err);
    this.lostListeners.clear();
  }
}

export function abortError(): OtaError {
  return new OtaError('ABORTED', 'aborted by the user; the device keeps running its current firmware');
}
