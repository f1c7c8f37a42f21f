/**
 * A tiny smoke run of the bench (scripts/bench): the pty link emulator moves bytes intact both
 * ways; one small ZMODEM and one small ota-uart run go across it and are verified; the table, JSON,
 * targets and SVG writers produce well-formed output. No timing is asserted anywhere: the numbers
 * belong to `npm run bench`, not to a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBenchImage } from '../../scripts/bench/image.js';
import { runLrzsz } from '../../scripts/bench/lrzsz.js';
import { describeEngine } from '../../scripts/bench/engine.js';
import { CLI, runOta } from '../../scripts/bench/ota.js';
import { busyShare, machineCpuSeconds } from '../../scripts/bench/proc.js';
import { PtyLink } from '../../scripts/bench/pty-link.js';
import { addZmodemRatios, formatMarkdown, formatTable, judgeTargets, makeRow, toJson, type EngineResult, type Row } from '../../scripts/bench/report.js';
import { efficiencySvg } from '../../scripts/bench/svg.js';
import { seededRng } from '../../src/transport/rng.js';
import { openSerialTransport, type SerialTransport } from '../../src/transport/serial.js';

const has = (cmd: string, arg: string): boolean => spawnSync(cmd, [arg]).status === 0;
const hasSocat = has('socat', '-V');
const hasLrzsz = has('sz', '--version');
const dir = mkdtempSync(join(tmpdir(), 'ota-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function random(n: number, seed: number): Uint8Array {
  const rng = seededRng(seed);
  return Uint8Array.from({ length: n }, () => (rng() * 256) | 0);
}

function collect(t: SerialTransport, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  return new Promise((resolve) => {
    t.onData((c) => {
      parts.push(Buffer.from(c));
      got += c.length;
      if (got >= n) resolve(Buffer.concat(parts));
    });
  });
}

describe.skipIf(!hasSocat)('pty link emulator', () => {
  it('moves bytes intact in both directions at once, and counts them', async () => {
    const link = await PtyLink.start({ dir: join(dir, 'duplex'), baud: 3_000_000, latencyMs: 1 });
    const a = await openSerialTransport(link.pathA, { baud: 3_000_000 });
    const b = await openSerialTransport(link.pathB, { baud: 3_000_000 });
    try {
      const ab = random(40_000, 1);
      const ba = random(30_000, 2);
      const atB = collect(b, ab.length);
      const atA = collect(a, ba.length);
      await Promise.all([a.write(ab), b.write(ba)]);
      expect((await atB).equals(Buffer.from(ab))).toBe(true);
      expect((await atA).equals(Buffer.from(ba))).toBe(true);
      const s = link.stats();
      expect(s.aToB.delivered).toBe(ab.length);
      expect(s.bToA.delivered).toBe(ba.length);
      expect(s.aToB.lastOut).toBeGreaterThan(s.aToB.firstIn);
    } finally {
      await a.close();
      await b.close();
      await link.close();
    }
  });

  it('flips bits when asked (BER), so the bench really injects errors', async () => {
    const link = await PtyLink.start({ dir: join(dir, 'ber'), baud: 3_000_000, ber: 1e-3, seed: 5 });
    const a = await openSerialTransport(link.pathA, { baud: 3_000_000 });
    const b = await openSerialTransport(link.pathB, { baud: 3_000_000 });
    try {
      const data = random(20_000, 3);
      const atB = collect(b, data.length);
      await a.write(data);
      const got = await atB;
      expect(got.equals(Buffer.from(data))).toBe(false);
      expect(link.stats().aToB.flippedBits).toBeGreaterThan(50); // ~160 expected
    } finally {
      await a.close();
      await b.close();
      await link.close();
    }
  });
});

describe.skipIf(!hasSocat || !hasLrzsz)('bench runs across the emulator', () => {
  const image = makeBenchImage(dir, 32 * 1024, 7);

  it('ZMODEM (sz -> rz) delivers the image, checked by its sha256', async () => {
    const link = await PtyLink.start({ dir: join(dir, 'z'), baud: 3_000_000, latencyMs: 1 });
    try {
      const r = await runLrzsz('zmodem', { link, image, workDir: dir, timeoutMs: 30_000, latencyMs: 1 });
      expect(r).toMatchObject({ ok: true });
      expect(r.seconds).toBeGreaterThan(0);
    } finally {
      await link.close();
    }
  });

  it.skipIf(!existsSync(CLI))('ota-uart push to ota-uart simulate delivers the app into the slot that boots', async () => {
    const link = await PtyLink.start({ dir: join(dir, 'o'), baud: 3_000_000, latencyMs: 1 });
    try {
      const r = await runOta('ota-uart', { link, image, workDir: dir, timeoutMs: 60_000, latencyMs: 1 });
      expect(r.note).toBeUndefined();
      expect(r.ok).toBe(true);
    } finally {
      await link.close();
    }
  }, 90_000);
});

describe('bench report writers', () => {
  const base = { baud: 921600, latencyMs: 16, ber: 0, bytes: 1_048_576, ok: true };
  const rows: Row[] = [
    makeRow({ ...base, tool: 'zmodem', seconds: 12 }),
    makeRow({ ...base, tool: 'ota-uart', seconds: 11.5 }),
    makeRow({ ...base, tool: 'ota-uart-flash', seconds: 12.5, flashCeiling: 150_000, flashOnly: 199_000 }),
    makeRow({ ...base, tool: 'xmodem1k', seconds: 40, ok: false, note: 'no file received' }),
  ];
  addZmodemRatios(rows);

  it('derives payload rate, efficiency, the ratio to ZMODEM and the share of the device ceiling', () => {
    const ota = rows[1]!;
    expect(ota.payload_bps).toBe(Math.round(1_048_576 / 11.5));
    expect(ota.efficiency).toBeCloseTo(1_048_576 / 11.5 / 92_160, 3);
    expect(ota.ratio_zmodem).toBeCloseTo(12 / 11.5, 2);
    expect(rows[2]!.of_limit).toBeCloseTo(1_048_576 / 12.5 / 92_160, 3); // line 92160 < ceiling 150000
    expect(rows[3]!.ratio_zmodem).toBeUndefined(); // a failed run gets no ratio
  });

  it('judges the targets on what was measured, and can say MISSED', () => {
    const t = judgeTargets(rows);
    const byName = (s: string) => t.find((x) => x.name.includes(s))!;
    expect(byName('0.95 at 921600').ok).toBe(true); // 0.989
    expect(byName('ZMODEM').ok).toBe(true);
    expect(byName('realistic flash').ok).toBe(false); // 0.910
    const slow = [makeRow({ ...base, tool: 'ota-uart', seconds: 12 })];
    expect(judgeTargets(slow)[0]).toMatchObject({ ok: false });
  });

  it('writes JSON with the documented row fields, a table and markdown with every row', () => {
    const doc = JSON.parse(toJson({ rows, targets: judgeTargets(rows), engine: [], machine: { cpus: 2, load_before: 1, load_after: 1, node: 'v20' } })) as { rows: Record<string, unknown>[] };
    for (const r of doc.rows) for (const k of ['tool', 'baud', 'latency_ms', 'ber', 'bytes', 'seconds', 'efficiency']) expect(r).toHaveProperty(k);
    expect(formatTable(rows).split('\n')).toHaveLength(2 + rows.length);
    expect(formatMarkdown(rows).split('\n')).toHaveLength(2 + rows.length);
    expect(formatTable(rows)).toContain('NO');
  });

  it('draws one well-formed SVG with a series per tool', () => {
    const svg = efficiencySvg([...rows, makeRow({ ...base, baud: 3_000_000, tool: 'ota-uart', seconds: 3.7 })]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    const opened = (svg.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).filter((x) => !x.startsWith('<?')).length;
    const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
    expect(opened).toBe(closed); // every non-self-closing element is closed
    expect(svg.match(/<polyline/g)).toHaveLength(1); // ota-uart has two bauds; the others one point each
    for (const t of ['ota-uart', 'zmodem', 'xmodem1k', 'ota-uart-flash']) expect(svg).toContain(`>${t}</text>`);
  });

  it('reports how busy the whole machine was during the pty engine run', () => {
    expect(busyShare({ busy: 10, idle: 30 }, { busy: 13, idle: 31 })).toBeCloseTo(0.75);
    expect(busyShare(undefined, { busy: 1, idle: 1 })).toBeUndefined();
    expect(busyShare({ busy: 1, idle: 1 }, { busy: 1, idle: 1 })).toBeUndefined();
    const now = machineCpuSeconds();
    if (process.platform === 'linux') expect(now && now.busy > 0 && now.idle >= 0).toBe(true);
    const line = describeEngine({ link: 'pty', window: 32768, chunk: 512, bytes: 1e6, seconds: 1, mbps: 1, host_cpu_s_per_mb: 0.1, sim_cpu_s_per_mb: 0.2, socat_cpu_s_per_mb: 0.03, machine_busy: 0.8, ok: true });
    expect(line).toMatch(/host 0\.100, simulator 0\.200, socat 0\.030; machine 80% busy \(all \d+ cores\)$/); // no window note at the defaults
    expect(describeEngine({ link: 'pty-wide', window: 131072, chunk: 4096, bytes: 1e6, seconds: 1, mbps: 1, host_cpu_s_per_mb: 0.1, sim_cpu_s_per_mb: 0.2, ok: true }))
      .toContain('[device window 128 KiB, 4 KiB frames]');
    expect(describeEngine({ link: 'pty-pair', window: 131072, chunk: 4096, bytes: 1e6, seconds: 1, mbps: 1, host_cpu_s_per_mb: 0.1, sim_cpu_s_per_mb: 0.2, first_push_mbps: 6.25, ok: true }))
      .toMatch(/; a fresh process's first push 6\.3 MB\/s \[device window 128 KiB, 4 KiB frames; simulator on a second pty\]$/);
  });

  it('judges the engine where the window is not the limit, and names the default-window speed beside it', () => {
    const e = (link: EngineResult['link'], mbps: number, wide = false): EngineResult => ({
      link, window: wide ? 131072 : 32768, chunk: wide ? 4096 : 512, bytes: 8e6, seconds: 8 / mbps, mbps, host_cpu_s_per_mb: 0.05, sim_cpu_s_per_mb: 0.08, ok: true,
    });
    const judge = (engine: EngineResult[]) => judgeTargets([], engine).find((t) => t.name.startsWith('engine'))!;
    expect(judge([e('pty', 8.1), e('pty-wide', 12.3, true)])).toMatchObject({ ok: true, detail: '12.3 MB/s (window 128 KiB, 4 KiB chunks); 8.1 MB/s with the default 32 KiB window' });
    expect(judge([e('pty', 8.1), e('pty-wide', 9.5, true)]).ok).toBe(false);
    expect(judge([e('pty', 10.5)])).toMatchObject({ ok: true, detail: '10.5 MB/s' }); // older runs: no wide row
    expect(judge([e('pty', 11), { ...e('pty-wide', 12, true), ok: false }]).ok).toBe(false); // a failed run passes nothing
    expect(judge([e('pty-pair', 20, true), e('pty-wide', 9.5, true)]).ok).toBe(false); // the pair row is for comparison only
  });
});

describe('loss sweep (scripts/bench/loss-sweep.ts)', () => {
  it('runs each variant over the same seeds in virtual time and prints the table', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench/loss-sweep.ts', '--seeds', '2', '--size', '65536', '--baud', '921600', '--variants', 'default,no-repeat+frame-chunks=1'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^variant\s+pushes\s+failed\s+mean eff/);
    expect(lines[1]).toMatch(/^default\s+2\s+0\s+0\.\d{3}/);
    expect(lines[2]).toMatch(/^no-repeat\+frame-chunks=1\s+2\s+0\s+0\.\d{3}/);
  });

  it('refuses a variant it does not know', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench/loss-sweep.ts', '--seeds', '1', '--size', '65536', '--variants', 'turbo'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown variant part "turbo"/);
  });
});
