/**
 * The receive side of the ESP32 UART as the firmware sees it: a 128-byte hardware FIFO, an
 * interrupt handler that moves bytes into the driver's ring buffer, and the task that reads the
 * ring buffer. Pure bookkeeping: timing comes from whoever calls `receive()` (the paced link) and
 * `setBlackout()` (the device while flash work runs).
 *
 * The blackout: while the SPI flash is erased or written the cache is disabled, so an interrupt
 * handler that lives in flash (the ESP-IDF default, CONFIG_UART_ISR_IN_IRAM=n) cannot run. Bytes
 * then pile up in the hardware FIFO; once it holds 128 the rest are lost (RXFIFO_OVF, counted as an
 * overrun). With an IRAM-safe handler the ring buffer keeps filling during flash work. Either way
 * a full ring buffer loses bytes too (a host that ignores credit).
 */

export const HW_FIFO_BYTES = 128;

export interface UartRxCounters {
  /** Bytes lost because the hardware FIFO was full during a flash blackout. */
  overrunBytes: number;
  /** Blackouts in which at least one byte was lost that way. */
  overruns: number;
  /** Bytes lost because the driver's ring buffer was full. */
  ringOverflowBytes: number;
  /** Largest ring-buffer fill seen (bytes). */
  ringHighWater: number;
}

export class UartRx {
  readonly counters: UartRxCounters = { overrunBytes: 0, overruns: 0, ringOverflowBytes: 0, ringHighWater: 0 };
  private ring: Uint8Array[] = [];
  private ringLen = 0;
  private fifo: Uint8Array[] = [];
  private fifoLen = 0;
  private blackout = false;
  private lostThisBlackout = false;

  constructor(
    readonly ringBytes: number,
    readonly iramIsr: boolean,
  ) {}

  /** Bytes waiting for the task (ring buffer plus anything still in the FIFO). */
  get pending(): number {
    return this.ringLen + this.fifoLen;
  }

  /** Bytes that came off the wire. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.blackout && !this.iramIsr) {
      const room = HW_FIFO_BYTES - this.fifoLen;
      const keep = Math.min(room, bytes.length);
      if (keep > 0) {
        this.fifo.push(bytes.slice(0, keep));
        this.fifoLen += keep;
      }
      if (keep < bytes.length) {
        this.counters.overrunBytes += bytes.length - keep;
        if (!this.lostThisBlackout) this.counters.overruns++;
        this.lostThisBlackout = true;
      }
      return;
    }
    this.toRing(bytes);
  }

  /** Flash work starts (true) or ends (false). At the end the ISR runs and empties the FIFO. */
  setBlackout(on: boolean): void {
    if (this.blackout === on) return;
    this.blackout = on;
    this.lostThisBlackout = false;
    if (!on && this.fifoLen > 0) {
      const held = this.fifo;
      this.fifo = [];
      this.fifoLen = 0;
      for (const b of held) this.toRing(b);
    }
  }

  /**
   * What the task reads next: the ring-buffer bytes up to and including the next 0x00 (one frame
   * candidate at most), or everything if there is no delimiter yet. Undefined when empty.
   */
  takeSegment(): Uint8Array | undefined {
    if (this.ringLen === 0) return undefined;
    const parts: Uint8Array[] = [];
    let n = 0;
    while (this.ring.length > 0) {
      const c = this.ring[0]!;
      const z = c.indexOf(0);
      if (z < 0) {
        parts.push(c);
        n += c.length;
        this.ring.shift();
        continue;
      }
      parts.push(c.subarray(0, z + 1));
      n += z + 1;
      if (z + 1 === c.length) this.ring.shift();
      else this.ring[0] = c.subarray(z + 1);
      break;
    }
    this.ringLen -= n;
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** True if the ring buffer holds a complete frame candidate (frame bytes followed by a 0x00). */
  frameWaiting(): boolean {
    let seen = false;
    for (const c of this.ring) {
      for (let i = 0; i < c.length; ) {
        if (c[i] !== 0) {
          seen = true;
          const z = c.indexOf(0, i);
          if (z >= 0) return true;
          break;
        }
        if (seen) return true;
        i++;
      }
    }
    return false;
  }

  /** Everything is lost (reset). Counters are kept. */
  clear(): void {
    this.ring = [];
    this.ringLen = 0;
    this.fifo = [];
    this.fifoLen = 0;
    this.blackout = false;
  }

  private toRing(bytes: Uint8Array): void {
    const room = this.ringBytes - this.ringLen;
    const keep = Math.min(room, bytes.length);
    if (keep > 0) {
      this.ring.push(bytes.slice(0, keep)); // a copy: callers may reuse their buffer
      this.ringLen += keep;
      if (this.ringLen > this.counters.ringHighWater) this.counters.ringHighWater = this.ringLen;
    }
    if (keep < bytes.length) this.counters.ringOverflowBytes += bytes.length - keep;
  }
}
