/**
 * An in-memory full-duplex pair of Transports: the fake half of house style §8 rule 4. Each
 * direction is an emulated UART (link-model.ts) that can pace, delay, fragment, corrupt, drop and
 * cut, driven by an injected Clock so session tests run deterministically on a FakeClock.
 *
 *   const [host, device] = createMemoryLink({ clock, aToB: { pace: true, ber: 1e-5, rng: seededRng(1) } });
 *
 * Semantics worth knowing:
 * - Bytes are copied on write, so callers may reuse their buffers.
 * - With `pace`, `write()` resolves once the bytes fit in the sender's 4 KiB TX buffer (see
 *   `txBufferBytes`), `drain()` once the last bit is on the wire. Without `pace` both are prompt,
 *   and bytes arrive in a microtask (or after `latencyMs` of clock time).
 * - `setBaud` on one end only changes that end: its sending rate and its receiving rate. Until the
 *   other end follows, bytes in both directions arrive as noise, like a real UART pair.
 * - `close()` on one end is silent for the peer (a UART has no such signal); bytes sent to a closed
 *   end are lost. `disconnect()` (or `disconnectAfterBytes`) cuts the cable: both open ends get
 *   onClose(LINK_LOST), and pending and later writes reject.
 * - Bytes that arrive before `onData` is set are kept and handed over when it is.
 */
import { systemClock, type Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { Inbox } from './inbox.js';
import { LinkDirection, type LinkDirectionOptions, type LinkDirectionStats } from './link-model.js';
import type { Transport } from './transport.js';

export type { LinkDirectionOptions, LinkDirectionStats } from './link-model.js';
export { seededRng } from './rng.js';

export interface MemoryLinkOptions {
  /** Default systemClock. */
  clock?: Clock;
  /** Initial rate of both ends. Default 115200. */
  baud?: number;
  aToB?: LinkDirectionOptions;
  bToA?: LinkDirectionOptions;
}

export interface MemoryTransport extends Transport {
  readonly name: 'a' | 'b';
  /** Counters of the direction this end sends on. */
  readonly txStats: Readonly<LinkDirectionStats>;
  /** Counters of the direction this end receives on. */
  readonly rxStats: Readonly<LinkDirectionStats>;
  /** Cuts the whole link (same as the link's `disconnect()`). */
  disconnect(): void;
}

export type MemoryLink = [MemoryTransport, MemoryTransport] & {
  /** Cuts the cable: both open ends get onClose(LINK_LOST). Idempotent. */
  disconnect(): void;
  readonly stats: { readonly aToB: Readonly<LinkDirectionStats>; readonly bToA: Readonly<LinkDirectionStats> };
};

export function createMemoryLink(opts: MemoryLinkOptions = {}): MemoryLink {
  const clock = opts.clock ?? systemClock;
  const baud = opts.baud ?? 115200;
  checkBaud(baud);
  let down = false;
  const disconnect = (): void => {
    if (down) return;
    down = true;
    const err = new OtaError('LINK_LOST', 'the link was disconnected', { disconnected: true });
    aToB.shutdown(err);
    bToA.shutdown(err);
    a.lose(err);
    b.lose(err);
  };
  const a = new MemoryEnd('a', baud, disconnect);
  const b = new MemoryEnd('b', baud, disconnect);
  const aToB = new LinkDirection(opts.aToB ?? {}, { clock, baud, deliver: (x) => b.receive(x), onCut: disconnect });
  const bToA = new LinkDirection(opts.bToA ?? {}, { clock, baud, deliver: (x) => a.receive(x), onCut: disconnect });
  a.attach(aToB, bToA);
  b.attach(bToA, aToB);
  const pair = [a, b] as [MemoryTransport, MemoryTransport];
  return Object.assign(pair, { disconnect, stats: { aToB: aToB.stats, bToA: bToA.stats } });
}

class MemoryEnd implements MemoryTransport {
  private tx!: LinkDirection;
  private rx!: LinkDirection;
  private state: 'open' | 'closed' | 'lost' = 'open';
  private readonly inbox = new Inbox();
  private closeCb: ((err: OtaError) => void) | undefined;
  private lostErr: OtaError | undefined;

  constructor(readonly name: 'a' | 'b', private currentBaud: number, readonly disconnect: () => void) {}

  attach(tx: LinkDirection, rx: LinkDirection): void {
    this.tx = tx;
    this.rx = rx;
  }

  get baud(): number {
    return this.currentBaud;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get txStats(): Readonly<LinkDirectionStats> {
    return this.tx.stats;
  }

  get rxStats(): Readonly<LinkDirectionStats> {
    return this.rx.stats;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.gone());
    return this.tx.write(bytes.slice());
  }

  drain(): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.gone());
    return this.tx.drain();
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.inbox.set(cb);
  }

  onClose(cb: (err: OtaError) => void): void {
    this.closeCb = cb;
  }

  async setBaud(baud: number): Promise<void> {
    checkBaud(baud);
    if (this.state !== 'open') throw this.gone();
    this.currentBaud = baud;
    this.tx.setTxBaud(baud);
    this.rx.setRxBaud(baud);
  }

  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closed';
    this.inbox.clear();
    this.tx.shutdown(new OtaError('LINK_LOST', `memory link end ${this.name} was closed`));
  }

  /** Called by the receiving direction. */
  receive(bytes: Uint8Array): void {
    if (this.state !== 'open') return;
    this.inbox.deliver(bytes);
  }

  /** The cable was cut: only an end still open hears about it. */
  lose(err: OtaError): void {
    if (this.state !== 'open') return;
    this.state = 'lost';
    this.lostErr = err;
    this.closeCb?.(err);
  }

  private gone(): OtaError {
    return this.lostErr ?? new OtaError('LINK_LOST', `memory link end ${this.name} is closed`);
  }
}

function checkBaud(baud: number): void {
  if (!Number.isFinite(baud) || baud <= 0) {
    throw new OtaError('BAUD_UNSUPPORTED', `baud rate ${baud} is not a positive number`, { details: { baud } });
  }
}
