/**
 * Faults the simulated device suffers or causes (SIM-API SimFaults), all from one seeded random
 * source so a failing run can be replayed: bit errors and lost bytes on what it receives (the
 * shared link fault model, link-faults.ts), bursts of log text toward the host between frames,
 * stalls in which the firmware task stops reading, and a power cut at a chosen offset.
 */
import { FaultInjector, type FaultStats } from '../transport/link-faults.js';
import { seededRng } from '../transport/rng.js';

export interface SimFaults {
  /** Bit error rate on bytes the device receives. */
  ber?: number;
  /** Probability that a received byte is lost. */
  dropRate?: number;
  /** Send a burst of non-frame text toward the host every N received bytes. */
  garbageEveryBytes?: number;
  /** The firmware task stops reading for stallMs every stallEveryBytes received bytes (default 64 KiB). */
  stallMs?: number;
  stallEveryBytes?: number;
  /** Power-cycle when next_offset first reaches this file offset (once per SimDevice). */
  resetAtOffset?: number;
  /** Seed of every random choice above. Default 1. */
  seed?: number;
}

const DEFAULT_STALL_EVERY = 64 * 1024;

export class FaultModel {
  readonly stats: FaultStats = { flippedBits: 0, dropped: 0, garbage: 0, garbled: 0 };
  garbageBursts = 0;
  stalls = 0;
  private readonly rng: () => number;
  private readonly injector: FaultInjector | undefined;
  private sinceGarbage = 0;
  private sinceStall = 0;
  private resetFired = false;

  constructor(private readonly f: SimFaults = {}) {
    for (const k of ['garbageEveryBytes', 'stallMs', 'stallEveryBytes', 'resetAtOffset'] as const) {
      const v = f[k];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new TypeError(`"${k}" must be a number >= 0`);
    }
    this.rng = seededRng(f.seed ?? 1);
    if (f.ber || f.dropRate) this.injector = new FaultInjector({ ber: f.ber, dropRate: f.dropRate }, this.rng, this.stats);
  }

  /** What the UART decodes of bytes that came off the wire. */
  receive(bytes: Uint8Array): Uint8Array {
    return this.injector ? this.injector.apply(bytes, 1, 1) : bytes;
  }

  /** A burst of log-like text to send toward the host, when one is due after `n` more received bytes. */
  garbage(n: number): Uint8Array | undefined {
    const every = this.f.garbageEveryBytes;
    if (!every) return undefined;
    this.sinceGarbage += n;
    if (this.sinceGarbage < every) return undefined;
    this.sinceGarbage %= every;
    this.garbageBursts++;
    const words = 1 + Math.floor(this.rng() * 6);
    let line = `W (${Math.floor(this.rng() * 1e6)}) sim_noise:`;
    for (let i = 0; i < words; i++) line += ` ${Math.floor(this.rng() * 0xffffffff).toString(16)}`;
    const out = new TextEncoder().encode(`${line}\r\n`);
    this.stats.garbage += out.length;
    return out;
  }

  /** Milliseconds the task should stall now, after `n` more received bytes (0: none due). */
  stall(n: number): number {
    const ms = this.f.stallMs;
    if (!ms) return 0;
    this.sinceStall += n;
    const every = this.f.stallEveryBytes || DEFAULT_STALL_EVERY;
    if (this.sinceStall < every) return 0;
    this.sinceStall %= every;
    this.stalls++;
    return ms;
  }

  /** True exactly once: when next_offset first reaches resetAtOffset. */
  resetDue(nextOffset: number): boolean {
    const at = this.f.resetAtOffset;
    if (at === undefined || this.resetFired || nextOffset < at) return false;
    this.resetFired = true;
    return true;
  }
}
