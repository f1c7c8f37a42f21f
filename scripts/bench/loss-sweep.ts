/**
 * `npx tsx scripts/bench/loss-sweep.ts`: one push over a noisy link is one sample; this runs many.
 *
 * The pty bench (`npm run bench`) measures one push per row on one link seed in real time, so it
 * shows neither the spread between seeds nor the rare push that loses a 5 s timeout. Here the
 * simulated device and the host run on a virtual clock over the in-memory link (paced at the baud,
 * a one-way latency each way, bit errors in both directions), so a push of 1 MiB at 3 Mbaud takes
 * about 2 s of CPU, results do not depend on how busy the machine is, and a seed always gives the
 * same push. Each variant runs over the same seeds, side by side, and the table gives the
 * distribution of efficiency (payload / (baud / 10)) and the ratio of each variant's mean to the
 * first's. Every push must boot the image; a failed one is counted and printed.
 *
 *   npx tsx scripts/bench/loss-sweep.ts [--baud 3000000] [--latency 16] [--ber 1e-5] [--seeds 40]
 *       [--size 1048576] [--variants default,no-repeat,frame-chunks=1] [--flash instant|esp32]
 *       [--image-dir DIR] [--window BYTES]
 *
 * The encrypted image is new every run (a fresh AES key, IV and RSA padding), which moves where the
 * bit errors land. `--image-dir DIR` keeps it in DIR and reuses it, so that runs of two builds (a
 * git worktree each) push the very same bytes over the very same noise.
 *
 * Variants: `default` (push as shipped), `no-repeat` (BEGIN/END not repeated after a silence,
 * repeatRequests: false), `frame-chunks=N`, `chunk=N`; join several with `+` (no-repeat+chunk=512).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeClock } from '../../src/clock.js';
import { connectSim, createFlashImage, readDeviceState, SimDevice } from '../../src/device-sim/index.js';
import { loadDecryptionKey } from '../../src/image/index.js';
import { DURABLE_INTERVAL } from '../../src/protocol/index.js';
import { push, type PushOptions } from '../../src/session/index.js';
import { seededRng } from '../../src/transport/rng.js';
import { makeBenchImage, SIM_KEY } from './image.js';

const { values: a } = parseArgs({
  options: {
    baud: { type: 'string', default: '3000000' },
    latency: { type: 'string', default: '16' },
    ber: { type: 'string', default: '1e-5' },
    seeds: { type: 'string', default: '40' },
    size: { type: 'string', default: String(1024 * 1024) },
    variants: { type: 'string', default: 'default,no-repeat' },
    flash: { type: 'string', default: 'instant' },
    'image-dir': { type: 'string' },
    window: { type: 'string' },
  },
});
const baud = Number(a.baud);
const latencyMs = Number(a.latency);
const ber = Number(a.ber);
const seeds = Number(a.seeds);
const flashTiming = a.flash === 'esp32' ? 'esp32' : 'instant';

function variantOptions(v: string): Partial<PushOptions> {
  const o: Partial<PushOptions> = {};
  for (const part of v.split('+')) {
    const [k, val] = part.split('=');
    if (k === 'default') continue;
    else if (k === 'no-repeat') o.repeatRequests = false;
    else if (k === 'frame-chunks') o.chunksPerFrame = Number(val);
    else if (k === 'chunk') o.chunk = Number(val);
    else throw new Error(`unknown variant part "${part}" (default, no-repeat, frame-chunks=N, chunk=N)`);
  }
  return o;
}

const work = a['image-dir'] ?? mkdtempSync(join(tmpdir(), 'ota-uart-sweep-'));
mkdirSync(work, { recursive: true });
const bench = makeBenchImage(work, Number(a.size), 1, a['image-dir'] !== undefined);
const image = readFileSync(bench.path);
if (a['image-dir'] === undefined) rmSync(work, { recursive: true, force: true });
const key = loadDecryptionKey(readFileSync(SIM_KEY));

interface Sample { seed: number; seconds: number; efficiency: number; retries: number; resyncs: number; why: string[]; ok: boolean }

async function once(seed: number, extra: Partial<PushOptions>): Promise<Sample> {
  const clock = new FakeClock();
  const flash = createFlashImage();
  const device = new SimDevice({
    flash, key, clock, flashTiming, baud, maxBaud: baud,
    // ESP32 timings: the resume record every 64 KiB, as the ESP-IDF component keeps it (as the bench's flash rows).
    ...(flashTiming === 'esp32' && { recordInterval: DURABLE_INTERVAL }),
    ...(a.window !== undefined && { window: Number(a.window) }),
  });
  // Let it boot first (ESP32 timings model the boot too): the bench starts pushing once the
  // simulator says it booted, and so does a user.
  let booted = false;
  void device.settled().then(() => { booted = true; });
  while (!booted) await clock.advance(1);
  const rng = seededRng(seed); // the same link noise for a seed in every variant
  const c = connectSim(device, { clock, link: { hostToDevice: { latencyMs, ber, rng }, deviceToHost: { latencyMs, ber, rng } } });
  const why: string[] = [];
  const t0 = clock.now();
  let out: { ok: boolean; retries: number } | undefined;
  push({ image, open: async () => c.host, clock, baud, allowDowngrade: true, fresh: true, ...extra, reporter: { event: (e) => { if (e.type === 'resync') why.push(`${(clock.now() / 1000).toFixed(2)} s: ${e.reason}`); } } })
    .then((r) => { out = { ok: r.after.boot.version === bench.version, retries: r.retries }; }, () => { out = { ok: false, retries: 0 }; });
  while (!out) await clock.advance(1);
  const seconds = (clock.now() - t0) / 1000;
  const state = readDeviceState(flash, { chipRev: 300, rollback: false });
  const boot = state.parts[state.bootSlot];
  const ok = out.ok && !!boot && flash.read(boot.offset, bench.app.length).equals(bench.app);
  await c.close();
  return { seed, seconds, efficiency: image.length / seconds / (baud / 10), retries: out.retries, resyncs: why.length, why, ok };
}

const quantile = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const f3 = (x: number): string => x.toFixed(3);

const variants = a.variants.split(',').filter(Boolean);
try {
  variants.forEach(variantOptions);
} catch (e) {
  process.stderr.write(`loss-sweep: ${(e as Error).message}\n`);
  process.exit(2);
}
const results = new Map<string, Sample[]>(variants.map((v) => [v, []]));
process.stderr.write(`loss sweep: ${baud} baud, ${latencyMs} ms each way, BER ${ber}, ${image.length} bytes, flash ${flashTiming}, device window ${a.window ?? 'default'}, seeds 1..${seeds}\n`);
for (let seed = 1; seed <= seeds; seed++) {
  for (const v of variants) results.get(v)!.push(await once(seed, variantOptions(v)));
  process.stderr.write(`\r  seed ${seed}/${seeds}`);
}
process.stderr.write('\n');

const head = ['variant', 'pushes', 'failed', 'mean eff', 'min', 'p10', 'median', 'max', 'slowest s', 'over 1.5x median s', 'resyncs', 'retries/push', 'mean vs first'];
const rows: string[][] = [];
const firstMean = mean(results.get(variants[0]!)!.map((s) => s.efficiency));
for (const v of variants) {
  const xs = results.get(v)!;
  const eff = xs.map((s) => s.efficiency).sort((p, q) => p - q);
  const m = mean(eff);
  rows.push([v, String(xs.length), String(xs.filter((s) => !s.ok).length), f3(m), f3(eff[0]!), f3(quantile(eff, 0.1)), f3(quantile(eff, 0.5)), f3(eff[eff.length - 1]!),
    Math.max(...xs.map((s) => s.seconds)).toFixed(2), String(slowCount(xs)), String(xs.reduce((n, s) => n + s.resyncs, 0)), (xs.reduce((n, s) => n + s.retries, 0) / xs.length).toFixed(1), f3(m / firstMean)]);
}
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
process.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
for (const v of variants) {
  const slow = [...results.get(v)!].sort((p, q) => p.efficiency - q.efficiency).slice(0, 3);
  const resynced = results.get(v)!.filter((s) => s.resyncs > 0).map((s) => `${s.seed} (${s.why.join('; ')})`);
  process.stdout.write(`  ${v}: slowest seeds ${slow.map((s) => `${s.seed} (${s.seconds.toFixed(2)} s${s.ok ? '' : ', FAILED'})`).join(', ')}` +
    `${resynced.length > 0 ? `; reconnected: seeds ${resynced.join(', ')}` : ''}\n`);
}
process.exitCode = [...results.values()].every((xs) => xs.every((s) => s.ok)) ? 0 : 1;

/** Pushes that took more than 1.5 times the variant's median time: the ones a factory line notices. */
function slowCount(xs: Sample[]): number {
  const t = xs.map((s) => s.seconds).sort((p, q) => p - q);
  const median = quantile(t, 0.5);
  return t.filter((x) => x > 1.5 * median).length;
}

function mean(xs: number[]): number {
  return xs.reduce((p, q) => p + q, 0) / xs.length;
}
