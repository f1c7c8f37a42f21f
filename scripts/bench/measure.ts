/**
 * What one bench run produces, and how its time is taken from the link emulator: from the first byte
 * the sending program put on the line to the last byte delivered in either direction (the final
 * acknowledgement), so process start-up and the receiver's idle wait are not counted for any tool.
 */
import type { PtyLink } from './pty-link.js';

export interface RunResult {
  ok: boolean;
  /** Transfer time by the link emulator's clock. */
  seconds: number;
  /** Why the run failed or what it noticed (retries, a killed straggler). */
  note?: string;
  /** Tool-specific numbers (retries, frames, ceiling...). */
  extra?: Record<string, number | string>;
  /** Bit flips and drops the emulator injected. */
  flippedBits: number;
  droppedBytes: number;
}

/** Seconds from the first byte A sent to the last byte delivered either way. */
export function linkSeconds(link: PtyLink): number {
  const s = link.stats();
  const end = Math.max(nanTo0(s.aToB.lastOut), nanTo0(s.bToA.lastOut));
  return (end - s.aToB.firstIn) / 1000;
}

export function faultCounts(link: PtyLink): { flippedBits: number; droppedBytes: number } {
  const s = link.stats();
  return { flippedBits: s.aToB.flippedBits + s.bToA.flippedBits, droppedBytes: s.aToB.dropped + s.bToA.dropped };
}

/** Waits until the B side has said something (a receiver announcing itself), or `ms` pass. */
export async function waitForBtoA(link: PtyLink, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (!Number.isNaN(link.stats().bToA.firstIn)) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

function nanTo0(x: number): number {
  return Number.isNaN(x) ? 0 : x;
}
