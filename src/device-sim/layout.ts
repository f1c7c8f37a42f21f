/**
 * What the simulated device knows about its flash: the partition table at 0x8000, the app slots in
 * HELLO_ACK order (factory, ota_0, ota_1, ...), otadata and nvs, and what each app slot holds.
 * Depends on partition-table.ts, otadata.ts and the image library's verifier.
 */
import { verifyAppImage, parseAppHeader, APP_PREFIX_SIZE } from '../image/index.js';
import { isOtaSubtype, parsePartitionTable, appPartitions, findData, DATA_SUBTYPE, PARTITION_TABLE_OFFSET, PARTITION_TABLE_MAX, type Partition } from './partition-table.js';
import { Otadata, OTA_STATE, activeEntry, entrySlot, isEntryValid, otaSeqCrc, type FlashLike } from './otadata.js';

export interface ChipIdentity {
  chipId: number;
  /** major * 100 + minor */
  chipRev: number;
}

export class DeviceLayout {
  readonly parts: Partition[];
  readonly apps: Partition[];
  readonly otadata: Otadata | undefined;
  readonly nvs: Partition | undefined;

  constructor(readonly flash: FlashLike) {
    this.parts = parsePartitionTable(flash.view(PARTITION_TABLE_OFFSET, PARTITION_TABLE_MAX));
    this.apps = appPartitions(this.parts);
    const od = findData(this.parts, DATA_SUBTYPE.OTA);
    this.otadata = od ? new Otadata(flash, od.offset) : undefined;
    this.nvs = findData(this.parts, DATA_SUBTYPE.NVS);
  }

  /** Number of ota_N slots (the modulus of otadata's seq). */
  get otaCount(): number {
    return this.apps.filter((p) => isOtaSubtype(p.subtype)).length;
  }

  /** Index into `apps` of ota_k, or -1. */
  otaIndex(k: number): number {
    return this.apps.findIndex((p) => p.subtype === 0x10 + k);
  }

  factoryIndex(): number {
    return this.apps.findIndex((p) => p.subtype === 0x00);
  }

  /**
   * otadata state of an app slot for HELLO_ACK: the state of the newest well-formed entry that
   * selects it (whatever its state), 0xFF if none does (factory, or never written).
   */
  slotState(index: number): number {
    const p = this.apps[index];
    if (!p || !isOtaSubtype(p.subtype) || !this.otadata) return OTA_STATE.UNDEFINED & 0xff;
    const k = p.subtype - 0x10;
    let best: { seq: number; state: number } | undefined;
    for (const e of this.otadata.read()) {
      if (e.seq === 0xffffffff || e.crc !== otaSeqCrc(e.seq) || entrySlot(e, this.otaCount) !== k) continue;
      if (!best || e.seq > best.seq) best = e;
    }
    return best === undefined || best.state > 0xff ? 0xff : best.state;
  }

  /** Index into `apps` of the slot the active otadata entry selects, or -1 (factory / none). */
  activeOtaIndex(): number {
    if (!this.otadata) return -1;
    const entries = this.otadata.read();
    const a = activeEntry(entries);
    return a < 0 ? -1 : this.otaIndex(entrySlot(entries[a]!, this.otaCount));
  }

  /** True if the active entry selects a slot and its state is PENDING_VERIFY. */
  activeState(): number | undefined {
    if (!this.otadata) return undefined;
    const entries = this.otadata.read();
    const a = activeEntry(entries);
    return a < 0 ? undefined : entries[a]!.state;
  }

  hasAnyValidEntry(): boolean {
    return this.otadata !== undefined && this.otadata.read().some(isEntryValid);
  }
}

export interface SlotApp {
  /** Passes esp_image_verify for this chip (and anti-rollback if `minSecureVersion` was given). */
  valid: boolean;
  version: string;
  projectName: string;
  secureVersion: number;
  /** Why the slot is not valid (check name), if it is not. */
  problem?: string;
}

/** What an app slot holds, read from flash (verification like the bootloader's). */
export function inspectSlot(flash: FlashLike, part: Partition, chip: ChipIdentity, minSecureVersion?: number): SlotApp {
  const buf = flash.view(part.offset, part.size);
  let version = '';
  let projectName = '';
  let secureVersion = 0;
  try {
    const info = parseAppHeader(buf.subarray(0, APP_PREFIX_SIZE));
    ({ version, projectName, secureVersion } = info.desc);
  } catch {
    return { valid: false, version, projectName, secureVersion, problem: 'no_app' };
  }
  try {
    verifyAppImage(buf, { chipId: chip.chipId, chipRevFull: chip.chipRev });
  } catch (e) {
    const check = (e as { details?: { check?: unknown } }).details?.check;
    return { valid: false, version, projectName, secureVersion, problem: String(check ?? 'verify') };
  }
  return withMinSecureVersion({ valid: true, version, projectName, secureVersion }, minSecureVersion);
}

/** Anti-rollback on a verified slot: below the eFuse counter it does not boot. */
export function withMinSecureVersion(app: SlotApp, minSecureVersion: number | undefined): SlotApp {
  if (!app.valid || minSecureVersion === undefined || app.secureVersion >= minSecureVersion) return app;
  return { ...app, valid: false, problem: 'secure_version' };
}
