/**
 * Whole-flash images for the simulator: a fresh "factory layout" (partition table at 0x8000 as
 * ESP-IDF's two-OTA layout, a valid factory app, empty otadata so the factory app boots), a
 * file-backed flash for `--flash FILE`, and a read-only summary of what is on a flash and what
 * would boot (for tests and `info`).
 */
import { existsSync, openSync, readSync, fstatSync, writeFileSync } from 'node:fs';
import { buildAppImage } from '../image/index.js';
import { Flash, BLOCK_SIZE } from './flash.js';
import { buildPartitionTable, PARTITION_TABLE_OFFSET, TWO_OTA_LAYOUT } from './partition-table.js';
import { DeviceLayout, inspectSlot } from './layout.js';
import { runBootloader, type BootConfig } from './boot.js';

export interface FlashImageOptions {
  sizeMB?: number;
  /** Version string of the factory app (default "1.0.0-factory"). */
  factoryVersion?: string;
  /** Chip the factory app is built for (default 0, ESP32). */
  chipId?: number;
}

export const DEFAULT_FACTORY_VERSION = '1.0.0-factory';

/** A new in-memory flash with the factory layout and a valid factory app (secure_version 0). */
export function createFlashImage(opts: FlashImageOptions = {}): Flash {
  const size = (opts.sizeMB ?? 4) * 1024 * 1024;
  if (size < 0x310000) throw new TypeError('"sizeMB" must be at least 4 (the two-OTA layout ends at 0x310000)');
  const flash = new Flash({ size });
  flash.program(PARTITION_TABLE_OFFSET, buildPartitionTable(TWO_OTA_LAYOUT));
  const factory = TWO_OTA_LAYOUT.find((p) => p.label === 'factory')!;
  const app = buildAppImage({
    version: opts.factoryVersion ?? DEFAULT_FACTORY_VERSION,
    secureVersion: 0,
    chipId: opts.chipId ?? 0,
    projectName: 'ota-uart-sim-factory',
  });
  flash.program(factory.offset, app);
  return flash;
}

/**
 * Opens a flash file with write-through (every flash op lands in the file before it returns).
 * A missing file is created with the factory layout when `create` is set.
 */
export function openFlashFile(path: string, opts: FlashImageOptions & { create?: boolean } = {}): Flash {
  if (!existsSync(path)) {
    if (!opts.create) throw new Error(`flash file ${path} does not exist`);
    writeFileSync(path, createFlashImage(opts).snapshot());
  }
  const fd = openSync(path, 'r+');
  const size = fstatSync(fd).size;
  if (size === 0 || size % BLOCK_SIZE !== 0) throw new Error(`flash file ${path} is ${size} bytes, not a multiple of 64 KiB`);
  const data = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, data, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return new Flash({ data, fd });
}

export interface PartState {
  label: string;
  subtype: number;
  offset: number;
  size: number;
  /** otadata state (0 NEW .. 4 ABORTED, 0xFF none). */
  state: number;
  valid: boolean;
  version: string;
  secureVersion: number;
}

export interface DeviceState {
  /** Index into `parts` of the app the bootloader would start now (-1: nothing bootable). */
  bootSlot: number;
  bootLabel: string | undefined;
  parts: PartState[];
}

export const DEFAULT_BOOT_CONFIG: BootConfig = { chipId: 0, chipRev: 100, rollback: true, antiRollback: false, efuseSecureVersion: 0 };

/** What is on the flash and what would boot next (no writes). */
export function readDeviceState(flash: Flash, cfg: Partial<BootConfig> = {}): DeviceState {
  const full = { ...DEFAULT_BOOT_CONFIG, ...cfg };
  const layout = new DeviceLayout(flash);
  const boot = runBootloader(layout, full, true);
  const parts = layout.apps.map((p, i) => {
    const app = inspectSlot(flash, p, full);
    return {
      label: p.label,
      subtype: p.subtype,
      offset: p.offset,
      size: p.size,
      state: layout.slotState(i),
      valid: app.valid,
      version: app.version,
      secureVersion: app.secureVersion,
    };
  });
  return { bootSlot: boot.index, bootLabel: layout.apps[boot.index]?.label, parts };
}
