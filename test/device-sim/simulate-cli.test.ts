/**
 * `ota-uart simulate` on one end of a socat pty pair, driven by the host library on the other:
 * a valid image installs, the flash file survives kill -9 (a power cycle: the new app boots), a
 * tampered image fails with the boot slot unchanged, and a reset fault mid-transfer is resumed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { MemoryReporter } from '../../src/reporter.js';
import { deviceInfo, push } from '../../src/session/index.js';
import { openSerialTransport } from '../../src/transport/serial.js';
import { fixture } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const hasSocat = spawnSync('socat', ['-V']).status === 0;
const procs: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function ptyPair(): Promise<{ dev: string; host: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ota-sim-cli-'));
  dirs.push(dir);
  const dev = join(dir, 'dev');
  const host = join(dir, 'host');
  procs.push(spawn('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${host}`], { stdio: 'ignore' }));
  for (let i = 0; i < 100 && !(existsSync(dev) && existsSync(host)); i++) await new Promise((r) => setTimeout(r, 50));
  return { dev, host, dir };
}

/** Starts `ota-uart simulate`; resolves once its boot line appeared. `lines` keeps every stderr line. */
async function simulate(args: string[]): Promise<{ proc: ChildProcess; lines: string[] }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'simulate', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(proc);
  const lines: string[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulate did not boot: ${lines.join(' | ')}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      if (parts.some((l) => l.includes('simulate: boot'))) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => reject(new Error(`simulate exited with ${code}: ${lines.join(' | ')}`)));
  });
  return { proc, lines };
}

const open = (path: string) => () => openSerialTransport(path, { baud: 115200 });

describe.skipIf(!hasSocat)('ota-uart simulate over a pty pair', () => {
  it('installs, survives kill -9 on the same flash file, and refuses a tampered image', async () => {
    const { dev, host, dir } = await ptyPair();
    const flash = join(dir, 'flash.bin');
    const args = ['--port', dev, '--key', 'test/fixtures/rsa3072_private.pem', '--flash', flash];
    const sim = await simulate(args);
    const r = await push({ image: fixture('app_esp32.rsa.enc.bin'), open: open(host), clock: systemClock, baud: 921600 });
    expect(r.after.boot).toMatchObject({ slot: 'ota_0', version: '1.2.3-vector' });
    expect(sim.lines.some((l) => l.includes('result: 1.2.3-vector set to boot from ota_0'))).toBe(true);

    sim.proc.kill('SIGKILL');
    await new Promise((r) => sim.proc.once('exit', r));
    const again = await simulate(args);
    expect(again.lines.some((l) => l.includes('boot (power-on): running 1.2.3-vector from ota_0'))).toBe(true);

    const err = await push({ image: fixture('app_esp32.rsa.enc.tampered_ct.bin'), open: open(host), clock: systemClock, allowDowngrade: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AUTH_FAILED' });
    const info = await deviceInfo({ open: open(host), clock: systemClock });
    expect(info.boot).toMatchObject({ slot: 'ota_0', version: '1.2.3-vector' });
  }, 60_000);

  it('resumes after a reset fault in mid-transfer (--reset-at), from the durable record', async () => {
    const { dev, host } = await ptyPair();
    const sim = await simulate(['--port', dev, '--key', 'test/fixtures/rsa3072_private.pem', '--reset-at', '2000', '--flash-timing', 'instant']);
    const reporter = new MemoryReporter();
    // One chunk per frame: the 3152 data bytes would otherwise fit one frame, and offset 2000 would
    // fall inside it (the reset then comes before the frame is written, and nothing is resumed).
    const r = await push({ image: fixture('app_esp32.rsa.enc.bin'), open: open(host), clock: systemClock, reporter, chunksPerFrame: 1 });
    expect(r.after.boot.version).toBe('1.2.3-vector');
    expect(Number(reporter.ofType('resume')[0]?.offset)).toBeGreaterThan(512);
    expect(sim.lines.some((l) => /reset \(fault at offset \d+\)/.test(l))).toBe(true);
    expect(sim.lines.some((l) => /resume at \d+ of 3664 \(session from flash record\)/.test(l))).toBe(true);
  }, 60_000);

  it('--record-every 65536 keeps one record per 64 KiB: a reset before the first resumes from the start', async () => {
    const { dev, host } = await ptyPair();
    const sim = await simulate(['--port', dev, '--key', 'test/fixtures/rsa3072_private.pem', '--reset-at', '2000', '--flash-timing', 'instant', '--record-every', '65536']);
    const reporter = new MemoryReporter();
    const r = await push({ image: fixture('app_esp32.rsa.enc.bin'), open: open(host), clock: systemClock, reporter, chunksPerFrame: 1 });
    expect(r.after.boot.version).toBe('1.2.3-vector');
    expect(reporter.ofType('resume')).toHaveLength(0); // 3664 bytes: no record was due before the reset
    expect(sim.lines.some((l) => /reset \(fault at offset \d+\)/.test(l))).toBe(true);
  }, 60_000);

  it('--window and --max-frame set what HELLO_ACK announces, and a push keeps within them', async () => {
    const { dev, host } = await ptyPair();
    await simulate(['--port', dev, '--key', 'test/fixtures/rsa3072_private.pem', '--flash-timing', 'instant', '--window', '2048', '--max-frame', '650']);
    const r = await push({ image: fixture('app_esp32.rsa.enc.bin'), open: open(host), clock: systemClock });
    expect(r.device).toMatchObject({ window: 2048, maxFrame: 650 });
    expect(r.after.boot.version).toBe('1.2.3-vector');
  }, 60_000);

  it('--no-pace leaves the pacing to the port: at a nominal 1200 baud a push takes far less than 10 bits a byte', async () => {
    // Paced, 3664 bytes at 1200 baud need more than 30 s of wire time in each direction's share;
    // unpaced over a pty they take well under a second. The bound sits far from both.
    const { dev, host } = await ptyPair();
    await simulate(['--port', dev, '--key', 'test/fixtures/rsa3072_private.pem', '--flash-timing', 'instant', '--baud', '1200', '--no-pace']);
    const t0 = performance.now();
    const r = await push({ image: fixture('app_esp32.rsa.enc.bin'), open: () => openSerialTransport(host, { baud: 1200 }), clock: systemClock });
    expect(r.after.boot.version).toBe('1.2.3-vector');
    expect(performance.now() - t0).toBeLessThan(10_000);
  }, 60_000);
});

describe('ota-uart simulate: bad input gets one clear line and its exit status', () => {
  async function run(args: string[]): Promise<{ status: number; err: string }> {
    const { main } = await import('../../src/cli/main.js');
    let err = '';
    const status = await main(['simulate', ...args], { stderr: (t) => { err += t; } });
    return { status, err };
  }

  it('names a missing port (exit 10), a missing key file (3), an unknown chip (2) and a bad fault option (2)', async () => {
    expect(await run(['--port', '/nonexistent/tty0'])).toMatchObject({ status: 10, err: expect.stringContaining('/nonexistent/tty0') });
    expect(await run(['--port', '/dev/null', '--key', '/nonexistent/key.pem'])).toMatchObject({ status: 3, err: expect.stringContaining('/nonexistent/key.pem') });
    expect(await run(['--port', '/dev/null', '--chip', 'esp99'])).toMatchObject({ status: 2, err: expect.stringContaining('esp99') });
    expect(await run(['--port', '/dev/null', '--ber', '2'])).toMatchObject({ status: 2, err: expect.stringContaining('"ber"') });
    expect(await run(['--port', '/dev/null', '--record-every', '70000'])).toMatchObject({ status: 2, err: expect.stringContaining('--record-every') });
    expect(await run(['--port', '/dev/null', '--window', '300000'])).toMatchObject({ status: 2, err: expect.stringContaining('--window must be a whole number of bytes from 16 to 262144') });
    expect(await run(['--port', '/dev/null', '--max-frame', '600'])).toMatchObject({ status: 2, err: expect.stringContaining('--max-frame must be a whole number of bytes from 640 to 4112') });
  });

  it('refuses a flash file that is not a flash image (exit 3), naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ota-sim-bad-'));
    dirs.push(dir);
    const odd = join(dir, 'odd.bin');
    const blank = join(dir, 'blank.bin');
    writeFileSync(odd, Buffer.alloc(1000));
    writeFileSync(blank, Buffer.alloc(65536));
    const a = await run(['--port', '/dev/null', '--flash', odd]);
    expect(a).toMatchObject({ status: 3, err: expect.stringContaining(odd) });
    const b = await run(['--port', '/dev/null', '--flash', blank]);
    expect(b).toMatchObject({ status: 3, err: expect.stringContaining('no valid partition table') });
    expect(a.err.trim().split('\n')).toHaveLength(1);
  });
});
