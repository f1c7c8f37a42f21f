/**
 * A minimal reference receiver for session tests: the DATA/ACK half of SPEC §4.5 and nothing else
 * (no crypto, no flash). It stores out-of-order chunks, reports them in `sack`, and grants credit
 * of `window` bytes. Kept deliberately small and separate from the simulator so that uploader bugs
 * and simulator bugs cannot hide each other.
 */
import { FrameDecoder, decodeMessage, encodeMessage, STATUS } from '../../src/protocol/index.js';
import type { Transport } from '../../src/transport/transport.js';

export class IdealReceiver {
  readonly received: Uint8Array;
  next: number;
  readonly stored = new Map<number, Uint8Array>();
  dataFrames = 0;
  duplicates = 0;
  outOfOrder = 0;
  /** DATA frames that reached beyond the credit granted so far (a host bug). */
  creditViolations = 0;
  /** Set to make the receiver ignore DATA (a stalled device). */
  deaf = false;
  /** Offsets whose first arrival is discarded, as if its CRC had failed (a targeted loss). */
  readonly loseOnce = new Set<number>();
  private decoder = new FrameDecoder();

  constructor(
    private readonly t: Transport,
    readonly total: number,
    readonly start: number,
    readonly chunk: number,
    readonly window: number,
  ) {
    this.received = new Uint8Array(total);
    this.next = start;
    t.onData((b) => this.onBytes(b));
  }

  creditEnd(): number {
    const slots = Math.min(Math.floor(this.window / this.chunk), 32);
    return Math.min(this.total, this.next + slots * this.chunk);
  }

  private onBytes(b: Uint8Array): void {
    for (const f of this.decoder.push(b)) {
      const m = decodeMessage(f);
      if (!m || m.type !== 'DATA') continue;
      if (m.offset + m.data.length > this.creditEnd()) this.creditViolations++;
      if (this.deaf) continue;
      if (this.loseOnce.delete(m.offset)) continue;
      this.dataFrames++;
      const { offset, data } = m;
      if (offset < this.next || this.stored.has(offset)) this.duplicates++;
      else if (offset === this.next) {
        this.consume(offset, data);
        for (let d = this.stored.get(this.next); d; d = this.stored.get(this.next)) {
          this.stored.delete(this.next);
          this.consume(this.next, d);
        }
      } else if (offset < this.creditEnd()) {
        this.outOfOrder++;
        this.stored.set(offset, data.slice());
      }
      void this.t.write(encodeMessage({ type: 'ACK', status: STATUS.OK, nextOffset: this.next, creditEnd: this.creditEnd(), sack: this.sack(), busyMs: 0 })).catch(() => {});
    }
  }

  private consume(offset: number, data: Uint8Array): void {
    this.received.set(data, offset);
    this.next = offset + data.length;
  }

  private sack(): number {
    let s = 0;
    for (let i = 0; i < 32; i++) if (this.stored.has(this.next + (i + 1) * this.chunk)) s |= 1 << i;
    return s >>> 0;
  }
}
