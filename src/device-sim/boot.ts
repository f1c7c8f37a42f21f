/**
 * The second-stage bootloader's choice of app (esp-formats.md §4.1, ESP-IDF
 * `bootloader_utility_get_selected_boot_partition` + `load_boot_image`):
 * 1. with rollback, every entry still PENDING_VERIFY becomes ABORTED (the app never confirmed);
 * 2. the valid entry with the larger seq selects ota_((seq-1) % n); none -> factory (or ota_0);
 * 3. with rollback, a selected NEW entry becomes PENDING_VERIFY;
 * 4. the chosen image must verify (and pass anti-rollback); otherwise try lower slots down to
 *    factory, then higher ones.
 * `dryRun` computes the same answer without writing otadata ("what would boot now").
 */
import { OTA_STATE, activeEntry, entrySlot, type OtaEntry } from './otadata.js';
import { inspectSlot, withMinSecureVersion, type ChipIdentity, type DeviceLayout, type SlotApp } from './layout.js';

export interface BootConfig extends ChipIdentity {
  rollback: boolean;
  antiRollback: boolean;
  efuseSecureVersion: number;
}

export interface BootResult {
  /** Index into layout.apps of the app that runs, -1 if nothing is bootable. */
  index: number;
  app: SlotApp | undefined;
  /** Index the otadata selected before any fallback (-1: factory by default). */
  selected: number;
  /** Lines for the boot log ("Loaded app from partition ..."). */
  notes: string[];
}

/** A slot verified moments ago (with the same chip identity) whose bytes have not changed since. */
export interface KnownSlot {
  index: number;
  app: SlotApp;
}

/**
 * Runs the bootloader's selection; writes otadata (state changes) unless `dryRun`. `known` spares
 * verifying one slot a second time (END has just verified the image it sets to boot: a SHA-256 and a
 * checksum over all of it); anti-rollback is still applied to it.
 */
export function runBootloader(layout: DeviceLayout, cfg: BootConfig, dryRun = false, known?: KnownSlot): BootResult {
  const notes: string[] = [];
  const od = layout.otadata;
  const n = layout.otaCount;
  let entries: OtaEntry[] = od ? od.read() : [];
  if (cfg.rollback && od) {
    entries = entries.map((e, i) => {
      if (e.state !== OTA_STATE.PENDING_VERIFY) return e;
      notes.push(`otadata[${i}] was PENDING_VERIFY at boot: marked ABORTED (rollback)`);
      if (!dryRun) od.setState(i, OTA_STATE.ABORTED);
      return { ...e, state: OTA_STATE.ABORTED };
    });
  }
  const a = activeEntry(entries);
  let start: number;
  if (a >= 0 && n > 0) {
    start = layout.otaIndex(entrySlot(entries[a]!, n));
    if (cfg.rollback && entries[a]!.state === OTA_STATE.NEW) {
      notes.push(`otadata[${a}] NEW: marked PENDING_VERIFY`);
      if (!dryRun) od!.setState(a, OTA_STATE.PENDING_VERIFY);
    }
  } else {
    const f = layout.factoryIndex();
    start = f >= 0 ? f : layout.otaIndex(0);
  }
  const minSv = cfg.antiRollback ? cfg.efuseSecureVersion : undefined;
  for (const idx of fallbackOrder(layout, start)) {
    const part = layout.apps[idx]!;
    if (idx !== start && isRejected(layout, idx)) continue;
    const app = known?.index === idx ? withMinSecureVersion(known.app, minSv) : inspectSlot(layout.flash, part, cfg, minSv);
    if (app.valid) {
      if (idx !== start) notes.push(`selected app in ${layout.apps[start]?.label ?? '?'} not bootable: fell back to ${part.label}`);
      return { index: idx, app, selected: start, notes };
    }
    notes.push(`${part.label}: no valid app (${app.problem ?? 'invalid'})`);
  }
  return { index: -1, app: undefined, selected: start, notes };
}

/** Slots rolled back or aborted are not fallback candidates: they were refused on purpose. */
function isRejected(layout: DeviceLayout, idx: number): boolean {
  const s = layout.slotState(idx);
  return s === OTA_STATE.INVALID || s === OTA_STATE.ABORTED;
}

/** ESP-IDF order: the selected slot, lower OTA slots down to factory, then higher OTA slots. */
function fallbackOrder(layout: DeviceLayout, start: number): number[] {
  // IDF numbering: factory = -1, ota_k = k. Convert via subtypes.
  const idfIndex = (i: number): number => (layout.apps[i]!.subtype === 0 ? -1 : layout.apps[i]!.subtype - 0x10);
  const all = layout.apps.map((_, i) => i);
  if (start < 0) return all;
  const s = idfIndex(start);
  const down = all.filter((i) => idfIndex(i) < s).sort((x, y) => idfIndex(y) - idfIndex(x));
  const up = all.filter((i) => idfIndex(i) > s).sort((x, y) => idfIndex(x) - idfIndex(y));
  return [start, ...down, ...up];
}
