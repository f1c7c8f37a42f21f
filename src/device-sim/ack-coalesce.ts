/**
 * ACK coalescing (SPEC §4.5: the device SHOULD acknowledge each DATA frame, and MAY coalesce when
 * more input is already waiting). When several DATA frames arrived together and are consumed in
 * order one after the other, each plain ACK (status OK, nothing held out of order) is superseded by
 * the next: next_offset and credit_end only grow. So the task keeps only the latest and sends it
 * once the batch is done, or before anything else it sends, or before it goes quiet for flash or
 * CPU work. ACKs that report a hole, a duplicate, BUSY or an error always go out at once.
 *
 * On a paced link at the usual rates a frame rarely has company and nothing changes; with a fast
 * link (a pty with no pacing, 12 Mbaud) one ACK per batch instead of one per frame saves the host a
 * read and the device a write for every frame.
 */
import { STATUS, type Message } from '../protocol/index.js';

/** At most this many ACKs are folded into the next one. */
export const MAX_HELD = 7;

export class AckCoalescer {
  /** True while the task handles a frame with another complete frame already waiting behind it. */
  moreWaiting = false;
  private pending: Message | undefined;
  /** ACKs superseded since the last one sent. */
  private held = 0;

  constructor(private readonly emit: (m: Message) => void) {}

  /** Sends `m`, or keeps it back if the ACK for a frame already waiting will supersede it. */
  send(m: Message): void {
    if (m.type === 'ACK') {
      this.pending = undefined; // any newer ACK carries everything an older one said
      // Never more than MAX_HELD in a row: a device that lags its input by a frame or two would
      // otherwise always have a frame waiting and starve the host of ACKs.
      if (this.moreWaiting && this.held < MAX_HELD && m.status === STATUS.OK && m.sack === 0 && m.busyMs === 0) {
        this.pending = m;
        this.held++;
        return;
      }
      this.held = 0;
    } else {
      this.flush();
    }
    this.emit(m);
  }

  /** No complete frame is waiting any more (or the task gave up): send what was kept back. */
  endBatch(): void {
    this.moreWaiting = false;
    this.flush();
  }

  /** Sends the ACK kept back, if any: the task is about to go quiet or to say something else. */
  flush(): void {
    const m = this.pending;
    this.pending = undefined;
    this.held = 0;
    if (m) this.emit(m);
  }
}
