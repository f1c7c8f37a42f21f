/**
 * The engine's own speed, with nothing paced: how fast host and simulated device move an image
 * when the wire is infinitely fast, so that the protocol code is never the bottleneck of a real
 * link (target: >= 10 MB/s over a pty, i.e. a 100 Mbaud line).
 *
 * - memory: host and device in this process over the in-memory link with pacing off; CPU is the
 *   two together.
 * - pty: `ota-uart simulate --no-pace` in one process and the host library in another
 *   (engine-host.ts), across a plain socat pty pair; CPU per process from the kernel, and how busy
 *   the whole machine was (on a small machine host + simulator + socat + the kernel's pty work
 *   can fill every core).
 * - pty-pool: the same with serialport's reads and writes in libuv's thread pool (its default,
 *   OTA_UART_POOL_IO=1) instead of on the loop thread: the side-by-side for src/transport/loop-io.ts.
 * - pty-wide: the pty run with a device whose window is the most the protocol can use (64 chunks
 *   of 4 KiB: `simulate --window 262144`, `--chunk 4096`). With the default 32 KiB window only
 *   32 KiB are ever in flight, and a pty round trip on a small, busy machine (host, simulator,
 *   socat and the kernel's tty work sharing two cores) takes about 4 ms: the window, not the
 *   engine, is then the limit. This row shows what the engine itself can move.
 * Each does one untimed warm-up push (JIT compilation in a fresh process would otherwise be part of
 * the first push), then `count` timed back-to-back pushes, and checks every one boots the image.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock.js';
import { connectSim, createFlashImage, DEFAULT_WINDOW, readDeviceState, SimDevice } from '../../src/device-sim/index.js';
import { loadDecryptionKey } from '../../src/image/index.js';
import { MAX_CREDIT_CHUNKS, MAX_FRAME_ABS } from '../../src/protocol/index.js';
import { MULTI_CHUNK_DEFAULT } from '../../src/session/push.js';
import { push } from '../../src/session/index.js';

/** push's own chunk for the simulator (it takes several chunks per frame). */
const PUSH_CHUNK = MULTI_CHUNK_DEFAULT;
import { ROOT, SIM_KEY, type BenchImage } from './image.js';
import { CLI } from './ota.js';
import { procCpuSeconds, sleep, startChild, waitExit, waitForFile } from './proc.js';
import type { EngineResult } from './report.js';

export interface EngineOptions {
  workDir: string;
  image: BenchImage;
  log: (s: string) => void;
  count?: number;
}

const MB = 1e6;
/** The most credit a device can give (SPEC §4.5: 64 chunks) of the largest chunk (max_frame 4112 - 10, in 16s). */
const WIDE_CHUNK = MAX_FRAME_ABS - 16;
const WIDE_WINDOW = MAX_CREDIT_CHUNKS * WIDE_CHUNK;

export async function measureEngine(o: EngineOptions): Promise<EngineResult[]> {
  const out: EngineResult[] = [];
  const runs: (() => Promise<EngineResult>)[] = [() => memoryEngine(o), () => ptyEngine(o, 'pty'), () => ptyEngine(o, 'pty-pool'), () => ptyEngine(o, 'pty-wide')];
  for (const run of runs) {
    const r = await run();
    o.log(`  ${describeEngine(r)}${r.ok ? '' : '  FAILED'}`);
    out.push(r);
  }
  return out;
}

async function memoryEngine(o: EngineOptions): Promise<EngineResult> {
  const count = o.count ?? 8;
  const image = readFileSync(o.image.path);
  const flash = createFlashImage();
  const device = new SimDevice({ flash, key: loadDecryptionKey(readFileSync(SIM_KEY)), clock: systemClock, flashTiming: 'instant' });
  let ok = true;
  const once = async (): Promise<void> => {
    const c = connectSim(device, { clock: systemClock, link: { pace: false } });
    const r = await push({ image, open: async () => c.host, clock: systemClock, allowDowngrade: true, fresh: true });
    await c.close();
    ok &&= r.after.boot.version === o.image.version;
  };
  await once(); // warm-up, untimed
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await once();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const state = readDeviceState(flash, { chipRev: 300, rollback: false });
  const boot = state.parts[state.bootSlot];
  ok &&= !!boot && flash.read(boot.offset, o.image.app.length).equals(o.image.app);
  const bytes = image.length * count;
  const cpuPerMb = (cpu.user + cpu.system) / 1e6 / (bytes / MB);
  // One process: the split between host and device is not measurable here; both columns carry the sum.
  return {
    link: 'memory', window: DEFAULT_WINDOW, chunk: PUSH_CHUNK, bytes, seconds: round(seconds), mbps: round(bytes / seconds / MB),
    host_cpu_s_per_mb: round(cpuPerMb), sim_cpu_s_per_mb: round(cpuPerMb), ok,
  };
}

/**
 * `pty-pool`: both processes with OTA_UART_POOL_IO=1, i.e. serialport's own reads and writes through
 * libuv's thread pool instead of on the loop thread (src/transport/loop-io.ts), measured beside the
 * default to show what that costs. `pty-wide`: the widest window the protocol allows.
 */
async function ptyEngine(o: EngineOptions, link: 'pty' | 'pty-pool' | 'pty-wide'): Promise<EngineResult> {
  const count = o.count ?? 8;
  const poolIo = link === 'pty-pool';
  const [window, chunk] = link === 'pty-wide' ? [WIDE_WINDOW, WIDE_CHUNK] : [DEFAULT_WINDOW, PUSH_CHUNK];
  const dev = join(o.workDir, `engine-dev-${link}`);
  const host = join(o.workDir, `engine-host-${link}`);
  const env = { ...process.env, OTA_UART_POOL_IO: poolIo ? '1' : '0' };
  const socat = startChild('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${host}`]);
  const sim = startChild(process.execPath, [CLI, 'simulate', '--port', dev, '--baud', '3000000', '--max-baud', '3000000', '--no-pace', '--flash-timing', 'instant', '--no-boot-log', '--window', String(window)], { env });
  try {
    await waitForFile(dev, 5000);
    await waitForFile(host, 5000);
    for (let i = 0; i < 1500 && !/simulate: boot \(/.test(sim.stderr()); i++) await sleep(10);
    const simCpu0 = procCpuSeconds(sim.proc.pid!) ?? Number.NaN;
    const socatCpu0 = procCpuSeconds(socat.proc.pid!) ?? Number.NaN;
    const h = startChild(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench/engine-host.ts'), '--port', host, '--image', o.image.path, '--count', String(count), '--chunk', String(chunk)], { cwd: ROOT, env });
    const done = await waitExit(h, 120_000);
    const simCpu = (procCpuSeconds(sim.proc.pid!) ?? Number.NaN) - simCpu0;
    const socatCpu = (procCpuSeconds(socat.proc.pid!) ?? Number.NaN) - socatCpu0;
    let r: { bytes: number; seconds: number; cpuSeconds: number; machineBusy?: number; versions: string[] } | undefined;
    try {
      r = JSON.parse(h.stdout().trim().split('\n').pop() ?? '') as typeof r;
    } catch {
      r = undefined;
    }
    if (!r || done.code !== 0) {
      o.log(`  pty engine run failed (exit ${done.code}): ${h.stderr().trim().split('\n').slice(-3).join(' | ')}`);
      return { link, window, chunk, bytes: 0, seconds: 0, mbps: 0, host_cpu_s_per_mb: 0, sim_cpu_s_per_mb: 0, ok: false };
    }
    const mb = r.bytes / MB;
    const ok = r.versions.length === count && r.versions.every((v) => v.startsWith(`${o.image.version}@`));
    return {
      link, window, chunk, bytes: r.bytes, seconds: round(r.seconds), mbps: round(mb / r.seconds), host_cpu_s_per_mb: round(r.cpuSeconds / mb), sim_cpu_s_per_mb: round(simCpu / mb),
      ...(Number.isFinite(socatCpu) && { socat_cpu_s_per_mb: round(socatCpu / mb) }),
      ...(r.machineBusy !== undefined && { machine_busy: round(r.machineBusy) }),
      ok,
    };
  } finally {
    await sim.stop();
    await socat.stop();
  }
}

/** One line: speed, CPU per MB of each process, and how busy the machine was (pty). */
export function describeEngine(e: EngineResult): string {
  const socat = e.socat_cpu_s_per_mb !== undefined ? `, socat ${e.socat_cpu_s_per_mb.toFixed(3)}` : '';
  const one = e.link === 'memory' ? ' (one process: host + simulator together)' : '';
  const wide = e.window !== DEFAULT_WINDOW || e.chunk !== PUSH_CHUNK ? ` [device window ${e.window / 1024} KiB, ${e.chunk / 1024} KiB frames]` : '';
  const busy = e.machine_busy !== undefined ? `; machine ${Math.round(e.machine_busy * 100)}% busy (all ${cpus().length} cores)` : '';
  return `${e.link.padEnd(8)} ${e.mbps.toFixed(1)} MB/s; CPU s per MB: host ${e.host_cpu_s_per_mb.toFixed(3)}, simulator ${e.sim_cpu_s_per_mb.toFixed(3)}${socat}${one}${busy}${wide}`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
