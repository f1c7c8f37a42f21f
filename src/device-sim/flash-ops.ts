/**
 * Flash work as data: each operation knows how long it keeps the flash (and the cache) busy and
 * what it does to the Flash model when it completes. The device runs a list of them in order,
 * sleeping `ms` before each `run()`, so a reset in the middle leaves the flash exactly as of the
 * last completed operation (the power-cut model of flash.ts), and planning code can say how long a
 * batch will take before it starts (for ACK(BUSY, busy_ms)).
 */
import { eraseTimeMs, programTimeMs, type Flash, type FlashTiming } from './flash.js';

export interface FlashOp {
  /** For logs and tests: "erase 0x110000+0x10000", "program 0x110400+1024". */
  what: string;
  ms: number;
  run(): void;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

export function eraseOp(flash: Flash, t: FlashTiming, addr: number, len: number): FlashOp {
  return { what: `erase ${hex(addr)}+${hex(len)}`, ms: eraseTimeMs(t, addr, len), run: () => flash.erase(addr, len) };
}

export function programOp(flash: Flash, t: FlashTiming, addr: number, bytes: Uint8Array): FlashOp {
  return { what: `program ${hex(addr)}+${bytes.length}`, ms: programTimeMs(t, addr, bytes.length), run: () => flash.program(addr, bytes) };
}

/** Flash work that is not a plain erase or program (otadata rewrite): given time, given effect. */
export function customOp(what: string, ms: number, run: () => void): FlashOp {
  return { what, ms, run };
}

export function opsMs(ops: readonly FlashOp[]): number {
  return ops.reduce((sum, op) => sum + op.ms, 0);
}
