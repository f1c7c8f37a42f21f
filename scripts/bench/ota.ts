/**
 * `ota-uart push` to `ota-uart simulate` across the link emulator: the simulated ESP32 on side B
 * (flash kept in a file), the push on side A, both as separate processes running the built CLI
 * (dist/), exactly as a user would run them. Both ends start at the bench rate, so no baud switch
 * happens. Delivery is checked on the device itself: after the run the flash file must show the
 * image's app in the slot that now boots, byte for byte, and push must report that version.
 */
import { join } from 'node:path';
import { openFlashFile, readDeviceState } from '../../src/device-sim/index.js';
import { DEFAULT_CHUNK, DURABLE_INTERVAL } from '../../src/protocol/index.js';
import { ROOT, type BenchImage } from './image.js';
import { faultCounts, linkSeconds, type RunResult } from './measure.js';
import { sleep, startChild, waitExit, type Child } from './proc.js';
import type { PtyLink } from './pty-link.js';

export type OtaTool = 'ota-uart' | 'ota-uart-w1' | 'ota-uart-flash';

export const CLI = join(ROOT, 'dist/cli/main.js');

/** The record interval of the ESP-IDF component: the C receiver's default, SPEC §7's maximum. */
export const FIRMWARE_RECORD_INTERVAL = DURABLE_INTERVAL;

export interface OtaOptions {
  link: PtyLink;
  image: BenchImage;
  workDir: string;
  timeoutMs: number;
  latencyMs: number;
  /** DATA chunk size (push's default when undefined). */
  chunk?: number;
  /** Most chunks per DATA frame (push's default when undefined). */
  frameChunks?: number;
}


export async function runOta(tool: OtaTool, o: OtaOptions): Promise<RunResult> {
  const { link, image } = o;
  const flashPath = join(o.workDir, `flash-${tool}-${link.baud}-${Date.now()}.bin`);
  const sim = startChild(process.execPath, [
    CLI, 'simulate', '--port', link.pathB, '--baud', String(link.baud), '--max-baud', String(link.baud),
    '--flash', flashPath, '--flash-timing', tool === 'ota-uart-flash' ? 'esp32' : 'instant', '--no-boot-log',
    // Realistic rows keep the resume record as the ESP-IDF component does: every 64 KiB.
    ...(tool === 'ota-uart-flash' ? ['--record-every', String(FIRMWARE_RECORD_INTERVAL)] : []),
    // The link emulator paces, delays and corrupts; the simulator must not pace a second time.
    '--no-pace',
  ]);
  try {
    if (!(await waitFor(sim, /simulate: boot \(/, 15_000))) {
      return fail(`the simulator did not boot: ${sim.stderr().trim().split('\n').pop() ?? ''}`);
    }
    link.resetTimes();
    const args = [CLI, 'push', image.path, '--port', link.pathA, '--baud', String(link.baud), '--initial-baud', String(link.baud), '--allow-downgrade', '--json'];
    if (o.chunk !== undefined) args.push('--chunk', String(o.chunk));
    if (o.frameChunks !== undefined) args.push('--frame-chunks', String(o.frameChunks));
    // Stop-and-wait: one 1 KiB chunk (or the row's chunk) in flight, as in every earlier run.
    if (tool === 'ota-uart-w1') args.push('--window', String(o.chunk ?? DEFAULT_CHUNK), ...(o.chunk === undefined ? ['--chunk', String(DEFAULT_CHUNK)] : []));
    const push = startChild(process.execPath, args);
    const p = await waitExit(push, o.timeoutMs);
    await sleep(o.latencyMs + 30);
    const seconds = linkSeconds(link);
    const faults = faultCounts(link);
    const idleMs = link.stats().aToB.idleMs;
    const result = lastResult(push.stdout());
    await sim.stop(3000); // SIGTERM: simulate closes its flash file
    const notes: string[] = [];
    if (p.timedOut) notes.push(`push killed after ${o.timeoutMs / 1000} s`);
    if (!result) notes.push(`push exit ${p.code} without a result: ${push.stderr().trim().split('\n').pop() ?? ''}`);
    else if (!result['ok']) notes.push(`push failed: ${JSON.stringify(result['error'] ?? result['code'])}`);
    const check = checkFlash(flashPath, image, result);
    if (check) notes.push(check);
    const extra: Record<string, number | string> = {};
    if (result) {
      for (const k of ['retries', 'timeouts', 'crcErrors', 'resyncs'] as const) extra[k] = Number(result[k] ?? 0);
      extra['pushSeconds'] = Number(result['durationMs'] ?? 0) / 1000;
      extra['idleSeconds'] = Math.round(idleMs) / 1000;
    }
    const ok = !p.timedOut && p.code === 0 && !!result?.['ok'] && check === undefined;
    return { ok, seconds, ...faults, extra, ...(notes.length > 0 && { note: notes.join('; ') }) };
  } finally {
    await sim.stop(3000);
  }
}

/** Undefined when the slot that boots holds exactly the image's app; else what is wrong. */
function checkFlash(path: string, image: BenchImage, result: Record<string, unknown> | undefined): string | undefined {
  let flash;
  try {
    flash = openFlashFile(path);
  } catch (e) {
    return `cannot read the flash file: ${(e as Error).message}`;
  }
  try {
    const state = readDeviceState(flash, { chipRev: 300, rollback: false });
    const boot = state.parts[state.bootSlot];
    if (!boot) return 'nothing bootable on the flash';
    if (boot.version !== image.version) return `flash boots ${boot.version} from ${boot.label}, not ${image.version}`;
    const reported = (result?.['after'] as { boot?: { slot?: string; version?: string } } | undefined)?.boot;
    if (reported && (reported.slot !== boot.label || reported.version !== image.version)) {
      return `push reported ${reported.version} in ${reported.slot}; the flash boots ${boot.version} from ${boot.label}`;
    }
    const bytes = flash.read(boot.offset, image.app.length);
    if (!bytes.equals(image.app)) return `the app in ${boot.label} differs from the image's plaintext`;
    return undefined;
  } finally {
    flash.close();
  }
}

function lastResult(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.trim().split('\n').reverse();
  for (const l of lines) {
    try {
      const j = JSON.parse(l) as Record<string, unknown>;
      if (j['type'] === 'result') return j;
    } catch {
      // progress bars or partial lines: not ours
    }
  }
  return undefined;
}

async function waitFor(c: Child, re: RegExp, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (re.test(c.stderr())) return true;
    if (c.proc.exitCode !== null) return false;
    await sleep(10);
  }
  return false;
}

function fail(note: string): RunResult {
  return { ok: false, seconds: Number.NaN, note, flippedBits: 0, droppedBytes: 0 };
}
