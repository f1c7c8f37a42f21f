/**
 * The process rows of the matrix (real time): the device in its own process on a socat pty, its
 * flash in a file, `ota-uart push` in another process, and the faults done to real processes:
 * kill -9 of the device (a power cut; restarted on the same flash file) or of the host (run again),
 * a cut cable or a USB re-enumeration (relay.ts). For --target c every row runs this way against
 * build/ota-uart-rx, with its own --ber/--drop/--garbage/--reset-at fault options.
 * The flash file is checked (flash-check.ts) after every kill and at the end of every trial.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock.js';
import { OtaError } from '../../src/errors.js';
import { MemoryReporter } from '../../src/reporter.js';
import { push } from '../../src/session/index.js';
import { seededRng } from '../../src/transport/rng.js';
import { openSerialTransport } from '../../src/transport/serial.js';
import { checkFlash, snapshot } from './flash-check.js';
import { DEVICE_KEY_PATH, ROOT, type ImageSet, type TestImage } from './images.js';
import { C_RX, CLI, haveSocat, ptyPair, PushProc, sleep, startDevice, type Proc, type Target } from './procs.js';
import { Relay } from './relay.js';
import type { Row } from './sim-rows.js';
import { wrongAnswer, type TrialResult } from './trial.js';

const PUSH_BAUD = 921600;
const INITIAL_BAUD = 115200;
const TRANSIENT = new Set(['TIMEOUT', 'LINK_LOST', 'NO_DEVICE', 'KILLED']);

export interface ProcContext {
  target: Target;
  images: ImageSet;
  bases: { factory: Buffer; updated: Buffer };
  dir: string;
  paths: Map<TestImage, string>;
  /** Wall time of a clean push (for random kill times). */
  cleanMs: number;
  dispose(): Promise<void>;
}

/** socat, the built CLI and (for --target c) the C receiver, built if missing. False: cannot run. */
export function checkProcTools(target: Target, log: (s: string) => void): boolean {
  if (!haveSocat()) {
    log(`faults: socat is not installed: ${target === 'c' ? 'the C receiver rows need it' : 'skipping the process rows (kill -9)'}; apt-get install socat`);
    return false;
  }
  if (!existsSync(CLI)) {
    log(`faults: ${CLI} is missing: run \`npm run build\` first (npm run faults does)`);
    return false;
  }
  if (target === 'c' && !existsSync(C_RX)) {
    log('faults: build/ota-uart-rx is missing; building it with scripts/build-c.sh --no-tests');
    const b = spawnSync('bash', [join(ROOT, 'scripts', 'build-c.sh'), '--no-tests'], { cwd: ROOT, encoding: 'utf8' });
    if (b.status !== 0 || !existsSync(C_RX)) {
      log(`faults: cannot build the C receiver: ${(b.stderr || b.stdout).trim().split('\n').at(-1)}`);
      return false;
    }
  }
  return true;
}

/** Writes the images to files and measures a clean push over the ptys (for random kill times). */
export async function prepareProc(target: Target, images: ImageSet, bases: ProcContext['bases']): Promise<ProcContext> {
  const dir = mkdtempSync(join(tmpdir(), 'ota-faults-'));
  const paths = new Map<TestImage, string>();
  for (const img of [images.update, images.older, ...images.bad]) {
    const p = join(dir, `${img.name.replace(/[^a-z0-9.]+/gi, '-')}.enc`);
    writeFileSync(p, img.enc);
    paths.set(img, p);
  }
  const ctx: ProcContext = { target, images, bases, dir, paths, cleanMs: 0, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  const r = await procTrial(ctx, { image: images.update, base: bases.factory });
  if (!r.completed) {
    await ctx.dispose();
    throw new Error(`a clean push to the ${target === 'c' ? 'C receiver' : 'simulator process'} failed: ${r.code}; ${r.notes.join('; ')}`);
  }
  ctx.cleanMs = r.ms;
  return ctx;
}

interface ProcTrialOptions {
  image: TestImage;
  base: Buffer;
  deviceArgs?: string[];
  /** kill -9 the device (a power cut, then restart on the same flash) or the host (then push again). */
  kill?: { who: 'device' | 'host'; atAcked?: number; atMs?: number; restartAfterMs?: number };
  cut?: { atMs: number; ms: number; how: 'cable' | 'unplug' };
  /** A stray copy of the push's BEGIN reaches the device this long after the first (via the relay). */
  duplicateBeginAfterMs?: number;
  maxRuns?: number;
}

interface PushOutcome {
  ok: boolean;
  code: string;
  retries: number;
}

/** A push in progress: `ota-uart push` in its own process (killable), or push() in this one. */
interface PushRun {
  readonly running: boolean;
  readonly acked: number;
  /** Highest offset a BEGIN resumed from (0: none). */
  readonly resumeOffset: number;
  readonly done: Promise<PushOutcome>;
}

class CliPush implements PushRun {
  readonly proc: PushProc;
  readonly done: Promise<PushOutcome>;
  killed = false;

  constructor(image: string, port: string) {
    this.proc = new PushProc(image, port, PUSH_BAUD);
    this.done = this.proc.exited.then(() => this.outcome());
  }

  get running(): boolean {
    return this.proc.running;
  }

  get acked(): number {
    return this.proc.acked;
  }

  get resumeOffset(): number {
    let r = 0;
    for (const e of this.proc.events) if (e.type === 'resume') r = Math.max(r, Number(e.offset));
    return r;
  }

  async kill(): Promise<void> {
    this.killed = true;
    await this.proc.kill('SIGKILL');
  }

  private outcome(): PushOutcome {
    if (this.killed) return { ok: false, code: 'KILLED', retries: 0 };
    const ev = this.proc.events;
    const result = ev.filter((e) => e.type === 'result').at(-1);
    const err = ev.find((e) => e.error !== undefined)?.error as { code?: string } | undefined;
    if (result?.ok === true) return { ok: true, code: 'OK', retries: Number(result.retries ?? 0) };
    return { ok: false, code: String(result?.code ?? err?.code ?? `EXIT ${this.proc.child.exitCode}`), retries: Number(result?.retries ?? 0) };
  }
}

class LibPush implements PushRun {
  readonly reporter = new MemoryReporter();
  readonly done: Promise<PushOutcome>;
  running = true;

  constructor(image: TestImage, port: string) {
    const p = push({
      image: image.enc, imageName: image.name, open: () => openSerialTransport(port, { baud: INITIAL_BAUD }), portLabel: port,
      baud: PUSH_BAUD, reporter: this.reporter, clock: systemClock,
    });
    this.done = p.then(
      (r): PushOutcome => ({ ok: true, code: 'OK', retries: r.retries }),
      (e: unknown): PushOutcome => (e instanceof OtaError
        ? { ok: false, code: e.code, retries: Number(e.details.retries ?? 0) }
        : { ok: false, code: `THROWN ${(e as Error)?.message}`, retries: 0 }),
    ).finally(() => { this.running = false; });
  }

  get acked(): number {
    return this.reporter.ofType('progress').reduce((a, e) => Math.max(a, e.acked), 0);
  }

  get resumeOffset(): number {
    return this.reporter.ofType('resume').reduce((a, e) => Math.max(a, e.offset), 0);
  }
}

async function procTrial(ctx: ProcContext, o: ProcTrialOptions): Promise<TrialResult> {
  const dir = mkdtempSync(join(ctx.dir, 'trial-'));
  const flash = join(dir, 'flash.bin');
  writeFileSync(flash, o.base);
  const before = snapshot(readFileSync(flash));
  const plain = o.image.plain;
  const notes: string[] = [];
  let unverifiedBoot = 0;
  let slotChanges = 0;
  const midCheck = (when: string): void => {
    const f = checkFlash(readFileSync(flash), before, plain);
    if (f.unverifiedBoot) unverifiedBoot++;
    if (f.slotChanged) slotChanges++;
    for (const p of f.problems) notes.push(`${when}: ${p}`);
  };
  const relay = o.cut || o.duplicateBeginAfterMs !== undefined ? await Relay.start(dir) : undefined;
  if (o.duplicateBeginAfterMs !== undefined) relay!.echoBegin(o.duplicateBeginAfterMs);
  const pty = relay ? undefined : await ptyPair(dir, 'dev', 'host');
  const devPort = relay?.dev ?? pty!.a;
  const hostPort = relay?.host ?? pty!.b;
  const image = ctx.paths.get(o.image)!;
  let device: Proc | undefined;
  let code = 'OK';
  let retries = 0;
  let resumeOffset = 0;
  let reportedOk = false;
  let runs = 0;
  const codes: string[] = [];
  let t0 = Date.now();
  let tEnd = 0;
  // Only a host that is to be killed runs as a process; otherwise push() runs here (no start-up cost).
  const start = (): PushRun => (o.kill?.who === 'host' ? new CliPush(image, hostPort) : new LibPush(o.image, hostPort));
  try {
    device = await startDevice(ctx.target, devPort, DEVICE_KEY_PATH, flash, o.deviceArgs);
    t0 = Date.now();
    let p = start();
    runs = 1;
    const faults: Promise<void>[] = [];
    if (o.cut) {
      const cut = o.cut;
      faults.push(sleep(cut.atMs).then(() => (p.running ? relay!.cut(cut.ms, cut.how) : undefined)));
    }
    if (o.kill) {
      const k = o.kill;
      const due = (): boolean => (k.atAcked !== undefined ? p.acked >= k.atAcked : Date.now() - t0 >= (k.atMs ?? 0));
      while (p.running && !due()) await sleep(5);
      if (!p.running) notes.push(`the push ended before the kill point (${k.atAcked !== undefined ? `offset ${k.atAcked}` : `${k.atMs} ms`})`);
      else if (k.who === 'device') {
        await device.kill('SIGKILL');
        notes.push(`device killed at ${p.acked} acked, ${Date.now() - t0} ms`);
        midCheck('after kill -9 of the device');
        await sleep(k.restartAfterMs ?? 0);
        device = await startDevice(ctx.target, devPort, DEVICE_KEY_PATH, flash, o.deviceArgs);
      } else {
        await (p as CliPush).kill();
        notes.push(`host killed at ${p.acked} acked, ${Date.now() - t0} ms`);
        midCheck('after kill -9 of the host');
      }
    }
    for (;;) {
      const out = await p.done;
      await Promise.all(faults);
      resumeOffset = Math.max(resumeOffset, p.resumeOffset);
      code = out.code;
      codes.push(code);
      retries += out.retries;
      if (out.ok) {
        reportedOk = true;
        break;
      }
      notes.push(`push ${runs}: ${code}`);
      if (!TRANSIENT.has(code) || runs >= (o.maxRuns ?? 3)) break;
      if (checkFlash(readFileSync(flash), before, plain).newBoots) break;
      p = start();
      runs++;
    }
    tEnd = Date.now();
    if (relay?.echoedAt !== undefined) notes.push(`duplicate BEGIN at ${relay.echoedAt - t0} ms (push ended at ${tEnd - t0} ms)`);
  } catch (e) {
    code = 'HARNESS';
    notes.push(`harness: ${(e as Error).message}`);
  } finally {
    await device?.kill('SIGTERM');
    if (device && /refused a write|internal error/.test(device.out)) notes.push(`device said: ${device.out.match(/.*(refused a write|internal error).*/)![0]}`);
    await relay?.stop();
    await pty?.kill('SIGTERM');
  }
  const ms = (tEnd || Date.now()) - t0;
  const f = checkFlash(readFileSync(flash), before, plain, reportedOk ? true : plain ? undefined : false);
  notes.push(...f.problems);
  if (f.unverifiedBoot || f.slotChanged || unverifiedBoot || slotChanges) {
    const keep = join(tmpdir(), `ota-faults-evidence-${process.pid}-${Date.now()}.bin`);
    copyFileSync(flash, keep);
    notes.push(`flash kept in ${keep}`);
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    completed: f.newBoots,
    refusedOk: o.image.code !== undefined && code === o.image.code,
    code,
    wrongCode: o.image.code === undefined ? wrongAnswer(codes, f.newBoots) : undefined,
    unverifiedBoot: unverifiedBoot + (f.unverifiedBoot ? 1 : 0),
    slotChanges: slotChanges + (f.slotChanged ? 1 : 0),
    falseSuccess: f.falseSuccess ? 1 : 0,
    retries,
    ms,
    runs,
    resumeOffset,
    notes,
  };
}

/** The rows; `context` prepares (once) what they share, when the first of them runs. */
export function procRows(target: Target, images: ImageSet, bases: ProcContext['bases'], context: () => Promise<ProcContext>): Row[] {
  const total = images.update.enc.length;
  const row = (name: string, kind: Row['kind'], make: (rng: () => number, T: number) => Partial<ProcTrialOptions>, expected?: string): Row => ({
    name, kind, clock: 'real', expected,
    run: async (seed) => {
      const ctx = await context();
      const rng = seededRng(seed);
      const base = rng() < 0.5 ? bases.factory : bases.updated;
      const o = make(rng, ctx.cleanMs);
      return procTrial(ctx, { image: images.update, base, ...o, deviceArgs: [...(o.deviceArgs ?? []), '--seed', String(seed % 1e9)] });
    },
  });
  const killAt = (rng: () => number, T: number): { atAcked?: number; atMs?: number } =>
    // Mostly at a random offset of the data; sometimes at a random time, which also hits the
    // handshake, BEGIN (erase), END (verification, the otadata write) and just after.
    (rng() < 0.7 ? { atAcked: 512 + Math.floor(rng() * (total - 512)) } : { atMs: Math.floor(rng() * T * 1.2) });
  const rows: Row[] = [
    row('proc: clean', 'fault', () => ({})),
    row('proc: device kill -9', 'fault', (rng, T) => ({ kill: { who: 'device', ...killAt(rng, T), restartAfterMs: Math.floor(rng() * 1000) } })),
    // (by offset only: a time would mostly fall into the host's start-up)
    row('proc: host kill -9', 'fault', (rng) => ({ kill: { who: 'host', atAcked: 512 + Math.floor((0.05 + 0.9 * rng()) * (total - 512)) } })),
  ];
  if (target === 'c') {
    rows.push(
      row('proc: ber 1e-6', 'fault', () => ({ deviceArgs: ['--ber', '1e-6'] })),
      row('proc: ber 1e-5', 'fault', () => ({ deviceArgs: ['--ber', '1e-5'] })),
      // (about a minute a trial: one under --quick)
      { ...row('proc: ber 1e-4', 'fault', () => ({ deviceArgs: ['--ber', '1e-4'] })), quickTrials: 1 },
      row('proc: drop 1% bytes', 'stress', () => ({ deviceArgs: ['--drop', '0.01'], maxRuns: 1 })),
      row('proc: garbage bursts', 'fault', (rng) => ({ deviceArgs: ['--garbage', String(2048 + Math.floor(rng() * 8192))] })),
      row('proc: link cut', 'fault', (rng, T) => ({ cut: { atMs: Math.floor(rng() * T), ms: 200 + Math.floor(rng() * 2500), how: rng() < 0.5 ? 'cable' : 'unplug' } })),
      row('proc: duplicate BEGIN', 'fault', (rng, T) => ({ duplicateBeginAfterMs: Math.floor(rng() * T) })),
      row('proc: device reset at offset', 'fault', (rng) => ({ deviceArgs: ['--reset-at', String(513 + Math.floor(rng() * (total - 513)))] })),
    );
  }
  // The simulator's bad-image rows run in process; the C receiver's here.
  if (target === 'c') {
    for (const img of images.bad) rows.push(row(`proc: bad: ${img.name}`, 'bad', () => ({ image: img, maxRuns: 1 }), img.code));
  }
  return rows;
}

