/**
 * One in-process trial against the simulated ESP32: a SimDevice on a copy of a base flash, driven
 * by a FakeClock (simulated time: erase and program times of a real ESP32 flash, a paced UART at
 * the line rate), the host's push() over the in-memory link with the row's faults, power cuts at
 * chosen times or flash operations, and the invariants checked on the flash bytes by
 * flash-check.ts / flash-monitor.ts, never by asking the device.
 *
 * A push that fails with a transient error (timeout, lost link, no device) is run again, as a user
 * would, up to `maxRuns` times. Every new "port open" starts at the initial rate (115200), as a
 * real serial port does, whatever rate the device is at.
 */
import { FakeClock } from '../../src/clock.js';
import { connectSim, Flash, SimDevice, type SimDeviceOptions, type SimLinkWireOptions } from '../../src/device-sim/index.js';
import { OtaError } from '../../src/errors.js';
import { encodeMessage } from '../../src/protocol/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { deviceInfo, push } from '../../src/session/index.js';
import { checkFlash, snapshot } from './flash-check.js';
import { FlashMonitor, type Tear } from './flash-monitor.js';
import type { TestImage } from './images.js';
import { wrongAnswer, type TrialResult } from './trial.js';

export const INITIAL_BAUD = 115200;
export const PUSH_BAUD = 921600;
/** Give up on a push that has not finished after this much simulated time. */
const HANG_MS = 15 * 60_000;
const STEP_MS = 10;
const TRANSIENT = new Set(['TIMEOUT', 'LINK_LOST', 'NO_DEVICE']);

export interface SimTrialOptions {
  image: TestImage;
  /** Flash contents to start from (copied). */
  base: Buffer;
  key: SimDeviceOptions['key'];
  device?: Partial<Omit<SimDeviceOptions, 'flash' | 'key' | 'clock'>>;
  /** Wire options of the n-th port open (0 = the first push's). */
  link?: (openIndex: number) => SimLinkWireOptions | undefined;
  /** Power cuts at these simulated times (ms after the first push starts). */
  cutsAtMs?: number[];
  /** Power cut at a flash operation (counted from the first push). */
  tear?: Tear;
  /** A stray copy of the push's BEGIN arrives at the device at this time (ms after the start). */
  duplicateBeginAtMs?: number;
  /** Chunk size the pushes use (default: the host's). */
  chunk?: number;
  maxRuns?: number;
}

export async function simTrial(o: SimTrialOptions): Promise<TrialResult> {
  const clock = new FakeClock();
  const flash = new Flash({ data: Buffer.from(o.base) });
  const notes: string[] = [];
  let device: SimDevice | undefined;
  const monitor = new FlashMonitor(flash, snapshot(flash.view(0, flash.size)), o.image.plain, () => device!.powerCycle());
  device = new SimDevice({ flashTiming: 'esp32', ...o.device, flash, key: o.key, clock });
  const dev = device;
  dev.onEvent((e) => {
    if (e.type === 'reset') notes.push(`reset (${e.reason}${e.offset !== undefined ? ` at ${e.offset}` : ''})`);
    if (e.type === 'boot' && e.running !== monitor.baseline.boot) {
      // It now runs another slot (only the complete, verified update can get there: flash-monitor
      // checks every otadata write). The old slot is no longer protected.
      notes.push(`boots ${e.running} ${e.version}`);
      monitor.rebase(snapshot(flash.view(0, flash.size)));
    }
  });
  while (dev.booting) await clock.advance(STEP_MS);

  let opens = 0;
  const open = async () => {
    const c = connectSim(dev, { clock, link: o.link?.(opens++) });
    await c.host.setBaud(INITIAL_BAUD);
    return c.host;
  };
  const t0 = clock.now();
  for (const at of o.cutsAtMs ?? []) clock.setTimer(at, () => dev.powerCycle());
  if (o.duplicateBeginAtMs !== undefined) {
    const header = o.image.enc.subarray(0, 512);
    const begin = encodeMessage({ type: 'BEGIN', flags: 0, chunk: o.chunk ?? 1024, total: o.image.enc.length, header });
    clock.setTimer(o.duplicateBeginAtMs, () => dev.feed(begin));
  }
  if (o.tear) monitor.arm(o.tear);

  let code = 'OK';
  let retries = 0;
  let resumeOffset = 0;
  let runs = 0;
  let reportedOk = false;
  const codes: string[] = [];
  for (; runs < (o.maxRuns ?? 3); ) {
    runs++;
    const reporter = new MemoryReporter();
    const p = push({ image: o.image.enc, imageName: o.image.name, open, clock, baud: PUSH_BAUD, reporter, chunk: o.chunk });
    const out = await driveUntil(clock, p, HANG_MS);
    for (const e of reporter.ofType('resume')) resumeOffset = Math.max(resumeOffset, e.offset);
    if (out.hung) {
      code = 'HUNG';
      notes.push(`push ${runs} still running after ${HANG_MS / 1000} s of simulated time`);
      break;
    }
    if (out.ok) {
      code = 'OK';
      reportedOk = true;
      retries += out.value.retries;
      if (out.value.resyncs > 0) notes.push(`push ${runs} picked the session up again ${out.value.resyncs} time(s)`);
      break;
    }
    const e = out.error;
    code = e instanceof OtaError ? e.code : `THROWN ${(e as Error)?.message ?? String(e)}`;
    codes.push(code);
    retries += e instanceof OtaError ? Number(e.details.retries ?? 0) : 0;
    notes.push(`push ${runs}: ${code}${e instanceof OtaError ? `: ${e.message}` : ''}`);
    if (!TRANSIENT.has(code)) break;
    if (checkFlash(flash.view(0, flash.size), monitor.baseline, o.image.plain).newBoots) break; // installed after all
  }
  const ms = clock.now() - t0;
  if (reportedOk) {
    // What an operator does next: `ota-uart info` (which only knows the initial rate) must find
    // the device (what boots is read from the flash below, not from its answer).
    const info = await driveUntil(clock, deviceInfo({ open, clock, connectTimeoutMs: 5000 }), 60_000);
    if (info.hung || !info.ok) codes.push(`INFO ${info.hung ? 'HUNG' : (info.error as OtaError)?.code}`);
  }
  monitor.disarm();
  if (monitor.tornAt) notes.push(`power cut ${monitor.tornAt.mode} ${monitor.tornAt.op}`);
  else if (o.tear) notes.push(`no power cut: flash operation ${o.tear.at} of its kind never came`);
  // Let the device finish what it was doing (a final flash write) before reading the flash.
  await clock.advance(2000);
  const f = checkFlash(flash.view(0, flash.size), monitor.baseline, o.image.plain, reportedOk ? true : o.image.plain ? undefined : false);
  notes.push(...f.problems, ...monitor.violations);
  if (dev.lastError) notes.push(`simulator internal error: ${(dev.lastError as Error).message}`);
  return {
    completed: f.newBoots,
    refusedOk: o.image.code !== undefined && code === o.image.code,
    code,
    wrongCode: o.image.code === undefined ? wrongAnswer(codes, f.newBoots) : undefined,
    unverifiedBoot: (f.unverifiedBoot ? 1 : 0) + monitor.unverifiedBoot,
    slotChanges: (f.slotChanged ? 1 : 0) + monitor.slotChanges,
    falseSuccess: f.falseSuccess ? 1 : 0,
    retries,
    ms,
    runs,
    resumeOffset,
    flashOps: monitor.allOps,
    notes,
  };
}

type Outcome<T> = { hung: true } | { hung: false; ok: true; value: T } | { hung: false; ok: false; error: unknown };

async function driveUntil<T>(clock: FakeClock, p: Promise<T>, maxMs: number): Promise<Outcome<T>> {
  let out: Outcome<T> | undefined;
  p.then((value) => { out = { hung: false, ok: true, value }; }, (error: unknown) => { out = { hung: false, ok: false, error }; });
  const end = clock.now() + maxMs;
  while (!out && clock.now() < end) await clock.advance(STEP_MS);
  return out ?? { hung: true };
}
