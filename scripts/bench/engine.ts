/**
 * The engine's own speed, with nothing paced: how fast host and simulated device move an image
 * when the wire is infinitely fast, so that the protocol code is never the bottleneck of a real
 * link (target: >= 10 MB/s over a pty, i.e. a 100 Mbaud line).
 *
 * - memory: host and device in this process over the in-memory link with pacing off; CPU is the
 *   two together.
 * - pty: the host library in one process (engine-host.ts) on a plain pty, and
 *   `ota-uart simulate --no-pace --port unix:SOCK` in another, at the pty's far end: socat relays
 *   the pty master to the simulator's socket (`pty,raw,echo=0,link=HOST UNIX-CONNECT:SOCK`). The host
 *   meets a tty as it would a USB serial adapter; the simulator stands in for the chip behind it,
 *   which is no Linux tty either. CPU per process from the kernel, and how busy the whole machine
 *   was (on a small machine host + simulator + socat + the kernel's pty work can fill every core).
 * - pty-pool: the same with serialport's reads and writes in libuv's thread pool (its default,
 *   OTA_UART_POOL_IO=1) instead of on the loop thread: the side-by-side for src/transport/loop-io.ts.
 * - pty-wide: the pty run with a device whose window is the most the protocol can use (64 chunks
 *   of 4 KiB: `simulate --window 262144`, `--chunk 4096`). With the default 32 KiB window only
 *   32 KiB are ever in flight, and a pty round trip on a small, busy machine (host, simulator,
 *   socat and the kernel's tty work sharing two cores) takes about 4 ms: the window, not the
 *   engine, is then the limit. This row shows what the engine itself can move.
 * - pty-pair: pty-wide with the simulator on the second pty of a socat pty pair, as earlier runs
 *   measured it. A tty hands its reader at most 4 KiB per read() (n_tty's buffer), and on this kind
 *   of machine each such read costs the simulator about 0.1 ms: this row shows that extra tty's
 *   price beside pty-wide.
 * Each does WARMUP pushes first (JIT compilation in a fresh process would otherwise be part of the
 * numbers; over a pty the first of them is reported as first_push_mbps), then `count` timed back-to-back
 * pushes, and checks every one boots the image.
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
  /** Untimed pushes first, in each process (default WARMUP). */
  warmup?: number;
}

const MB = 1e6;
/**
 * Pushes before the timed ones. A fresh process's pushes keep getting faster for the first few (JIT
 * tiering in host and simulator). Measured per push over a plain pty, 1 MiB each, 24 in a row from
 * a fresh host process: 130-150 ms, then 70-90 ms, and 40-60 ms after about 15. The timed pushes
 * measure the engine warm, as a station or a library user runs it; the pty rows also report the
 * first push of the fresh host process (what a one-off `ota-uart push` gets).
 */
const WARMUP = 3;
/** The most credit a device can give (SPEC §4.5: 64 chunks) of the largest chunk (max_frame 4112 - 10, in 16s). */
const WIDE_CHUNK = MAX_FRAME_ABS - 16;
const WIDE_WINDOW = MAX_CREDIT_CHUNKS * WIDE_CHUNK;

export async function measureEngine(o: EngineOptions): Promise<EngineResult[]> {
  const out: EngineResult[] = [];
  const runs: (() => Promise<EngineResult>)[] = [
    () => memoryEngine(o), () => ptyEngine(o, 'pty'), () => ptyEngine(o, 'pty-pool'), () => ptyEngine(o, 'pty-wide'), () => ptyEngine(o, 'pty-pair'),
  ];
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
  for (let i = 0; i < (o.warmup ?? WARMUP); i++) await once(); // untimed
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
 * default to show what that costs. `pty-wide`: the widest window the protocol allows. `pty-pair`:
 * pty-wide with a second tty, the simulator's, in the path.
 */
async function ptyEngine(o: EngineOptions, link: 'pty' | 'pty-pool' | 'pty-wide' | 'pty-pair'): Promise<EngineResult> {
  const count = o.count ?? 8;
  const poolIo = link === 'pty-pool';
  const pair = link === 'pty-pair';
  const [window, chunk] = link === 'pty-wide' || pair ? [WIDE_WINDOW, WIDE_CHUNK] : [DEFAULT_WINDOW, PUSH_CHUNK];
  const dev = join(o.workDir, `engine-dev-${link}`);
  const sock = join(o.workDir, `engine-${link}.sock`);
  const host = join(o.workDir, `engine-host-${link}`);
  const env = { ...process.env, OTA_UART_POOL_IO: poolIo ? '1' : '0' };
  const simPort = pair ? dev : `unix:${sock}`;
  const startSim = (): ReturnType<typeof startChild> =>
    startChild(process.execPath, [CLI, 'simulate', '--port', simPort, '--baud', '3000000', '--max-baud', '3000000', '--no-pace', '--flash-timing', 'instant', '--no-boot-log', '--window', String(window)], { env });
  let socat: ReturnType<typeof startChild> | undefined;
  let sim: ReturnType<typeof startChild> | undefined;
  try {
    if (pair) {
      socat = startChild('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${host}`]);
      await waitForFile(dev, 5000);
      sim = startSim();
    } else {
      sim = startSim();
      await waitForFile(sock, 5000); // the simulator listens before socat connects
      socat = startChild('socat', [`pty,raw,echo=0,link=${host}`, `UNIX-CONNECT:${sock}`]);
    }
    await waitForFile(host, 5000);
    for (let i = 0; i < 1500 && !/simulate: boot \(/.test(sim.stderr()); i++) await sleep(10);
    const h = startChild(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench/engine-host.ts'), '--port', host, '--image', o.image.path, '--count', String(count), '--warmup', String(o.warmup ?? WARMUP), '--chunk', String(chunk)], { cwd: ROOT, env });
    // Simulator and socat CPU over the timed pushes only: from the host's "timed" line to its result.
    const cpuNow = (): [number, number] => [procCpuSeconds(sim!.proc.pid!) ?? Number.NaN, procCpuSeconds(socat!.proc.pid!) ?? Number.NaN];
    await waitForOutput(h, /^timed$/m, 120_000);
    const [simCpu0, socatCpu0] = cpuNow();
    await waitForOutput(h, /^\{.*\}$/m, 120_000);
    const [simCpu1, socatCpu1] = cpuNow();
    const done = await waitExit(h, 120_000);
    const simCpu = simCpu1 - simCpu0;
    const socatCpu = socatCpu1 - socatCpu0;
    let r: { bytes: number; seconds: number; cpuSeconds: number; machineBusy?: number; firstSeconds?: number; versions: string[] } | undefined;
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
      ...(r.firstSeconds !== undefined && { first_push_mbps: round(o.image.bytes / r.firstSeconds / MB) }),
      ok,
    };
  } finally {
    await socat?.stop();
    await sim?.stop();
  }
}

/** Polls the child's stdout until `re` matches it, the child exits, or `ms` pass. */
async function waitForOutput(c: ReturnType<typeof startChild>, re: RegExp, ms: number): Promise<void> {
  let exited = false;
  void c.exited.then(() => { exited = true; });
  for (const t0 = performance.now(); !re.test(c.stdout()) && !exited && performance.now() - t0 < ms;) await sleep(2);
}

/** One line: speed, CPU per MB of each process, and how busy the machine was (pty). */
export function describeEngine(e: EngineResult): string {
  const socat = e.socat_cpu_s_per_mb !== undefined ? `, socat ${e.socat_cpu_s_per_mb.toFixed(3)}` : '';
  const one = e.link === 'memory' ? ' (one process: host + simulator together)' : '';
  const wide = e.window !== DEFAULT_WINDOW || e.chunk !== PUSH_CHUNK ? ` [device window ${e.window / 1024} KiB, ${e.chunk / 1024} KiB frames${e.link === 'pty-pair' ? '; simulator on a second pty' : ''}]` : '';
  const busy = e.machine_busy !== undefined ? `; machine ${Math.round(e.machine_busy * 100)}% busy (all ${cpus().length} cores)` : '';
  const first = e.first_push_mbps !== undefined ? `; a fresh process's first push ${e.first_push_mbps.toFixed(1)} MB/s` : '';
  return `${e.link.padEnd(8)} ${e.mbps.toFixed(1)} MB/s; CPU s per MB: host ${e.host_cpu_s_per_mb.toFixed(3)}, simulator ${e.sim_cpu_s_per_mb.toFixed(3)}${socat}${one}${busy}${first}${wide}`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
