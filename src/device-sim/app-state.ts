/**
 * What the device knows about its apps after booting: which slot runs, what each slot holds (as it
 * last looked), what would boot next, where an update may go, and the app-side otadata changes
 * (esp_ota_mark_app_valid_cancel_rollback / esp_ota_mark_app_invalid_rollback_and_reboot).
 * Lives in RAM: a reset makes a new one, and the bootloader runs again.
 */
import { NO_TARGET } from '../protocol/index.js';
import { runBootloader, type BootConfig, type BootResult, type KnownSlot } from './boot.js';
import type { Flash } from './flash.js';
import { DeviceLayout, inspectSlot, type SlotApp } from './layout.js';
import { OTA_STATE, activeEntry } from './otadata.js';
import { isOtaSubtype } from './partition-table.js';

export class AppState {
  readonly layout: DeviceLayout;
  /** Index into layout.apps of the running app, -1 if nothing booted. */
  readonly running: number;
  readonly bootNotes: string[];
  private readonly cache = new Map<number, SlotApp>();
  /** The last "what would boot now" and the flash generation and config it was computed for. */
  private bootMemo: { key: string; index: number } | undefined;

  /** Boots: runs the bootloader (which may change otadata states) and remembers what runs. */
  constructor(readonly flash: Flash, private readonly cfg: () => BootConfig) {
    this.layout = new DeviceLayout(flash);
    const before = flash.generation;
    const config = cfg();
    const r: BootResult = runBootloader(this.layout, config, false);
    this.running = r.index;
    this.bootNotes = r.notes;
    // A boot that wrote nothing to otadata (no state changed) is exactly what a dry run would decide
    // now: keep its answer, so the first HELLO need not verify the running image a second time.
    if (flash.generation === before) this.bootMemo = { key: memoKey(flash, config), index: r.index };
  }

  get apps() {
    return this.layout.apps;
  }

  /** What slot `i` holds (verified like the bootloader, cached until `invalidate`). */
  slot(i: number): SlotApp {
    let s = this.cache.get(i);
    if (!s) {
      s = inspectSlot(this.flash, this.layout.apps[i]!, this.cfg());
      this.cache.set(i, s);
    }
    return s;
  }

  invalidate(i?: number): void {
    if (i === undefined) this.cache.clear();
    else this.cache.delete(i);
    this.bootMemo = undefined;
  }

  /**
   * Index of the app the bootloader would start now (-1: none), without writing anything. The dry
   * run verifies the chosen image (a SHA-256 over all of it); HELLO, BEGIN and END each ask, so the
   * answer is kept while neither the flash nor the boot configuration has changed. `known`: a slot
   * the caller has just verified and not written since (see runBootloader).
   */
  nextBoot(known?: KnownSlot): number {
    const cfg = this.cfg();
    const key = memoKey(this.flash, cfg);
    if (this.bootMemo?.key !== key) this.bootMemo = { key, index: runBootloader(this.layout, cfg, true, known).index };
    return this.bootMemo.index;
  }

  /** The running app is the active otadata entry and still PENDING_VERIFY (rollback enabled). */
  runningPending(): boolean {
    return this.activeIndexForRunning() >= 0 && this.layout.activeState() === OTA_STATE.PENDING_VERIFY;
  }

  /**
   * The slot an update goes to: the next OTA slot after the running one
   * (esp_ota_get_next_update_partition), skipping the running slot and any slot otadata currently
   * selects or would boot, so a half-written slot can never be the one set to boot. NO_TARGET if none.
   */
  target(): number {
    const apps = this.layout.apps;
    const ota = apps.map((p, i) => ({ p, i })).filter(({ p }) => isOtaSubtype(p.subtype));
    if (ota.length === 0) return NO_TARGET;
    const run = apps[this.running];
    const base = run && isOtaSubtype(run.subtype) ? ota.findIndex(({ i }) => i === this.running) + 1 : 0;
    const avoid = new Set([this.running, this.layout.activeOtaIndex(), this.nextBoot()]);
    for (let j = 0; j < ota.length; j++) {
      const c = ota[(base + j) % ota.length]!;
      if (!avoid.has(c.i)) return c.i;
    }
    return NO_TARGET;
  }

  /** Marks the pending running app VALID. False if it was not pending. */
  confirm(): boolean {
    const a = this.activeIndexForRunning();
    if (a < 0 || this.layout.activeState() !== OTA_STATE.PENDING_VERIFY) return false;
    this.layout.otadata!.setState(a, OTA_STATE.VALID);
    return true;
  }

  /** True if another app could boot if the running one were marked invalid (reads the flash afresh). */
  rollbackPossible(): boolean {
    this.invalidate();
    return this.layout.apps.some((_, i) => {
      if (i === this.running || !this.slot(i).valid) return false;
      const s = this.layout.slotState(i);
      return s !== OTA_STATE.INVALID && s !== OTA_STATE.ABORTED;
    });
  }

  /** Marks the running app's otadata entry INVALID (the caller then resets). */
  markRunningInvalid(): void {
    const a = this.activeIndexForRunning();
    if (a >= 0) this.layout.otadata!.setState(a, OTA_STATE.INVALID);
  }

  /** otadata entry index (0/1) that is active and selects the running slot, or -1. */
  private activeIndexForRunning(): number {
    const od = this.layout.otadata;
    if (!od || this.layout.activeOtaIndex() !== this.running || this.running < 0) return -1;
    return activeEntry(od.read());
  }
}

function memoKey(flash: Flash, cfg: BootConfig): string {
  return `${flash.generation}:${JSON.stringify(cfg)}`;
}
