/**
 * Writing the plaintext app into the target slot, in order from its start, the way an OTA writer
 * on NOR flash must: erase ahead of the write pointer (64 KiB blocks where aligned, like the
 * esptool stub's "async erase", else 4 KiB sectors; never beyond the image), then program.
 * Program operations never cross a 4 KiB boundary, so each is one short flash blackout.
 *
 * After a reset the device knows only that the first `done` bytes are good (the durable record).
 * The rest of that sector may hold bytes written just before the power cut (even half-programmed
 * ones, after a cut during a page program). SPEC §7: the flash after the resume point must be
 * blank before it is written again, so unless it is all 0xFF the sector is rewritten: the record
 * is first moved back to the sector start, so a cut during the rewrite never leaves a record that
 * claims more than the flash holds.
 */
import { BLOCK_SIZE, FlashError, SECTOR_SIZE, type Flash, type FlashTiming } from './flash.js';
import { eraseOp, programOp, type FlashOp } from './flash-ops.js';
import type { Partition } from './partition-table.js';

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

export interface SlotWriterOptions {
  flash: Flash;
  timing: FlashTiming;
  part: Partition;
  /** Plaintext length (bin_size): erase never goes beyond it. */
  imageLen: number;
  /** Plaintext bytes already good in the slot (resume after a reset). Default 0. */
  done?: number;
  /** Ops that move the durable record back to `plainBytes` (needed before a sector rewrite). */
  lowerRecord?: (plainBytes: number) => FlashOp[];
}

export class SlotWriter {
  /** Plaintext bytes planned into the slot so far (the write pointer, slot-relative). */
  written: number;
  /** Everything below this (slot-relative) has been erased by this writer or is known good. */
  private erasedTo: number;
  /** The rest of the resume point's sector, which may hold bytes from before a reset. */
  private dirty: { start: number; end: number } | undefined;
  /** Sector rewrites forced by unexpected bytes after a resume point. */
  rewrites = 0;

  constructor(private readonly o: SlotWriterOptions) {
    const done = o.done ?? 0;
    this.written = done;
    this.erasedTo = roundUp(done, SECTOR_SIZE);
    if (done % SECTOR_SIZE !== 0) this.dirty = { start: done, end: this.erasedTo };
  }

  get part(): Partition {
    return this.o.part;
  }

  /** Ops that write `plain` at the write pointer, erasing ahead as needed. Advances the pointer. */
  planWrite(plain: Uint8Array): FlashOp[] {
    const { flash, timing, part } = this.o;
    const start = this.written;
    const end = start + plain.length;
    if (end > part.size) throw new FlashError(`write beyond the end of ${part.label}`, part.offset + end);
    const ops: FlashOp[] = [];
    let prefix: Uint8Array = new Uint8Array(0);
    let at = start;
    const dirty = this.dirty;
    this.dirty = undefined; // checked once, at the first write after the resume point
    if (dirty && !this.blank(dirty.start, dirty.end)) {
      // Bytes after the resume point: rewrite that sector from its start.
      const sector = start - (start % SECTOR_SIZE);
      prefix = flash.read(part.offset + sector, start - sector);
      ops.push(...(this.o.lowerRecord?.(sector) ?? []), eraseOp(flash, timing, part.offset + sector, SECTOR_SIZE));
      this.rewrites++;
      at = sector;
    }
    const imageEnd = roundUp(this.o.imageLen, SECTOR_SIZE);
    while (this.erasedTo < end) {
      const len = this.erasedTo % BLOCK_SIZE === 0 && this.erasedTo + BLOCK_SIZE <= imageEnd ? BLOCK_SIZE : SECTOR_SIZE;
      ops.push(eraseOp(flash, timing, part.offset + this.erasedTo, len));
      this.erasedTo += len;
    }
    const data = prefix.length > 0 ? Buffer.concat([prefix, plain]) : plain;
    for (let o = 0; o < data.length; ) {
      const a = at + o;
      const n = Math.min(data.length - o, SECTOR_SIZE - (a % SECTOR_SIZE));
      ops.push(programOp(flash, timing, part.offset + a, data.subarray(o, o + n)));
      o += n;
    }
    this.written = end;
    return ops;
  }

  /** True if slot bytes [from, to) are erased. */
  private blank(from: number, to: number): boolean {
    return this.o.flash.view(this.o.part.offset + from, to - from).every((b) => b === 0xff);
  }
}
