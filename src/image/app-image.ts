/**
 * The ESP application image (esp-formats.md §3): parsing the header and app description, and a
 * verifier that follows `esp_image_verify` in app mode. Every failure is INVALID_APP_IMAGE with
 * `details.check` (a stable name) and `details.offset` (where in the image it failed).
 * Checks, in the order they run: magic, truncated (any check that ran out of bytes), chip_id,
 * min_chip_rev, max_chip_rev, segment_count, segment_length, segment0_size, segment_alignment,
 * app_desc_magic, checksum, sha256, partition_size.
 */
import { createHash } from 'node:crypto';
import { OtaError } from '../errors.js';
import { chipName, isFlashMapped, MMU_PAGE_SIZE } from './chips.js';

export const APP_MAGIC = 0xe9;
export const APP_DESC_MAGIC = 0xabcd5432;
export const IMAGE_HEADER_SIZE = 24;
export const SEGMENT_HEADER_SIZE = 8;
export const APP_DESC_OFFSET = IMAGE_HEADER_SIZE + SEGMENT_HEADER_SIZE; // 0x20
export const APP_DESC_SIZE = 256;
/** Bytes needed by parseAppHeader: image header, first segment header, app description. */
export const APP_PREFIX_SIZE = APP_DESC_OFFSET + APP_DESC_SIZE; // 288
export const MAX_SEGMENTS = 16;
export const MAX_SEGMENT_LEN = 16 * 1024 * 1024;
export const MIN_SEG0_LEN = 256;
export const CHECKSUM_SEED = 0xef;

export interface AppDesc {
  magic: number;
  secureVersion: number;
  version: string;
  projectName: string;
  time: string;
  date: string;
  idfVer: string;
  elfSha256: string;
  minEfuseBlkRevFull: number;
  maxEfuseBlkRevFull: number;
  mmuPageSizeLog2: number;
  spiFlashMode: number;
}

export interface AppInfo {
  chipId: number;
  chipName: string;
  segmentCount: number;
  spiMode: number;
  spiSpeed: number;
  spiSize: number;
  entryAddr: number;
  minChipRev: number;
  minChipRevFull: number;
  maxChipRevFull: number;
  hashAppended: boolean;
  desc: AppDesc;
}

export interface SegmentInfo {
  index: number;
  /** Offset of the segment header in the image. */
  offset: number;
  loadAddr: number;
  dataLen: number;
}

export interface VerifiedApp extends AppInfo {
  segments: SegmentInfo[];
  /** Checksum byte as stored (equal to the computed one, or verification failed). */
  checksum: number;
  /** Appended SHA-256 (hex) if hash_appended, else the SHA-256 of the image through the checksum. */
  sha256: string;
  /** Bytes covered by the image (header .. hash); anything after it is e.g. a signature sector. */
  imageLength: number;
  trailingBytes: number;
}

export interface VerifyOptions {
  /** The device's chip id; checked against the header if given. */
  chipId?: number;
  /** The device's chip revision (major*100+minor); checked against the header's range if given. */
  chipRevFull?: number;
  /** Size of the target partition; the image must fit. */
  partitionSize?: number;
}

export type AppCheckResult =
  | { ok: true; info: VerifiedApp }
  | { ok: false; error: OtaError; check: string; offset: number };

function invalid(check: string, offset: number, message: string, extra: Record<string, unknown> = {}): OtaError {
  return new OtaError('INVALID_APP_IMAGE', `invalid app image: ${message} (check ${check} at offset ${offset})`, {
    details: { check, offset, ...extra },
  });
}

/** The image ends before `what`: one check name for every truncation, offset = where the data ends. */
function truncated(length: number, what: string): OtaError {
  return invalid('truncated', length, `image is truncated: ${length} bytes, ends before ${what}`);
}

const hex = (n: number, w = 8): string => `0x${n.toString(16).padStart(w, '0')}`;

/** NUL-terminated (or full-width) C string field. */
function cstr(b: Buffer, off: number, len: number): string {
  const f = b.subarray(off, off + len);
  const end = f.indexOf(0);
  return f.subarray(0, end < 0 ? len : end).toString('utf8');
}

function parseDesc(b: Buffer, at: number): AppDesc {
  return {
    magic: b.readUInt32LE(at),
    secureVersion: b.readUInt32LE(at + 4),
    version: cstr(b, at + 16, 32),
    projectName: cstr(b, at + 48, 32),
    time: cstr(b, at + 80, 16),
    date: cstr(b, at + 96, 16),
    idfVer: cstr(b, at + 112, 32),
    elfSha256: b.subarray(at + 144, at + 176).toString('hex'),
    minEfuseBlkRevFull: b.readUInt16LE(at + 176),
    maxEfuseBlkRevFull: b.readUInt16LE(at + 178),
    mmuPageSizeLog2: b.readUInt8(at + 180),
    spiFlashMode: b.readUInt8(at + 181),
  };
}

/** Parses the header and app description from the first 288 plaintext bytes. */
export function parseAppHeader(plainPrefix: Uint8Array): AppInfo {
  const b = Buffer.from(plainPrefix.buffer, plainPrefix.byteOffset, plainPrefix.length);
  if (b.length >= 1 && b[0] !== APP_MAGIC) {
    throw invalid('magic', 0, `first byte is ${hex(b[0]!, 2)}, expected 0xe9`);
  }
  if (b.length < APP_PREFIX_SIZE) {
    throw truncated(b.length, `the end of the app description (needs ${APP_PREFIX_SIZE} bytes)`);
  }
  const info = readAppInfo(b);
  checkDescMagic(info);
  return info;
}

function checkDescMagic(info: AppInfo): void {
  if (info.desc.magic !== APP_DESC_MAGIC) {
    throw invalid('app_desc_magic', APP_DESC_OFFSET, `app description magic is ${hex(info.desc.magic)}, expected ${hex(APP_DESC_MAGIC)}`);
  }
}

/** Header fields and description of a buffer of at least 288 bytes, without checks. */
function readAppInfo(b: Buffer): AppInfo {
  const chipId = b.readUInt16LE(12);
  return {
    chipId,
    chipName: chipName(chipId),
    segmentCount: b[1]!,
    spiMode: b[2]!,
    spiSpeed: b[3]! & 0x0f,
    spiSize: b[3]! >> 4,
    entryAddr: b.readUInt32LE(4),
    minChipRev: b[14]!,
    minChipRevFull: b.readUInt16LE(15),
    maxChipRevFull: b.readUInt16LE(17),
    hashAppended: b[23] === 1,
    desc: parseDesc(b, APP_DESC_OFFSET),
  };
}

/** Header-level checks of esp_image_verify: chip id, revision range, segment count. */
function checkHeader(info: AppInfo, opts: VerifyOptions): void {
  if (opts.chipId !== undefined && info.chipId !== opts.chipId) {
    throw invalid('chip_id', 12, `built for ${info.chipName}, device is ${chipName(opts.chipId)}`);
  }
  if (opts.chipRevFull !== undefined) {
    const rev = opts.chipRevFull;
    if (rev < info.minChipRevFull) {
      throw invalid('min_chip_rev', 15, `needs chip revision >= ${revText(info.minChipRevFull)}, device is ${revText(rev)}`);
    }
    const max = info.maxChipRevFull;
    if (max !== 0 && max !== 0xffff && rev > max) {
      throw invalid('max_chip_rev', 17, `needs chip revision <= ${revText(max)}, device is ${revText(rev)}`);
    }
  }
  if (info.segmentCount === 0 || info.segmentCount > MAX_SEGMENTS) {
    throw invalid('segment_count', 1, `${info.segmentCount} segments, expected 1..${MAX_SEGMENTS}`);
  }
}

export function revText(full: number): string {
  return `v${Math.floor(full / 100)}.${full % 100}`;
}

/** Walks the segments (bounds, alignment, MMU rule) and XORs their data into the checksum. */
function walkSegments(b: Buffer, info: AppInfo): { segments: SegmentInfo[]; end: number; checksum: number } {
  const segments: SegmentInfo[] = [];
  let off = IMAGE_HEADER_SIZE;
  let sum = CHECKSUM_SEED;
  for (let i = 0; i < info.segmentCount; i++) {
    if (off + SEGMENT_HEADER_SIZE > b.length) {
      throw truncated(b.length, `segment ${i} header at ${off}`);
    }
    const loadAddr = b.readUInt32LE(off);
    const dataLen = b.readUInt32LE(off + 4);
    const data = off + SEGMENT_HEADER_SIZE;
    if (dataLen % 4 !== 0 || dataLen >= MAX_SEGMENT_LEN) {
      throw invalid('segment_length', off + 4, `segment ${i} length ${dataLen} must be a multiple of 4 and < 16 MiB`);
    }
    if (data + dataLen > b.length) {
      throw truncated(b.length, `segment ${i} data (${dataLen} bytes at ${data})`);
    }
    if (i === 0 && dataLen < MIN_SEG0_LEN) {
      throw invalid('segment0_size', off + 4, `segment 0 is ${dataLen} bytes, must hold the 256-byte app description`);
    }
    if (isFlashMapped(info.chipId, loadAddr) && data % MMU_PAGE_SIZE !== loadAddr % MMU_PAGE_SIZE) {
      throw invalid('segment_alignment', off, `flash-mapped segment ${i} at ${hex(loadAddr)} is not 64 KiB-aligned with its file offset ${data}`);
    }
    segments.push({ index: i, offset: off, loadAddr, dataLen });
    sum ^= xorBytes(b, data, data + dataLen);
    off = data + dataLen;
  }
  return { segments, end: off, checksum: sum };
}

/**
 * XOR of b[start..end). The device and every verify of a 1 MiB app run this over the whole image,
 * so it XORs aligned 32-bit words (4x fewer steps; XOR is associative, so folding the word's four
 * bytes at the end gives the same byte) and only the unaligned ends byte by byte.
 */
export function xorBytes(b: Uint8Array, start: number, end: number): number {
  let x = 0;
  let j = start;
  const lead = Math.min(end - j, (4 - ((b.byteOffset + j) & 3)) & 3);
  for (const stop = j + lead; j < stop; j++) x ^= b[j]!;
  const words = (end - j) >>> 2;
  if (words > 0) {
    const w = new Int32Array(b.buffer, b.byteOffset + j, words);
    let acc = 0;
    for (let k = 0; k < words; k++) acc ^= w[k]!;
    acc ^= acc >>> 16;
    acc ^= acc >>> 8;
    x ^= acc & 0xff;
    j += words * 4;
  }
  for (; j < end; j++) x ^= b[j]!;
  return x;
}

/** Full verification like esp_image_verify (app mode, no secure-boot signature). Throws on the first failure. */
export function verifyAppImage(image: Uint8Array, opts: VerifyOptions = {}): VerifiedApp {
  const b = Buffer.from(image.buffer, image.byteOffset, image.length);
  if (b.length >= 1 && b[0] !== APP_MAGIC) throw invalid('magic', 0, `first byte is ${hex(b[0]!, 2)}, expected 0xe9`);
  if (b.length < IMAGE_HEADER_SIZE) throw truncated(b.length, 'the 24-byte image header');
  // Header fields first (magic, chip, revision, count) as the device does, then the description.
  const head = Buffer.alloc(APP_PREFIX_SIZE);
  b.copy(head, 0, 0, Math.min(b.length, APP_PREFIX_SIZE));
  const info = readAppInfo(head);
  checkHeader(info, opts);
  const { segments, end, checksum } = walkSegments(b, info);
  checkDescMagic(info); // segment 0 exists and is >= 256 bytes here
  // Zero padding so that (length + 1) % 16 == 0, then the checksum byte.
  const csumAt = end + (15 - (end % 16));
  if (csumAt >= b.length) throw truncated(b.length, `the checksum byte at ${csumAt}`);
  if (b[csumAt] !== checksum) {
    throw invalid('checksum', csumAt, `checksum byte is ${hex(b[csumAt]!, 2)}, calculated ${hex(checksum, 2)}`);
  }
  let imageLength = csumAt + 1;
  const digest = createHash('sha256').update(b.subarray(0, imageLength)).digest();
  if (info.hashAppended) {
    if (imageLength + 32 > b.length) throw truncated(b.length, `the appended SHA-256 at ${imageLength}`);
    const stored = b.subarray(imageLength, imageLength + 32);
    if (!stored.equals(digest)) throw invalid('sha256', imageLength, 'appended SHA-256 does not match the image');
    imageLength += 32;
  }
  if (opts.partitionSize !== undefined && b.length > opts.partitionSize) {
    throw invalid('partition_size', opts.partitionSize, `image is ${b.length} bytes, partition holds ${opts.partitionSize}`);
  }
  return { ...info, segments, checksum, sha256: digest.toString('hex'), imageLength, trailingBytes: b.length - imageLength };
}

/** Non-throwing variant of verifyAppImage. */
export function checkAppImage(image: Uint8Array, opts: VerifyOptions = {}): AppCheckResult {
  try {
    return { ok: true, info: verifyAppImage(image, opts) };
  } catch (e) {
    if (e instanceof OtaError && e.code === 'INVALID_APP_IMAGE') {
      return { ok: false, error: e, check: String(e.details.check), offset: Number(e.details.offset) };
    }
    throw e;
  }
}

/** True if the bytes start like an app image (magic 0xE9); cheap, for telling files apart. */
export function looksLikeAppImage(buf: Uint8Array): boolean {
  return buf.length > 0 && buf[0] === APP_MAGIC;
}
