/**
 * The fault matrix's own reading of an ESP32 flash image, written apart from src/device-sim so
 * that a bug in the simulator (or the C receiver's host port) cannot hide itself: the partition
 * table at 0x8000, the two otadata entries (seq, state, ROM CRC), the slot the bootloader is told
 * to start, and SHA-256 digests of slot contents.
 *
 * The invariants of a push (SPEC §7, issue 6), checked on the bytes alone:
 * - the slot otadata selects (factory when no entry is valid) holds either the image that booted
 *   before the push or, byte for byte, the plaintext of the image being pushed: never a partial,
 *   tampered or unverified image;
 * - the slot that was running is never written;
 * - a push that did not complete changes neither what boots nor the slot that booted before.
 * Pure: bytes in, findings out.
 */
import { createHash } from 'node:crypto';

const TABLE_OFFSET = 0x8000;
const TABLE_MAX = 0xc00;
const SECTOR = 0x1000;
const ENTRY_MAGIC = 0x50aa;
const MD5_MAGIC = 0xebeb;
const EMPTY = 0xffffffff;
const STATE_INVALID = 3;
const STATE_ABORTED = 4;

export interface Part {
  label: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
}

export interface OtaEntry {
  seq: number;
  state: number;
  crcOk: boolean;
}

export interface BootView {
  parts: Part[];
  /** App partitions (factory, ota_0, ota_1, ...). */
  apps: Part[];
  otadata: [OtaEntry, OtaEntry] | undefined;
  /** The app partition the bootloader is told to start (the active otadata entry, else factory). */
  boot: Part | undefined;
  /** Why `boot` was chosen, for reports. */
  reason: string;
}

/** ESP ROM crc32_le(0xFFFFFFFF, buf): reflected CRC-32, register starting at 0, final XOR ~0. */
export function romCrc32(bytes: Uint8Array): number {
  let c = 0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

export function parseTable(flash: Uint8Array): Part[] {
  const b = Buffer.from(flash.buffer, flash.byteOffset + TABLE_OFFSET, TABLE_MAX);
  const parts: Part[] = [];
  for (let o = 0; o + 32 <= TABLE_MAX; o += 32) {
    const magic = b.readUInt16LE(o);
    if (magic === 0xffff) break;
    if (magic === MD5_MAGIC) {
      const md5 = createHash('md5').update(b.subarray(0, o)).digest();
      if (!md5.equals(b.subarray(o + 16, o + 32))) throw new Error('partition table MD5 mismatch');
      break;
    }
    if (magic !== ENTRY_MAGIC) throw new Error(`bad partition table entry at 0x${(TABLE_OFFSET + o).toString(16)}`);
    const name = b.subarray(o + 12, o + 28);
    const nul = name.indexOf(0);
    parts.push({
      label: name.subarray(0, nul < 0 ? 16 : nul).toString('latin1'),
      type: b[o + 2]!,
      subtype: b[o + 3]!,
      offset: b.readUInt32LE(o + 4),
      size: b.readUInt32LE(o + 8),
    });
  }
  return parts;
}

function readEntry(flash: Uint8Array, at: number): OtaEntry {
  const b = Buffer.from(flash.buffer, flash.byteOffset + at, 32);
  const seq = b.readUInt32LE(0);
  return { seq, state: b.readUInt32LE(24), crcOk: b.readUInt32LE(28) === romCrc32(b.subarray(0, 4)) };
}

/** What the second-stage bootloader is told to start (its selection step, before any fallback). */
export function bootView(flash: Uint8Array): BootView {
  const parts = parseTable(flash);
  const apps = parts.filter((p) => p.type === 0 && (p.subtype === 0 || (p.subtype >= 0x10 && p.subtype <= 0x1f)));
  const ota = apps.filter((p) => p.subtype >= 0x10);
  const od = parts.find((p) => p.type === 1 && p.subtype === 0);
  const factory = apps.find((p) => p.subtype === 0);
  if (!od) return { parts, apps, otadata: undefined, boot: factory ?? ota[0], reason: 'no otadata partition' };
  const e: [OtaEntry, OtaEntry] = [readEntry(flash, od.offset), readEntry(flash, od.offset + SECTOR)];
  const valid = e.filter((x) => x.seq !== EMPTY && x.crcOk && x.state !== STATE_INVALID && x.state !== STATE_ABORTED);
  if (valid.length === 0 || ota.length === 0) return { parts, apps, otadata: e, boot: factory ?? ota[0], reason: 'no valid otadata entry' };
  const best = valid.reduce((a, x) => (x.seq > a.seq ? x : a));
  const k = (best.seq - 1) % ota.length;
  return { parts, apps, otadata: e, boot: ota.find((p) => p.subtype === 0x10 + k), reason: `otadata seq ${best.seq} -> ota_${k}` };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function slotBytes(flash: Uint8Array, p: Part, len = p.size): Uint8Array {
  return flash.subarray(p.offset, p.offset + Math.min(len, p.size));
}

/** What a trial remembers about the flash before its push. */
export interface Before {
  /** The slot that boots (and so runs) before the push. */
  boot: string;
  /** SHA-256 of that whole slot. */
  bootSlotSha: string;
  /** otadata bytes (both sectors) as hex SHA-256. */
  otadataSha: string;
}

export function snapshot(flash: Uint8Array): Before {
  const v = bootView(flash);
  if (!v.boot) throw new Error('nothing boots on this flash');
  const od = v.parts.find((p) => p.type === 1 && p.subtype === 0);
  return {
    boot: v.boot.label,
    bootSlotSha: sha256(slotBytes(flash, v.boot)),
    otadataSha: od ? sha256(flash.subarray(od.offset, od.offset + od.size)) : '',
  };
}

export interface Findings {
  /** otadata selects a slot holding neither the previous image nor exactly the pushed plaintext. */
  unverifiedBoot: boolean;
  /** The previously booting (running) slot changed, or what boots changed after a failed push. */
  slotChanged: boolean;
  /** The pushed image is set to boot. */
  newBoots: boolean;
  /** The push reported success but the pushed image is not what boots. */
  falseSuccess: boolean;
  problems: string[];
}

/**
 * Checks the invariants on `flash` after (or during) a push of `plain` that started from `before`.
 * `completed`: the push reported success (then the new image must boot); false: it failed or was
 * cut (then nothing that boots may have changed); undefined: in the middle (either is fine).
 */
export function checkFlash(flash: Uint8Array, before: Before, plain: Uint8Array | undefined, completed?: boolean): Findings {
  const problems: string[] = [];
  let v: BootView;
  try {
    v = bootView(flash);
  } catch (e) {
    return { unverifiedBoot: true, slotChanged: true, newBoots: false, falseSuccess: !!completed, problems: [`flash unreadable: ${(e as Error).message}`] };
  }
  const prev = v.apps.find((p) => p.label === before.boot);
  const prevIntact = prev !== undefined && sha256(slotBytes(flash, prev)) === before.bootSlotSha;
  let unverifiedBoot = false;
  let newBoots = false;
  if (!v.boot) {
    unverifiedBoot = true;
    problems.push(`no slot to boot (${v.reason})`);
  } else {
    newBoots = plain !== undefined && sha256(slotBytes(flash, v.boot, plain.length)) === sha256(plain);
    const ok = newBoots || (v.boot.label === before.boot && prevIntact);
    if (!ok) {
      unverifiedBoot = true;
      problems.push(v.boot.label === before.boot
        ? `${v.boot.label} is set to boot but no longer holds the image that booted before`
        : `${v.boot.label} is set to boot (${v.reason}) but holds neither the previous image nor the pushed plaintext`);
    }
  }
  let slotChanged = false;
  if (!prevIntact) {
    slotChanged = true;
    problems.push(`the slot that ran before (${before.boot}) was written`);
  }
  if (completed === false && v.boot?.label !== before.boot && !newBoots) {
    // (A failed push whose device did switch to the complete, verified image, e.g. a reset right
    // after the otadata write, is not a violation: what boots is what was pushed.)
    slotChanged = true;
    problems.push(`a push that failed changed the boot slot from ${before.boot} to ${v.boot?.label ?? 'none'}`);
  }
  const falseSuccess = completed === true && !newBoots;
  if (falseSuccess) problems.push(`the push reported success but ${v.boot?.label ?? 'nothing'} boots, not the pushed image`);
  return { unverifiedBoot, slotChanged, newBoots, falseSuccess, problems };
}

/** Which app slot (if any) the address range touches. */
export function slotAt(parts: readonly Part[], addr: number, len: number): Part | undefined {
  return parts.find((p) => p.type === 0 && addr < p.offset + p.size && addr + len > p.offset);
}
