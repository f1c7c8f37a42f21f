/**
 * NOR flash model of the simulated ESP32: a Buffer (optionally written through to a file) with
 * the two rules that matter for OTA code, and a timing model the device uses to block itself.
 *
 * - Erase works on whole 4 KiB sectors or 64 KiB blocks and sets every byte to 0xFF.
 * - Program can only clear bits (1 -> 0). Programming a 1 over a 0 is what corrupts real flash
 *   silently; here it throws FlashError so tests catch code that forgets to erase.
 * - With a file, every completed erase/program is written to the file at once (pwrite, no fsync):
 *   a `kill -9` leaves the file exactly as of the last completed flash operation, which is how the
 *   simulator models a power cut.
 *
 * Depends on node:fs only.
 */
import { closeSync, writeSync } from 'node:fs';

export const SECTOR_SIZE = 0x1000;
export const BLOCK_SIZE = 0x10000;
export const PAGE_SIZE = 256;
export const DEFAULT_FLASH_SIZE = 4 * 1024 * 1024;

/** Time per flash operation in milliseconds (datasheet-typical values for the ESP32's flash). */
export interface FlashTiming {
  sectorEraseMs: number;
  blockEraseMs: number;
  pageProgramMs: number;
}

export const FLASH_TIMINGS: Readonly<Record<'instant' | 'esp32', FlashTiming>> = {
  instant: { sectorEraseMs: 0, blockEraseMs: 0, pageProgramMs: 0 },
  // GD25Q32/W25Q32-class typicals: 4 KiB erase 45 ms, 64 KiB erase 150 ms, 256 B page 0.7 ms.
  esp32: { sectorEraseMs: 45, blockEraseMs: 150, pageProgramMs: 0.7 },
};

export function resolveFlashTiming(t: 'instant' | 'esp32' | FlashTiming | undefined): FlashTiming {
  if (t === undefined) return FLASH_TIMINGS.instant;
  return typeof t === 'string' ? FLASH_TIMINGS[t] : t;
}

/**
 * Sustained bytes/s of erase + program for a long sequential write with 64 KiB block erases:
 * the ceiling no transfer into this flash can beat. Infinity for the instant model.
 */
export function flashCeiling(t: FlashTiming): number {
  const ms = t.blockEraseMs + (BLOCK_SIZE / PAGE_SIZE) * t.pageProgramMs;
  return ms <= 0 ? Infinity : (BLOCK_SIZE * 1000) / ms;
}

export class FlashError extends Error {
  constructor(message: string, readonly addr: number) {
    super(message);
    this.name = 'FlashError';
  }
}

export interface FlashCounters {
  sectorErases: number;
  blockErases: number;
  programs: number;
  bytesProgrammed: number;
}

export class Flash {
  readonly size: number;
  readonly counters: FlashCounters = { sectorErases: 0, blockErases: 0, programs: 0, bytesProgrammed: 0 };
  private readonly mem: Buffer;
  private fd: number | undefined;
  private gen = 0;

  /** `data` (if given) is used as the contents without copying; `fd` makes every op write through. */
  constructor(opts: { size?: number; data?: Buffer; fd?: number } = {}) {
    this.mem = opts.data ?? Buffer.alloc(opts.size ?? DEFAULT_FLASH_SIZE, 0xff);
    this.size = this.mem.length;
    if (this.size % BLOCK_SIZE !== 0) throw new TypeError('"size" must be a multiple of 64 KiB');
    this.fd = opts.fd;
  }

  /**
   * Goes up with every erase and program: whatever was computed from the contents (an app verified,
   * a boot decision) still holds while it has not changed.
   */
  get generation(): number {
    return this.gen;
  }

  /** A copy of `len` bytes at `addr`. */
  read(addr: number, len: number): Buffer {
    return Buffer.from(this.view(addr, len));
  }

  /** The bytes at `addr` without copying; valid until the next erase/program of that range. */
  view(addr: number, len: number): Buffer {
    this.checkRange(addr, len);
    return this.mem.subarray(addr, addr + len);
  }

  /** Erases [addr, addr+len): both must be sector-aligned. Uses 64 KiB blocks where aligned. */
  erase(addr: number, len: number): void {
    if (addr % SECTOR_SIZE !== 0 || len % SECTOR_SIZE !== 0) {
      throw new FlashError(`erase at 0x${addr.toString(16)} len 0x${len.toString(16)} is not sector-aligned`, addr);
    }
    this.checkRange(addr, len);
    this.gen++;
    for (const op of eraseOps(addr, len)) {
      this.mem.fill(0xff, op.addr, op.addr + op.len);
      if (op.len === BLOCK_SIZE) this.counters.blockErases++;
      else this.counters.sectorErases++;
      this.persist(op.addr, op.len);
    }
  }

  /** NOR program: fails (and changes nothing) if any bit would have to go from 0 to 1. */
  program(addr: number, bytes: Uint8Array): void {
    this.checkRange(addr, bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      const old = this.mem[addr + i]!;
      if ((old & bytes[i]!) !== bytes[i]) {
        throw new FlashError(`program over unerased data at 0x${(addr + i).toString(16)}`, addr + i);
      }
    }
    this.mem.set(bytes, addr);
    this.gen++;
    this.counters.programs++;
    this.counters.bytesProgrammed += bytes.length;
    this.persist(addr, bytes.length);
  }

  /** Erases the sectors covering [addr, addr+len) and programs `bytes` (for metadata writes). */
  rewrite(addr: number, bytes: Uint8Array): void {
    const start = addr - (addr % SECTOR_SIZE);
    const end = Math.ceil((addr + bytes.length) / SECTOR_SIZE) * SECTOR_SIZE;
    this.erase(start, end - start);
    this.program(addr, bytes);
  }

  /** The whole contents (a copy), e.g. to compare flash images in tests. */
  snapshot(): Buffer {
    return Buffer.from(this.mem);
  }

  /** Stops writing through to the file and closes it. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private persist(addr: number, len: number): void {
    if (this.fd === undefined) return;
    let done = 0;
    while (done < len) done += writeSync(this.fd, this.mem, addr + done, len - done, addr + done);
  }

  private checkRange(addr: number, len: number): void {
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > this.size) {
      throw new FlashError(`access 0x${addr.toString(16)}+${len} outside the ${this.size}-byte flash`, addr);
    }
  }
}

/** The erase operations a device issues for an aligned range: blocks where aligned, else sectors. */
export function eraseOps(addr: number, len: number): { addr: number; len: number }[] {
  const ops: { addr: number; len: number }[] = [];
  let a = addr;
  const end = addr + len;
  while (a < end) {
    const n = a % BLOCK_SIZE === 0 && end - a >= BLOCK_SIZE ? BLOCK_SIZE : SECTOR_SIZE;
    ops.push({ addr: a, len: n });
    a += n;
  }
  return ops;
}

/** Milliseconds the erase of an aligned range takes with `t`. */
export function eraseTimeMs(t: FlashTiming, addr: number, len: number): number {
  return eraseOps(addr, len).reduce((ms, op) => ms + (op.len === BLOCK_SIZE ? t.blockEraseMs : t.sectorEraseMs), 0);
}

/** Milliseconds to program `len` bytes at `addr`: one page-program per 256-byte page touched. */
export function programTimeMs(t: FlashTiming, addr: number, len: number): number {
  if (len === 0) return 0;
  const pages = Math.floor((addr + len - 1) / PAGE_SIZE) - Math.floor(addr / PAGE_SIZE) + 1;
  return pages * t.pageProgramMs;
}
