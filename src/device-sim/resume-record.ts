/**
 * The durable resume record of SPEC §7: a log of 32-byte entries in the first sector of the nvs
 * partition, `magic:u32 "MSER"  offset:u32  image_id_prefix:u8[20]  crc32:u32` (CRC-32 of the first
 * 28 bytes). Entries are appended into erased space; the last well-formed one is the record; a
 * full sector is erased and the log starts again. Clearing the record erases the sector.
 *
 * Planning only: RecordLog returns FlashOps, which the device runs (and times) like any other flash
 * work, always after the slot writes the record describes.
 */
import { crc32 } from '../protocol/index.js';
import { SECTOR_SIZE, type Flash, type FlashTiming } from './flash.js';
import { eraseOp, programOp, type FlashOp } from './flash-ops.js';

export const RECORD_MAGIC = 0x5245534d;
export const RECORD_SIZE = 32;
export const RECORD_ID_PREFIX = 20;
const ENTRIES = SECTOR_SIZE / RECORD_SIZE;

export interface ResumeRecord {
  /** File offset the device can continue from (512 + plaintext bytes durably in the slot). */
  offset: number;
  /** First 20 bytes of the image id. */
  idPrefix: Buffer;
}

export function encodeRecord(offset: number, imageId: Uint8Array): Buffer {
  const b = Buffer.alloc(RECORD_SIZE);
  b.writeUInt32LE(RECORD_MAGIC, 0);
  b.writeUInt32LE(offset >>> 0, 4);
  b.set(imageId.subarray(0, RECORD_ID_PREFIX), 8);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  return b;
}

function isErased(b: Uint8Array): boolean {
  return b.every((x) => x === 0xff);
}

/** The current record in the log at `sector`, if any. */
export function readResumeRecord(flash: Flash, sector: number): ResumeRecord | undefined {
  let found: ResumeRecord | undefined;
  for (let i = 0; i < ENTRIES; i++) {
    const e = flash.view(sector + i * RECORD_SIZE, RECORD_SIZE);
    if (isErased(e)) break;
    if (e.readUInt32LE(0) !== RECORD_MAGIC || e.readUInt32LE(28) !== crc32(e.subarray(0, 28))) continue;
    found = { offset: e.readUInt32LE(4), idPrefix: Buffer.from(e.subarray(8, 28)) };
  }
  return found;
}

/** True if the record belongs to the image with this id. */
export function recordMatches(r: ResumeRecord, imageId: Uint8Array): boolean {
  return r.idPrefix.equals(Buffer.from(imageId.subarray(0, RECORD_ID_PREFIX)));
}

/**
 * The log as the firmware task sees it: where the next entry goes is kept in RAM, so several
 * appends planned before any of them has run (a sector rewrite lowers the record, then the write
 * raises it again) land in different entries. A reset makes a new one, which reads the flash again.
 */
export class RecordLog {
  private next: number;

  constructor(
    private readonly flash: Flash,
    private readonly t: FlashTiming,
    readonly sector: number,
  ) {
    let i = 0;
    while (i < ENTRIES && !isErased(flash.view(sector + i * RECORD_SIZE, RECORD_SIZE))) i++;
    this.next = i;
  }

  read(): ResumeRecord | undefined {
    return readResumeRecord(this.flash, this.sector);
  }

  /** Ops that append a record (erasing the sector first when it is full). */
  append(offset: number, imageId: Uint8Array): FlashOp[] {
    const entry = encodeRecord(offset, imageId);
    const ops: FlashOp[] = [];
    if (this.next >= ENTRIES) {
      ops.push(eraseOp(this.flash, this.t, this.sector, SECTOR_SIZE));
      this.next = 0;
    }
    ops.push(programOp(this.flash, this.t, this.sector + this.next * RECORD_SIZE, entry));
    this.next++;
    return ops;
  }

  /** Ops that remove any record (none if the log is already empty). */
  clear(): FlashOp[] {
    if (this.next === 0 && isErased(this.flash.view(this.sector, SECTOR_SIZE))) return [];
    this.next = 0;
    return [eraseOp(this.flash, this.t, this.sector, SECTOR_SIZE)];
  }
}
