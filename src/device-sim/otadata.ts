/**
 * The otadata partition (esp-formats.md §4.1): two `esp_ota_select_entry_t` records, one per
 * sector, with the ESP ROM CRC over ota_seq, and the writes ESP-IDF makes to it
 * (`esp_ota_set_boot_partition`, state changes by the bootloader and by the app).
 *
 * Works on any FlashLike, so the device can account flash time for each write.
 */
import type { Flash } from './flash.js';
import { SECTOR_SIZE } from './flash.js';

export type FlashLike = Pick<Flash, 'size' | 'read' | 'view' | 'erase' | 'program' | 'rewrite'>;

export const OTA_STATE = {
  NEW: 0,
  PENDING_VERIFY: 1,
  VALID: 2,
  INVALID: 3,
  ABORTED: 4,
  UNDEFINED: 0xffffffff,
} as const;

export const OTA_ENTRY_SIZE = 32;
const EMPTY_SEQ = 0xffffffff;

export interface OtaEntry {
  seq: number;
  state: number;
  crc: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/**
 * ESP ROM `crc32_le(0xFFFFFFFF, &ota_seq, 4)`: reflected CRC-32 whose register starts at 0 (the ROM
 * inverts the seed), final XOR 0xFFFFFFFF. Not the plain zlib CRC of the 4 bytes.
 */
export function otaSeqCrc(seq: number): number {
  let c = 0;
  for (let i = 0; i < 4; i++) c = CRC_TABLE[(c ^ ((seq >>> (8 * i)) & 0xff)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** 32 bytes: seq, 20 x 0xFF label, state, CRC. */
export function encodeOtaEntry(seq: number, state: number): Buffer {
  const b = Buffer.alloc(OTA_ENTRY_SIZE, 0xff);
  b.writeUInt32LE(seq >>> 0, 0);
  b.writeUInt32LE(state >>> 0, 24);
  b.writeUInt32LE(otaSeqCrc(seq), 28);
  return b;
}

export function decodeOtaEntry(b: Uint8Array): OtaEntry {
  const v = Buffer.from(b.buffer, b.byteOffset, OTA_ENTRY_SIZE);
  return { seq: v.readUInt32LE(0), state: v.readUInt32LE(24), crc: v.readUInt32LE(28) };
}

/** Valid as the bootloader sees it: non-empty, CRC matches, not INVALID/ABORTED. */
export function isEntryValid(e: OtaEntry): boolean {
  return (
    e.seq !== EMPTY_SEQ &&
    e.crc === otaSeqCrc(e.seq) &&
    e.state !== OTA_STATE.INVALID &&
    e.state !== OTA_STATE.ABORTED
  );
}

/** Index (0/1) of the valid entry with the larger seq, or -1 if neither is valid. */
export function activeEntry(entries: readonly OtaEntry[]): number {
  let best = -1;
  entries.forEach((e, i) => {
    if (isEntryValid(e) && (best < 0 || e.seq > entries[best]!.seq)) best = i;
  });
  return best;
}

/** OTA slot index (0 = ota_0) an entry selects among `n` OTA partitions. */
export function entrySlot(e: OtaEntry, n: number): number {
  return (e.seq - 1) % n;
}

/** Accessor bound to one otadata partition. */
export class Otadata {
  constructor(
    private readonly flash: FlashLike,
    readonly offset: number,
  ) {}

  read(): [OtaEntry, OtaEntry] {
    return [
      decodeOtaEntry(this.flash.view(this.offset, OTA_ENTRY_SIZE)),
      decodeOtaEntry(this.flash.view(this.offset + SECTOR_SIZE, OTA_ENTRY_SIZE)),
    ];
  }

  /** Erases the entry's sector and programs it (ESP-IDF rewrites a whole otadata sector). */
  write(index: number, seq: number, state: number): void {
    this.flash.rewrite(this.offset + index * SECTOR_SIZE, encodeOtaEntry(seq, state));
  }

  setState(index: number, state: number): void {
    const e = this.read()[index]!;
    this.write(index, e.seq, state);
  }

  /**
   * `esp_ota_set_boot_partition(ota_k)` among `n` OTA slots (fact sheet §4.1): the new seq is the
   * smallest value above the active seq that selects k, written to the other entry; if the active
   * entry already selects k, only its state is rewritten.
   */
  setBoot(k: number, n: number, state: number): void {
    const entries = this.read();
    const a = activeEntry(entries);
    if (a < 0) {
      this.write(0, k + 1, state);
      return;
    }
    const active = entries[a]!;
    if (entrySlot(active, n) === k) {
      this.write(a, active.seq, state);
      return;
    }
    let seq = active.seq + 1;
    while ((seq - 1) % n !== k) seq++;
    this.write(a ^ 1, seq, state);
  }

  /** Setting the factory app to boot erases the whole otadata partition (ESP-IDF). */
  eraseAll(): void {
    this.flash.erase(this.offset, 2 * SECTOR_SIZE);
  }
}
