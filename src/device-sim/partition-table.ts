/**
 * ESP-IDF partition table binary (esp-formats.md §4.2): build the two-OTA layout byte for byte as
 * `gen_esp32part.py` writes it, and parse any table (stopping at the all-0xFF entry, checking the
 * MD5 entry when present). Pure byte work.
 */
import { createHash } from 'node:crypto';

export const PARTITION_TABLE_OFFSET = 0x8000;
export const PARTITION_TABLE_MAX = 0xc00;
export const ENTRY_SIZE = 32;
const ENTRY_MAGIC = 0x50aa;
const MD5_MAGIC = 0xebeb;

export const PART_TYPE = { APP: 0x00, DATA: 0x01 } as const;
export const APP_SUBTYPE = { FACTORY: 0x00, OTA_0: 0x10, TEST: 0x20 } as const;
export const DATA_SUBTYPE = { OTA: 0x00, PHY: 0x01, NVS: 0x02 } as const;

export interface Partition {
  label: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  flags: number;
}

/** ESP-IDF `partitions_two_ota.csv` (v5.4.1) as gen_esp32part.py places it. */
export const TWO_OTA_LAYOUT: readonly Partition[] = [
  { label: 'nvs', type: PART_TYPE.DATA, subtype: DATA_SUBTYPE.NVS, offset: 0x9000, size: 0x4000, flags: 0 },
  { label: 'otadata', type: PART_TYPE.DATA, subtype: DATA_SUBTYPE.OTA, offset: 0xd000, size: 0x2000, flags: 0 },
  { label: 'phy_init', type: PART_TYPE.DATA, subtype: DATA_SUBTYPE.PHY, offset: 0xf000, size: 0x1000, flags: 0 },
  { label: 'factory', type: PART_TYPE.APP, subtype: APP_SUBTYPE.FACTORY, offset: 0x10000, size: 0x100000, flags: 0 },
  { label: 'ota_0', type: PART_TYPE.APP, subtype: 0x10, offset: 0x110000, size: 0x100000, flags: 0 },
  { label: 'ota_1', type: PART_TYPE.APP, subtype: 0x11, offset: 0x210000, size: 0x100000, flags: 0 },
];

/** The 0xC00-byte table: entries, the MD5 entry over them, 0xFF padding. */
export function buildPartitionTable(parts: readonly Partition[] = TWO_OTA_LAYOUT): Buffer {
  const out = Buffer.alloc(PARTITION_TABLE_MAX, 0xff);
  if ((parts.length + 1) * ENTRY_SIZE > PARTITION_TABLE_MAX) throw new TypeError('too many partitions');
  parts.forEach((p, i) => {
    const e = out.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE);
    e.writeUInt16LE(ENTRY_MAGIC, 0);
    e[2] = p.type;
    e[3] = p.subtype;
    e.writeUInt32LE(p.offset, 4);
    e.writeUInt32LE(p.size, 8);
    e.fill(0, 12, 28);
    e.write(p.label, 12, 16, 'utf8');
    e.writeUInt32LE(p.flags, 28);
  });
  const n = parts.length * ENTRY_SIZE;
  const md5 = out.subarray(n, n + ENTRY_SIZE);
  md5.writeUInt16LE(MD5_MAGIC, 0);
  createHash('md5').update(out.subarray(0, n)).digest().copy(md5, 16);
  return out;
}

export class PartitionTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartitionTableError';
  }
}

/** Parses a table; throws PartitionTableError on a bad entry magic or an MD5 mismatch. */
export function parsePartitionTable(buf: Uint8Array): Partition[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, PARTITION_TABLE_MAX));
  const parts: Partition[] = [];
  for (let off = 0; off + ENTRY_SIZE <= b.length; off += ENTRY_SIZE) {
    const magic = b.readUInt16LE(off);
    if (magic === 0xffff) break; // end of table
    if (magic === MD5_MAGIC) {
      const want = b.subarray(off + 16, off + 32);
      const got = createHash('md5').update(b.subarray(0, off)).digest();
      if (!got.equals(want)) throw new PartitionTableError('partition table MD5 mismatch');
      break;
    }
    if (magic !== ENTRY_MAGIC) throw new PartitionTableError(`bad partition entry magic at 0x${off.toString(16)}`);
    const raw = b.subarray(off + 12, off + 28);
    const nul = raw.indexOf(0);
    parts.push({
      label: raw.subarray(0, nul < 0 ? 16 : nul).toString('utf8'),
      type: b[off + 2]!,
      subtype: b[off + 3]!,
      offset: b.readUInt32LE(off + 4),
      size: b.readUInt32LE(off + 8),
      flags: b.readUInt32LE(off + 28),
    });
  }
  return parts;
}

/** App partitions in the order the protocol lists them: factory first, then ota_0, ota_1, ... */
export function appPartitions(parts: readonly Partition[]): Partition[] {
  return parts
    .filter((p) => p.type === PART_TYPE.APP && (p.subtype === APP_SUBTYPE.FACTORY || isOtaSubtype(p.subtype)))
    .sort((a, b) => a.subtype - b.subtype);
}

export function isOtaSubtype(subtype: number): boolean {
  return subtype >= 0x10 && subtype <= 0x1f;
}

export function findData(parts: readonly Partition[], subtype: number): Partition | undefined {
  return parts.find((p) => p.type === PART_TYPE.DATA && p.subtype === subtype);
}
