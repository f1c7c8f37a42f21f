/**
 * Generates format-valid ESP app images for demos and tests, following the recipe of
 * `app_esp32.bin` in the shared vectors README byte for byte: with the default options the output
 * IS that file. `size` grows the data segment(s) with deterministic bytes, split into segments
 * below the 16 MiB limit, so images from ~1 KiB to hundreds of MiB build in milliseconds.
 */
import { createHash } from 'node:crypto';
import {
  APP_DESC_MAGIC,
  APP_DESC_OFFSET,
  APP_DESC_SIZE,
  APP_MAGIC,
  CHECKSUM_SEED,
  IMAGE_HEADER_SIZE,
  MAX_SEGMENTS,
  SEGMENT_HEADER_SIZE,
} from './app-image.js';

export interface BuildAppOptions {
  version: string;
  secureVersion?: number;
  chipId?: number;
  minChipRevFull?: number;
  maxChipRevFull?: number;
  projectName?: string;
  idfVer?: string;
  /** Approximate total size in bytes (the result is at most this, within 16 bytes, if >= ~1.1 KiB). */
  size?: number;
  /** Varies the filler bytes; without a seed the filler is the recipe's (7*i + 3) & 0xff. */
  seed?: number;
}

const SEG0_LEN = 0x400;
const DEFAULT_DATA_LEN = 0x800;
/** Largest filler segment: a multiple of 16 below the 16 MiB segment limit. */
const MAX_DATA_SEG = 16 * 1024 * 1024 - 16;
const RODATA_TEXT = 'ESP32 test vector rodata. ';
const HASH_LEN = 32;

/** Addresses for generated images: ESP32 (Xtensa) as in the recipe; RISC-V chips' DROM/IRAM otherwise. */
function layout(chipId: number): { drom: number; iram: number; entry: number } {
  if (chipId === 0) return { drom: 0x3f400020, iram: 0x40080000, entry: 0x40080404 };
  if (chipId === 2) return { drom: 0x3f000020, iram: 0x40020000, entry: 0x40020404 };
  return { drom: 0x3c000020, iram: 0x40380000, entry: 0x40380404 };
}

function putStr(buf: Buffer, at: number, width: number, text: string, name: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > width) throw new TypeError(`"${name}" must be at most ${width} bytes`);
  bytes.copy(buf, at); // rest stays NUL
}

function u(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new TypeError(`"${name}" must be an integer in 0..${max}`);
  return v;
}

/** Lengths of the filler segments for a requested total size. */
function fillerLengths(size: number | undefined): number[] {
  if (size === undefined) return [DEFAULT_DATA_LEN];
  if (!Number.isFinite(size) || size < 0) throw new TypeError('"size" must be a non-negative number');
  const fixed = IMAGE_HEADER_SIZE + SEGMENT_HEADER_SIZE + SEG0_LEN + 1 + HASH_LEN;
  let count = 1;
  let data = 0;
  for (; count < MAX_SEGMENTS; count++) {
    data = Math.floor((size - fixed - SEGMENT_HEADER_SIZE * count) / 16) * 16;
    if (data <= count * MAX_DATA_SEG) break;
  }
  data = Math.max(16, Math.min(data, count * MAX_DATA_SEG));
  const out: number[] = [];
  for (let left = data; left > 0; left -= MAX_DATA_SEG) out.push(Math.min(left, MAX_DATA_SEG));
  return out;
}

function fillFiller(dst: Buffer, seed: number | undefined): void {
  if (seed === undefined) {
    const period = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) period[i] = (7 * i + 3) & 0xff;
    dst.fill(period); // (7*i + 3) & 0xff repeats every 256 bytes
    return;
  }
  // xorshift32 over 32-bit words; fine to use native byte order as tests only need determinism per host.
  const words = new Uint32Array(dst.buffer, dst.byteOffset, dst.length >>> 2);
  let x = ((seed >>> 0) ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
}

function buildDesc(o: BuildAppOptions): Buffer {
  const d = Buffer.alloc(APP_DESC_SIZE);
  const project = o.projectName ?? 'esp_ota_vectors';
  d.writeUInt32LE(APP_DESC_MAGIC, 0);
  d.writeUInt32LE(u('secureVersion', o.secureVersion ?? 1, 0xffffffff), 4);
  putStr(d, 16, 32, o.version, 'version');
  putStr(d, 48, 32, project, 'projectName');
  putStr(d, 80, 16, '12:00:00', 'time');
  putStr(d, 96, 16, 'Jan  1 2026', 'date');
  putStr(d, 112, 32, o.idfVer ?? 'v5.4.1', 'idfVer');
  createHash('sha256').update(`${project} placeholder ELF`).digest().copy(d, 144);
  d.writeUInt16LE(0, 176); // min_efuse_blk_rev_full
  d.writeUInt16LE(99, 178); // max_efuse_blk_rev_full
  d[180] = 16; // mmu_page_size log2 (64 KiB)
  d[181] = 3; // spi_flash_mode DIO (desc numbering)
  return d;
}

export function buildAppImage(o: BuildAppOptions): Buffer {
  const chipId = u('chipId', o.chipId ?? 0, 0xffff);
  const addr = layout(chipId);
  const fillers = fillerLengths(o.size);
  const dataTotal = fillers.reduce((a, b) => a + b, 0);
  const segEnd = IMAGE_HEADER_SIZE + SEGMENT_HEADER_SIZE + SEG0_LEN + fillers.length * SEGMENT_HEADER_SIZE + dataTotal;
  const csumAt = segEnd + (15 - (segEnd % 16));
  const img = Buffer.alloc(csumAt + 1 + HASH_LEN);

  // Image header (esp-formats.md §3.1): DIO, 40 MHz, 4 MB flash; WP pin disabled; hash appended.
  img[0] = APP_MAGIC;
  img[1] = 1 + fillers.length;
  img[2] = 0x02;
  img[3] = 0x20;
  img.writeUInt32LE(addr.entry, 4);
  img[8] = 0xee;
  img.writeUInt16LE(chipId, 12);
  const minRev = u('minChipRevFull', o.minChipRevFull ?? 0, 0xffff);
  img[14] = Math.min(255, Math.floor(minRev / 100)); // legacy major-only field
  img.writeUInt16LE(minRev, 15);
  img.writeUInt16LE(u('maxChipRevFull', o.maxChipRevFull ?? 399, 0xffff), 17);
  img[23] = 1;

  // Segment 0: app description, then the recipe's rodata text.
  let off = IMAGE_HEADER_SIZE;
  img.writeUInt32LE(addr.drom, off);
  img.writeUInt32LE(SEG0_LEN, off + 4);
  buildDesc(o).copy(img, APP_DESC_OFFSET);
  const rodata = Buffer.alloc(SEG0_LEN - APP_DESC_SIZE);
  rodata.fill(RODATA_TEXT, 0, rodata.length, 'ascii');
  rodata.copy(img, APP_DESC_OFFSET + APP_DESC_SIZE);
  off += SEGMENT_HEADER_SIZE + SEG0_LEN;

  // Filler segments, one continuous byte sequence split at segment boundaries.
  const filler = Buffer.alloc(dataTotal); // own ArrayBuffer, 4-byte aligned for the word fill
  fillFiller(filler, o.seed);
  let load = addr.iram;
  let pos = 0;
  for (const len of fillers) {
    img.writeUInt32LE(load, off);
    img.writeUInt32LE(len, off + 4);
    filler.copy(img, off + SEGMENT_HEADER_SIZE, pos, pos + len);
    off += SEGMENT_HEADER_SIZE + len;
    pos += len;
    load += len;
  }

  img[csumAt] = checksumOf(img, fillers.length + 1);
  createHash('sha256').update(img.subarray(0, csumAt + 1)).digest().copy(img, csumAt + 1);
  return img;
}

/** 0xEF XOR all segment data bytes, folded 4 bytes at a time (lengths are multiples of 4). */
function checksumOf(img: Buffer, segCount: number): number {
  let off = IMAGE_HEADER_SIZE;
  let w = 0;
  for (let s = 0; s < segCount; s++) {
    const len = img.readUInt32LE(off + 4);
    const start = off + SEGMENT_HEADER_SIZE;
    for (let i = start; i < start + len; i += 4) w ^= img.readInt32LE(i);
    off = start + len;
  }
  return (CHECKSUM_SEED ^ w ^ (w >>> 8) ^ (w >>> 16) ^ (w >>> 24)) & 0xff;
}
