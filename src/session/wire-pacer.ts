/**
 * How far ahead of the wire the host writes. Everything below the uploader (the serial stream's
 * buffer, the driver, a USB adapter) is one FIFO: if the host writes a whole window at once, a
 * resent chunk queues behind that window and reaches the device a window-time late, by which time
 * the device's credit (which cannot pass the hole) is used up and the line stands idle for a round
 * trip. Every lost frame would cost a round trip. So new data is written only while less than
 * `leadMs` of it is still waiting for the wire; resends go out at once, ahead of new data that is
 * held back.
 *
 * The wire is modelled at the port's nominal rate. A link can be faster than that (a pty, native
 * USB CDC, which ignore the rate): when the device acknowledges bytes that the model says have not
 * left yet, the model catches up, and once that happens by more than half the lead the link is
 * plainly not a paced UART and pacing stops, so such a link is never slowed down.
 */
export class WirePacer {
  /** Virtual time (ms) at which everything written so far has left the wire. */
  private wireEnd = 0;
  /** Set once the link proved faster than its nominal rate. */
  private off = false;

  constructor(
    /** Milliseconds one byte takes on the wire (10 / baud * 1000 for 8N1). */
    private readonly msPerByte: () => number,
    private readonly leadMs: number,
  ) {}

  /** Milliseconds to wait before more new data may be written (0: now). */
  waitMs(now: number): number {
    if (this.off) return 0;
    const wait = this.wireEnd - now - this.leadMs;
    // What is left may be a rounding residue of the sums (5.6e-17 ms), and `now + residue` is
    // `now` again: a wait that can neither start nor end. Nothing is that fine.
    return wait > MIN_WAIT_MS ? wait : 0;
  }

  /** Accounts `bytes` written at `now`; returns when they will have left the wire (model time). */
  wrote(now: number, bytes: number): number {
    this.wireEnd = Math.max(this.wireEnd, now) + bytes * this.msPerByte();
    return this.wireEnd;
  }

  /** The device has bytes the model expected to leave the wire at `doneAt`; if that is still ahead, catch up. */
  delivered(now: number, doneAt: number): void {
    if (doneAt <= now) return;
    this.wireEnd -= doneAt - now;
    if (doneAt - now > this.leadMs / 2) this.off = true;
  }
}

/** Waits below this (1 us: under one byte at 10 Mbaud) are no wait. */
export const MIN_WAIT_MS = 0.001;

/**
 * At least this much new data stays queued for the wire: a host process that is not scheduled for a
 * while (a busy PC, a loaded VM) must not leave the line idle. Every resend also waits behind it,
 * and a chunk lost twice waits twice, so it is kept small: at 3 Mbaud behind 16 ms of adapter
 * latency and BER 1e-5, a 20 ms floor gave 0.77-0.79 of the line, 10 ms 0.84-0.87, while clean
 * runs stayed the same (0.94-0.97) even with both cores of a 2-core VM kept busy by other work
 * (scripts/bench, measured side by side). 8 ms once left gaps under load; 10 ms did not.
 */
export const LEAD_FLOOR_MS = 10;

/** Lead kept queued below the host: enough to ride out event-loop hiccups, and at least two frames. */
export function leadMs(baud: number, frameBytes: number): number {
  return Math.max(LEAD_FLOOR_MS, (2 * frameBytes * 10_000) / Math.max(1, baud));
}
