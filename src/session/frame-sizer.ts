/**
 * How many chunks the next frame of new data carries (SPEC §4.5, multi-chunk DATA). A frame costs
 * about 17 bytes of framing: 1.7 % of a 1 KiB chunk, 0.7 % of four. But a flipped bit loses the
 * whole frame: at BER 1e-5 a 1 KiB frame is lost 1 time in 10, a 4 KiB one 1 in 3.
 *
 * - A push starts at one chunk per frame, and goes to the most the device takes once the first
 *   FIRST_GROW chunks arrived without a loss (on a clean link that costs 0.02 % of a 1 MiB image;
 *   at BER 1e-5 it almost never happens, and large frames sent into a noisy link cost about 0.5-1 %
 *   there, measured with `npm run bench -- --frame-chunks`).
 * - At any loss it goes back to one chunk per frame, and doubles only after GROW_AFTER x (chunks
 *   per frame) chunks delivered without a loss since. Going from m to 2m chunks saves 17 / (2m x
 *   1 KiB) of the line and loses each chunk about m x 10 240 x BER more often, so it pays only below
 *   a BER of about 8e-7 / m^2: where a loss comes less than once in about 120 m chunks.
 * Only chunks sent after the loss count: the window held above a hole is acknowledged all at once
 * when the hole is filled, and says nothing about the link since.
 */
export class FrameSizer {
  chunks = 1;
  private clean = 0;
  /** Transmission number at the last loss. */
  private since = 0;
  private readonly max: number;
  private probing = true;
  constructor(max: number) {
    this.max = Math.max(1, Math.floor(max));
  }
  /** A loss was seen; `order` = the transmission number of the latest frame sent so far. */
  lost(order: number): void {
    this.chunks = 1;
    this.clean = 0;
    this.since = order;
    this.probing = false;
  }
  /** A chunk, sent as transmission number `order`, was delivered. */
  delivered(order: number): void {
    if (order <= this.since || this.chunks >= this.max) return;
    this.clean++;
    if (this.probing ? this.clean >= FIRST_GROW : this.clean >= GROW_AFTER * this.chunks) {
      this.chunks = this.probing ? this.max : Math.min(this.max, this.chunks * 2);
      this.clean = 0;
      this.probing = false;
    }
  }
}

/** Chunks a push sends one per frame before it trusts the link with larger frames. */
export const FIRST_GROW = 32;
/** After a loss: chunks per chunk-in-a-frame delivered without a loss before frames double. */
export const GROW_AFTER = 128;
