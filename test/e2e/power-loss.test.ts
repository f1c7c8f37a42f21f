/**
 * Issue 6 acceptance, "Power loss", for the simulated ESP32 (`ota-uart simulate`) and the C receiver
 * (build/ota-uart-rx): over a socat pty pair, `ota-uart push IMAGE --port HOST --baud 115200` of a
 * 256 KiB image; the device is killed (kill -9) half-way and restarted on the same flash file; the
 * interrupted push fails cleanly, and a second push reports a resume offset above zero and installs
 * the image. Also: the host killed (kill -9) half-way and run again resumes above zero.
 * Every check of what boots reads the flash file itself (scripts/faults/flash-check.ts).
 * By hand: scripts/faults/power-loss.sh [sim|c].
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildAppImage, encryptImage, loadEncryptionKey } from '../../src/image/index.js';
import { bootView, checkFlash, sha256, slotBytes, snapshot, type Before } from '../../scripts/faults/flash-check.js';
import { tempDir } from '../cli/harness.js';
import { CLI, haveDist, haveSocat, ptyPair, ROOT, type PtyPair } from './pty.js';

const FIX = join(ROOT, 'test', 'fixtures');
const KEY = join(FIX, 'rsa3072_private.pem'); // TEST KEY (the shared vectors' rsa3072_private.pem)
const C_RX = join(ROOT, 'build', 'ota-uart-rx');
const SIZE = 256 * 1024;

type Target = 'sim' | 'c';

/** A process with its output collected (stdout and stderr together). */
function run(cmd: string, args: string[]): ChildProcess & { out(): string; exited: Promise<number | null> } {
  const p = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
  return Object.assign(p, { out: () => out, exited });
}

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

async function waitFor(what: string, ok: () => boolean, ms: number, out: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms:\n${out().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startDevice(target: Target, port: string, flash: string) {
  const p = target === 'sim'
    ? run(process.execPath, [CLI, 'simulate', '--port', port, '--key', KEY, '--flash', flash])
    : run(C_RX, ['--port', port, '--key', KEY, '--flash', flash]);
  procs.push(p);
  await waitFor('the device start', () => /Ctrl-C to stop|listening on/.test(p.out()), 30_000, p.out);
  return p;
}

function startPush(image: string, port: string, baud: number) {
  const p = run(process.execPath, [CLI, 'push', image, '--port', port, '--baud', String(baud), '--json']);
  procs.push(p);
  return p;
}

type Ev = Record<string, unknown> & { type?: string };
const events = (out: string): Ev[] => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Ev);
const acked = (out: string): number => events(out).filter((e) => e.type === 'progress').reduce((a, e) => Math.max(a, Number(e.acked)), 0);

async function kill9(p: ReturnType<typeof run>): Promise<void> {
  p.kill('SIGKILL');
  await p.exited;
}

let cReady = false;
let cWhy = '';

beforeAll(() => {
  if (existsSync(C_RX)) {
    cReady = true;
    return;
  }
  const b = spawnSync('bash', [join(ROOT, 'scripts', 'build-c.sh'), '--no-tests'], { cwd: ROOT, encoding: 'utf8' });
  cReady = b.status === 0 && existsSync(C_RX);
  cWhy = `build/ota-uart-rx cannot be built (scripts/build-c.sh: ${(b.stderr || b.stdout || '').trim().split('\n').at(-1)}); install a C compiler and libmbedtls-dev`;
}, 300_000);

for (const target of ['sim', 'c'] as const) {
  const name = target === 'sim' ? '`ota-uart simulate`' : 'the C receiver (build/ota-uart-rx)';

  describe.skipIf(!haveSocat || !haveDist)(`power loss, ${name}`, () => {
    let dir: string;
    let pty: PtyPair;
    let imagePath: string;
    let plain: Buffer;

    beforeAll(async () => {
      dir = tempDir();
      pty = await ptyPair(dir);
      plain = buildAppImage({ version: '2.0.0', size: SIZE, projectName: 'power-loss' });
      imagePath = join(dir, 'app-256k.enc');
      writeFileSync(imagePath, encryptImage(plain, loadEncryptionKey(readFileSync(join(FIX, 'rsa3072_public.pem')))));
    }, 60_000);
    afterAll(async () => {
      await pty?.stop();
    });

    /** The flash file booting exactly the pushed plaintext from ota_0. */
    const bootsImage = (flash: string): boolean => {
      const bytes = readFileSync(flash);
      const v = bootView(bytes);
      return v.boot?.label === 'ota_0' && sha256(slotBytes(bytes, v.boot, plain.length)) === sha256(plain);
    };

    it('device killed (kill -9) half-way at 115200 and restarted on the same flash: the second push resumes above 0 and boots the image', async (ctx) => {
      if (target === 'c') ctx.skip(!cReady, cWhy);
      const flash = join(dir, 'flash-device-kill.bin');
      let device = await startDevice(target, pty.dev, flash);
      const before: Before = snapshot(readFileSync(flash));
      const total = readFileSync(imagePath).length;

      const first = startPush(imagePath, pty.host, 115200);
      await waitFor('half of the image acknowledged', () => acked(first.out()) >= total / 2, 90_000, first.out);
      await kill9(device);
      // Nothing half-written is set to boot; the slot that ran is untouched.
      const cut = checkFlash(readFileSync(flash), before, plain);
      expect(cut.problems).toEqual([]);
      expect(bootView(readFileSync(flash)).boot?.label).toBe('factory');

      // With the device gone the first push gives up with a clear, resumable error.
      const status = await first.exited;
      expect([14, 16, 17], first.out()).toContain(status);
      expect(first.out()).toMatch(/"exitStatus":(14|16|17)/);

      device = await startDevice(target, pty.dev, flash);
      const second = startPush(imagePath, pty.host, 115200);
      expect(await second.exited, second.out()).toBe(0);
      const ev = events(second.out());
      const result = ev.filter((e) => e.type === 'result').at(-1)!;
      const resume = ev.find((e) => e.type === 'resume');
      expect(resume, 'a resume event').toBeDefined();
      expect(Number(result.resumeOffset)).toBeGreaterThan(0);
      expect(Number(result.resumeOffset)).toBe(Number(resume!.offset));
      expect(result).toMatchObject({ ok: true, after: { boot: { slot: 'ota_0', version: '2.0.0' } } });
      expect(bootsImage(flash)).toBe(true);
      expect(checkFlash(readFileSync(flash), before, plain, true).problems).toEqual([]);
      // The record gave a resume point within DURABLE_INTERVAL (64 KiB) of the kill.
      expect(Number(result.resumeOffset)).toBeGreaterThanOrEqual(total / 2 - 64 * 1024 - 16 * 1024);
      await kill9(device);
    }, 240_000);

    it('host killed (kill -9) half-way and run again: the push resumes above 0 and boots the image', async (ctx) => {
      if (target === 'c') ctx.skip(!cReady, cWhy);
      const flash = join(dir, 'flash-host-kill.bin');
      const device = await startDevice(target, pty.dev, flash);
      const before: Before = snapshot(readFileSync(flash));
      const total = readFileSync(imagePath).length;

      const first = startPush(imagePath, pty.host, 921600);
      await waitFor('half of the image acknowledged', () => acked(first.out()) >= total / 2, 90_000, first.out);
      await kill9(first);
      expect(checkFlash(readFileSync(flash), before, plain).problems).toEqual([]);
      expect(bootView(readFileSync(flash)).boot?.label).toBe('factory');

      const second = startPush(imagePath, pty.host, 921600);
      expect(await second.exited, second.out()).toBe(0);
      const result = events(second.out()).filter((e) => e.type === 'result').at(-1)!;
      expect(Number(result.resumeOffset)).toBeGreaterThan(0);
      expect(result).toMatchObject({ ok: true, after: { boot: { slot: 'ota_0', version: '2.0.0' } } });
      expect(bootsImage(flash)).toBe(true);
      await kill9(device);
    }, 240_000);
  });
}
