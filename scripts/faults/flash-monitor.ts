/**
 * Watches every erase and program the simulated device makes (in-process trials) and checks, at
 * the moment it happens and from the flash bytes alone (flash-check.ts), that no write touches the
 * slot that was running or the slot otadata currently selects, and that after every otadata write
 * the selected slot holds a complete, expected image.
 *
 * It can also cut the power at a chosen flash operation (the n-th erase or program): before it
 * starts, after it completes, or half-way (a torn operation: part of the range erased, or a
 * prefix of the bytes programmed, as a NOR chip leaves it when power fails mid-operation). The
 * simulator itself treats each operation as atomic; tearing is this matrix's addition.
 */
import type { Flash } from '../../src/device-sim/index.js';
import { bootView, checkFlash, slotAt, type Before, type Part } from './flash-check.js';

export type TearMode = 'before' | 'partial' | 'after';

export interface Tear {
  /** Index of the flash operation (0 = the first erase/program after arming). */
  at: number;
  mode: TearMode;
  /** Only operations inside [lo, hi) count (e.g. the otadata partition); default: all. */
  range?: [number, number];
  /** Only erases, or only programs, count; default: both. */
  kind?: 'erase' | 'program';
  /** Fraction of the operation done when `mode` is partial (0..1). */
  fraction?: number;
}

/** Thrown out of a flash operation cut by the power (after the device was power-cycled). */
export class TornPower extends Error {
  constructor() {
    super('power cut during a flash operation');
    this.name = 'TornPower';
  }
}

export class FlashMonitor {
  /** Flash operations seen since arming (in `tear.range` when given). */
  ops = 0;
  /** Erases and programs seen in total. */
  allOps = 0;
  tornAt: { op: string; mode: TearMode } | undefined;
  readonly violations: string[] = [];
  unverifiedBoot = 0;
  slotChanges = 0;
  private readonly parts: Part[];
  private readonly otadata: Part | undefined;
  private tear: Tear | undefined;

  constructor(
    private readonly flash: Flash,
    private before: Before,
    private readonly plain: Uint8Array | undefined,
    private readonly powerCut: () => void,
  ) {
    const v = bootView(flash.view(0, flash.size));
    this.parts = v.parts;
    this.otadata = v.parts.find((p) => p.type === 1 && p.subtype === 0);
    const erase = flash.erase.bind(flash);
    const program = flash.program.bind(flash);
    flash.erase = (addr: number, len: number): void => this.op('erase', addr, len, () => erase(addr, len), (f) => {
      // A torn erase: the first part of the range is erased (0xFF), the rest still holds old bytes.
      flash.view(addr, Math.floor(len * f)).fill(0xff);
    });
    flash.program = (addr: number, bytes: Uint8Array): void => this.op('program', addr, bytes.length, () => program(addr, bytes), (f) => {
      const n = Math.floor(bytes.length * f);
      const v = flash.view(addr, n);
      for (let i = 0; i < n; i++) v[i]! &= bytes[i]!;
    });
  }

  /** Cuts the power at a flash operation counted from now. */
  arm(t: Tear): void {
    this.tear = t;
    this.ops = 0;
  }

  disarm(): void {
    this.tear = undefined;
  }

  /**
   * The device booted a different slot (a reset after the otadata write installed the update):
   * from now on that slot is the one that must not be written, and the old one may be.
   */
  rebase(before: Before): void {
    this.before = before;
  }

  get baseline(): Before {
    return this.before;
  }

  private op(kind: 'erase' | 'program', addr: number, len: number, run: () => void, partial: (fraction: number) => void): void {
    this.allOps++;
    this.guard(kind, addr, len);
    const t = this.tear;
    const counts = t !== undefined && (!t.range || (addr < t.range[1] && addr + len > t.range[0])) && (!t.kind || t.kind === kind);
    if (t && counts && this.ops++ === t.at) {
      this.tear = undefined;
      const what = `${kind} 0x${addr.toString(16)}+${len}`;
      this.tornAt = { op: what, mode: t.mode };
      if (t.mode === 'after') run();
      if (t.mode === 'partial') partial(t.fraction ?? 0.5);
      this.afterWrite(addr, len);
      this.powerCut();
      throw new TornPower();
    }
    run();
    this.afterWrite(addr, len);
  }

  /** No write may touch the slot that ran before the push or the slot otadata selects now. */
  private guard(kind: string, addr: number, len: number): void {
    const slot = slotAt(this.parts, addr, len);
    if (!slot) {
      if (addr < 0x9000 && addr + len > 0x8000) this.violate(`${kind} over the partition table`, 'slot');
      return;
    }
    const selected = bootView(this.flash.view(0, this.flash.size)).boot?.label;
    if (slot.label === this.before.boot) this.violate(`${kind} at 0x${addr.toString(16)} in ${slot.label}, the slot that was running`, 'slot');
    else if (slot.label === selected) this.violate(`${kind} at 0x${addr.toString(16)} in ${slot.label}, the slot otadata selects`, 'slot');
  }

  private afterWrite(addr: number, len: number): void {
    const od = this.otadata;
    if (!od || addr >= od.offset + od.size || addr + len <= od.offset) return;
    const f = checkFlash(this.flash.view(0, this.flash.size), this.before, this.plain);
    if (f.unverifiedBoot) this.violate(`after an otadata write: ${f.problems.join('; ')}`, 'boot');
  }

  private violate(msg: string, kind: 'slot' | 'boot'): void {
    if (kind === 'slot') this.slotChanges++;
    else this.unverifiedBoot++;
    if (this.violations.length < 5) this.violations.push(msg);
  }
}
