/**
 * The simulated ESP32 running the ota-uart receiver: the device side of protocol/SPEC.md over raw
 * UART bytes. This module is the chip and its firmware task: reset and boot, the UART (uart-rx.ts),
 * the one task that reads frames and runs one request at a time, flash work that blinds the UART
 * (flash-ops.ts), output, and the baud-rate fallback. What each request does lives in begin.ts,
 * data-phase.ts, end.ts and control.ts, which see the device through DeviceCore.
 *
 * A reset (powerCycle(), REBOOT, ROLLBACK, a fault) throws away everything in RAM: the pending
 * input, the decoder, the session, the running-app state, the line rate. Flash and eFuses stay.
 * Handlers still awaiting flash work or a timer see PowerLost and stop; an operation that had not
 * completed never reaches the flash.
 */
import type { Clock } from '../clock.js';
import { BAUD_CONFIRM_MS, STATUS, encodeMessage, type Frame, type Message } from '../protocol/index.js';
import type { Transport } from '../transport/transport.js';
import { AppState } from './app-state.js';
import { BusyTimer } from './busy-timer.js';
import { bootloaderLog, romBanner, type ResetReason } from './boot-log.js';
import type { BootConfig } from './boot.js';
import { ackMsg } from './data-phase.js';
import {
  BUSY_ANNOUNCE_MS, PowerLost, resolveOptions, type ResolvedOptions, type SimDeviceOptions, type SimEvent, type SimStats,
} from './device-core.js';
import { dispatchFrame, type Dispatcher } from './dispatch.js';
import type { EarlyCheckContext } from './early-checks.js';
import { FaultModel } from './faults.js';
import type { Flash } from './flash.js';
import type { FlashOp } from './flash-ops.js';
import { buildHelloAck } from './hello.js';
import { DeviceLayout } from './layout.js';
import type { OtaSession } from './ota-session.js';
import { freshRam, type InstalledImage, type Ram } from './ram.js';
import type { RecordLog } from './resume-record.js';
import { CarriedCounters, zeroStats } from './sim-stats.js';
import { resolveDeviceTiming } from './timing.js';

export class SimDevice implements Dispatcher {
  readonly flash: Flash;
  readonly opts: ResolvedOptions;
  readonly counters: SimStats = zeroStats();
  private readonly nvsSector: number | undefined;
  efuseSecureVersion: number;
  /** The last unexpected exception inside a handler (a simulator bug); the device keeps running. */
  lastError: unknown;
  /** The event of the last completed boot (the first one may complete inside the constructor). */
  lastBoot: Extract<SimEvent, { type: 'boot' }> | undefined;
  private readonly clock: Clock;
  /** Flash and CPU work, timed against deadlines (timers are coarse). */
  private readonly busyTimer: BusyTimer;
  private readonly faults: FaultModel;
  private ram: Ram;
  private transport: Transport | undefined;
  private readonly outputs = new Set<(bytes: Uint8Array) => void>();
  private readonly listeners = new Set<(e: SimEvent) => void>();
  private settleWaiters: (() => void)[] = [];
  private readonly carried = new CarriedCounters();

  constructor(o: SimDeviceOptions) {
    this.opts = resolveOptions(o, resolveDeviceTiming(o.flashTiming));
    this.flash = o.flash;
    this.clock = o.clock;
    this.busyTimer = new BusyTimer(o.clock);
    this.efuseSecureVersion = o.efuseSecureVersion ?? 0;
    this.faults = new FaultModel(o.faults);
    this.nvsSector = new DeviceLayout(o.flash).nvs?.offset;
    this.ram = this.newRam();
    this.boot('power-on');
  }

  /** The UART's current line rate. */
  get baud(): number {
    return this.ram.baud;
  }

  get apps(): AppState {
    if (!this.ram.apps) throw new Error('the device is still booting');
    return this.ram.apps;
  }

  get records(): RecordLog | undefined {
    return this.ram.records;
  }

  get session(): OtaSession | undefined {
    return this.ram.session;
  }

  set session(s: OtaSession | undefined) {
    this.ram.session = s;
    this.ram.refusal = undefined;
    if (s) this.ram.installed = undefined; // an accepted BEGIN: a new update is under way
  }

  get installed(): InstalledImage | undefined {
    return this.ram.installed;
  }

  set installed(i: InstalledImage | undefined) {
    this.ram.installed = i;
  }

  get refusal(): number | undefined {
    return this.ram.refusal;
  }

  set refusal(status: number | undefined) {
    this.ram.refusal = status;
  }

  /** True while the device is resetting and its UART is deaf. */
  get booting(): boolean {
    return this.ram.booting;
  }

  /** All counters, cumulative over resets (frames, drops per kind, overruns, acks, resumes, ...). */
  get stats(): SimStats {
    return this.carried.snapshot(this.counters, this.ram.decoder.counters, this.ram.uart.counters, this.faults);
  }

  /** Becomes the device end of a link: bytes in -> feed(), replies -> t.write(). */
  attach(t: Transport): void {
    this.detach();
    this.transport = t;
    t.onData((bytes) => this.feed(bytes));
    t.onClose(() => {
      if (this.transport === t) this.transport = undefined;
    });
    if (t.baud !== this.ram.baud) t.setBaud(this.ram.baud).catch(() => {});
  }

  detach(): void {
    const t = this.transport;
    this.transport = undefined;
    t?.onData(() => {});
  }

  /** Raw UART bytes out (in addition to an attached transport). Returns a remover. */
  onOutput(cb: (bytes: Uint8Array) => void): () => void {
    this.outputs.add(cb);
    return () => this.outputs.delete(cb);
  }

  onEvent(cb: (e: SimEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Raw UART bytes in, as they come off the wire (the link paces them). */
  feed(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const ram = this.ram;
    if (ram.booting || !ram.apps || ram.apps.running < 0) {
      this.counters.bytesLostInReset += bytes.length;
      return;
    }
    const rx = this.faults.receive(bytes);
    this.counters.rxBytes += rx.length;
    ram.uart.receive(rx);
    const burst = this.faults.garbage(bytes.length);
    if (burst) this.emitRaw(burst);
    ram.stallMs += this.faults.stall(bytes.length);
    this.kick();
  }

  /** Resolves when all work caused by input so far is done (the task is idle, nothing buffered). */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.settleWaiters.push(resolve);
      this.checkSettled();
    });
  }

  /** Power cut and power on: RAM lost, the bootloader runs on the flash. */
  powerCycle(): void {
    this.resetChip('power-on');
  }

  reset(reason: 'reboot' | 'rollback'): void {
    this.resetChip(reason);
  }

  // ---- DeviceCore services for the handlers ----

  send(m: Message): void {
    this.ram.acks.send(m);
  }

  announceBusy(ms: number): void {
    if (ms < BUSY_ANNOUNCE_MS) return;
    this.counters.busyAcks++;
    this.send(ackMsg(this.ram.session, STATUS.BUSY, ms));
  }

  async flashWork(ops: readonly FlashOp[]): Promise<void> {
    const ram = this.ram;
    for (const op of ops) {
      if (op.ms > 0) {
        ram.acks.flush(); // nothing held back while the device cannot talk
        this.counters.flashBusyMs += op.ms;
        ram.uart.setBlackout(true);
        try {
          await this.busyTimer.busy(op.ms);
        } finally {
          ram.uart.setBlackout(false);
        }
      }
      if (ram !== this.ram) throw new PowerLost();
      op.run();
      this.counters.flashOps++;
    }
  }

  async cpuWork(ms: number): Promise<void> {
    const ram = this.ram;
    if (ms > 0) {
      ram.acks.flush();
      await this.busyTimer.busy(ms);
    }
    if (ram !== this.ram) throw new PowerLost();
  }

  async drainOutput(): Promise<void> {
    const ram = this.ram;
    ram.acks.flush();
    await this.transport?.drain().catch(() => {});
    if (ram !== this.ram) throw new PowerLost();
  }

  earlyContext(): EarlyCheckContext {
    const apps = this.apps;
    return {
      chipId: this.opts.chipId,
      chipRev: this.opts.chipRev,
      antiRollback: this.opts.antiRollback,
      efuseSecureVersion: this.efuseSecureVersion,
      runningVersion: apps.slot(apps.running).version,
      allowDowngrade: false,
    };
  }

  event(e: SimEvent): void {
    for (const l of this.listeners) l(e);
  }

  powerCutAt(nextOffset: number): boolean {
    if (!this.faults.resetDue(nextOffset)) return false;
    this.resetChip('fault', nextOffset);
    return true;
  }

  setLineRate(baud: number): void {
    this.counters.baudSwitches++;
    this.applyBaud(baud);
    this.event({ type: 'baud', baud, phase: 'switched' });
  }

  // ---- internals ----

  private newRam(): Ram {
    return freshRam(this.opts, this.flash, this.nvsSector, (m) => this.emitMessage(m));
  }

  private bootConfig(): BootConfig {
    const o = this.opts;
    return { chipId: o.chipId, chipRev: o.chipRev, rollback: o.rollback, antiRollback: o.antiRollback, efuseSecureVersion: this.efuseSecureVersion };
  }

  private resetChip(reason: ResetReason, offset?: number): void {
    const old = this.ram;
    old.baudFallback?.cancel();
    this.carried.carry(old.decoder.counters, old.uart.counters);
    this.counters.resets++;
    this.event({ type: 'reset', reason, ...(offset !== undefined && { offset }) });
    this.ram = this.newRam();
    this.busyTimer.idle(); // work after the reset starts when it starts, not where the old work was due to end
    this.boot(reason);
  }

  /** Comes out of reset: ROM banner, bootloader after bootMs, then the receiver listens. */
  private boot(reason: ResetReason): void {
    const ram = this.ram;
    if (this.transport && this.transport.baud !== ram.baud) this.transport.setBaud(ram.baud).catch(() => {});
    if (this.opts.bootLog) this.emitRaw(new TextEncoder().encode(romBanner(reason)));
    const done = (): void => {
      if (ram !== this.ram) return;
      const apps = new AppState(this.flash, () => this.bootConfig());
      ram.apps = apps;
      ram.booting = false;
      const run = apps.apps[apps.running];
      const version = run ? apps.slot(apps.running).version : '';
      if (this.opts.bootLog) this.emitRaw(new TextEncoder().encode(bootloaderLog(apps.bootNotes, run && { label: run.label, offset: run.offset, version })));
      this.lastBoot = { type: 'boot', reason, running: run?.label ?? 'none', version, notes: apps.bootNotes };
      this.event(this.lastBoot);
      this.checkSettled();
    };
    if (this.opts.timing.bootMs > 0) this.clock.setTimer(this.opts.timing.bootMs, done);
    else done();
  }

  private applyBaud(baud: number): void {
    this.ram.baud = baud;
    this.ram.decoder.reset();
    this.transport?.setBaud(baud).catch(() => {});
  }

  private emitMessage(m: Message): void {
    this.counters.txFrames++;
    if (m.type === 'ACK') this.counters.acks++;
    this.emitRaw(encodeMessage(m));
  }

  private emitRaw(bytes: Uint8Array): void {
    this.counters.txBytes += bytes.length;
    for (const cb of this.outputs) cb(bytes);
    this.transport?.write(bytes).catch(() => {});
  }

  private kick(): void {
    const ram = this.ram;
    if (ram.looping || ram.booting) return;
    ram.looping = true;
    void this.loop(ram);
  }

  /** The firmware task: one frame candidate at a time, one request at a time. */
  private async loop(ram: Ram): Promise<void> {
    try {
      for (;;) {
        if (ram.stallMs > 0) {
          const ms = ram.stallMs;
          ram.stallMs = 0;
          await this.cpuWork(ms);
        }
        const seg = ram.uart.takeSegment();
        if (!seg) {
          this.busyTimer.idle();
          break;
        }
        for (const f of ram.decoder.push(seg)) {
          ram.acks.moreWaiting = ram.uart.frameWaiting();
          await this.onFrame(ram, f);
          if (ram !== this.ram) return;
        }
      }
      ram.acks.endBatch();
    } catch (e) {
      if (e instanceof PowerLost || ram !== this.ram) return;
      this.counters.internalErrors++;
      ram.acks.endBatch();
      this.lastError = e;
      this.event({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      ram.looping = false;
      this.kick();
      return;
    }
    ram.looping = false;
    this.checkSettled();
  }

  private async onFrame(ram: Ram, f: Frame): Promise<void> {
    if (ram.baudFallback) {
      ram.baudFallback.cancel();
      ram.baudFallback = undefined;
      this.event({ type: 'baud', baud: ram.baud, phase: 'confirmed' });
    }
    await dispatchFrame(this, f);
  }

  sendHello(): void {
    const o = this.opts;
    this.send(buildHelloAck({
      apps: this.apps, maxFrame: o.maxFrame, window: o.window, maxBaud: o.maxBaud, chipId: o.chipId, chipRev: o.chipRev,
      rollback: o.rollback, antiRollback: o.antiRollback, iramUart: o.iramUart, multiChunk: o.multiChunk, efuseSecureVersion: this.efuseSecureVersion,
      session: this.ram.session, record: this.ram.records?.read(), installed: this.ram.installed,
    }));
  }

  /** SPEC §4.3: no valid frame within 1 s of switching -> back to the old rate. */
  armBaudFallback(old: number): void {
    const ram = this.ram;
    ram.baudFallback = this.clock.setTimer(BAUD_CONFIRM_MS, () => {
      if (ram !== this.ram || !ram.baudFallback) return;
      ram.baudFallback = undefined;
      this.counters.baudFallbacks++;
      this.applyBaud(old);
      this.event({ type: 'baud', baud: old, phase: 'fallback' });
    });
  }

  private checkSettled(): void {
    const ram = this.ram;
    if (ram.looping || ram.booting || ram.uart.pending > 0 || this.settleWaiters.length === 0) return;
    const waiters = this.settleWaiters;
    this.settleWaiters = [];
    for (const w of waiters) w();
  }
}
