/**
 * The corruption half of the emulated UART: what happens to bytes between the sender's shift
 * register and the receiver. Pure apart from the injected rng, so the memory link and the pty link
 * emulator corrupt identically for the same seed. Timing lives in link-model.ts.
 */

export interface FaultOptions {
  /** Bit error rate: each of the 8 data bits flips independently with this probability. Default 0. */
  ber?: number;
  /** Probability that a byte is lost entirely (an overrun, a framing error the UART discards). Default 0. */
  dropRate?: number;
  /** After every `everyBytes` sent bytes, `length` random bytes appear on the line (noise, a boot log). */
  garbage?: { everyBytes: number; length: number };
}

export interface FaultStats {
  /** Data bits flipped by `ber`. */
  flippedBits: number;
  /** Bytes lost by `dropRate`. */
  dropped: number;
  /** Random bytes injected by `garbage`. */
  garbage: number;
  /** Sent bytes turned into noise because the two ends disagree on the baud rate. */
  garbled: number;
}

/**
 * UARTs sample mid-bit, so a rate error of a few percent still decodes; beyond that, framing falls
 * apart. 3% is the usual rule-of-thumb budget for 8N1.
 */
const BAUD_TOLERANCE = 0.03;
/** Caps the noise bytes per sent byte when the receiver is much faster than the sender. */
const MAX_NOISE_PER_BYTE = 8;

export class FaultInjector {
  /** Bits still to pass before the next BER flip (geometric skip: one rng call per flip, not per bit). */
  private bitsToFlip: number;
  private sinceGarbage = 0;

  constructor(
    private readonly opts: FaultOptions,
    private readonly rng: () => number,
    readonly stats: FaultStats = { flippedBits: 0, dropped: 0, garbage: 0, garbled: 0 },
  ) {
    validate(opts);
    this.bitsToFlip = this.nextFlipGap();
  }

  /**
   * Returns what the receiver decodes for `input`, sent at `txBaud` and sampled at `rxBaud`.
   * May return `input` itself when nothing applies (the caller must not rely on a copy).
   */
  apply(input: Uint8Array, txBaud: number, rxBaud: number): Uint8Array {
    const ratio = rxBaud / txBaud;
    const mismatch = Math.abs(ratio - 1) > BAUD_TOLERANCE;
    const { ber = 0, dropRate = 0, garbage } = this.opts;
    if (!mismatch && ber === 0 && dropRate === 0 && garbage === undefined) return input;

    const perByte = mismatch ? Math.min(MAX_NOISE_PER_BYTE, Math.ceil(ratio)) : 1;
    const bursts = garbage ? Math.floor((this.sinceGarbage + input.length) / garbage.everyBytes) : 0;
    const out = new Uint8Array(input.length * perByte + bursts * (garbage?.length ?? 0));
    let o = 0;
    for (const byte of input) {
      if (dropRate > 0 && this.rng() < dropRate) {
        this.stats.dropped++;
      } else if (mismatch) {
        o = this.garble(out, o, ratio);
      } else {
        out[o++] = ber > 0 ? this.flipBits(byte) : byte;
      }
      if (garbage && ++this.sinceGarbage >= garbage.everyBytes) {
        this.sinceGarbage = 0;
        for (let i = 0; i < garbage.length; i++) out[o++] = (this.rng() * 256) | 0;
        this.stats.garbage += garbage.length;
      }
    }
    return out.subarray(0, o);
  }

  /**
   * A receiver at the wrong rate sees start bits in the middle of data: about `ratio` bytes of
   * noise per sent byte when it is faster, a byte only now and then when it is slower.
   */
  private garble(out: Uint8Array, o: number, ratio: number): number {
    this.stats.garbled++;
    const whole = Math.floor(Math.min(ratio, MAX_NOISE_PER_BYTE));
    const count = whole + (this.rng() < ratio - whole ? 1 : 0);
    for (let i = 0; i < Math.min(count, MAX_NOISE_PER_BYTE); i++) out[o++] = (this.rng() * 256) | 0;
    return o;
  }

  private flipBits(byte: number): number {
    let b = byte;
    let pos = this.bitsToFlip;
    while (pos < 8) {
      b ^= 1 << pos;
      this.stats.flippedBits++;
      pos += 1 + this.nextFlipGap();
    }
    this.bitsToFlip = pos - 8;
    return b;
  }

  /** Number of unflipped bits before the next flipped one: Geometric(ber), by inversion. */
  private nextFlipGap(): number {
    const p = this.opts.ber ?? 0;
    if (p <= 0) return Number.POSITIVE_INFINITY;
    if (p >= 1) return 0;
    return Math.floor(Math.log(1 - this.rng()) / Math.log(1 - p));
  }
}

function validate(o: FaultOptions): void {
  const prob = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new TypeError(`"${name}" must be within [0, 1], got ${v}`);
  };
  prob('ber', o.ber);
  prob('dropRate', o.dropRate);
  if (o.garbage && !(o.garbage.everyBytes >= 1 && o.garbage.length >= 0)) {
    throw new TypeError('"garbage" needs everyBytes >= 1 and length >= 0');
  }
}
