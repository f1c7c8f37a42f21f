/**
 * The C receiver end to end: scripts/build-c.sh builds it (and runs its ASan+UBSan unit tests),
 * then the TypeScript host (`ota-uart push` from dist/) pushes to build/ota-uart-rx over a socat
 * pty pair. What boots is read back from the flash file with the simulator's own bootloader model
 * (src/device-sim), so the two implementations check each other: a valid image boots; tampered,
 * wrong-chip, wrong-key and downgrade images are refused with their exit codes and nothing that
 * boots changes; a lossy link still delivers; a device without an IRAM-safe UART ISR loses
 * nothing because its credit keeps the host quiet during flash work; a power cut resumes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlashImage, openFlashFile, readDeviceState } from '../../src/device-sim/index.js';
import { buildAppImage, encryptImage, loadEncryptionKey } from '../../src/image/index.js';
import { FIXTURES, RX, buildC, cleanupAll, cli, ptyPair, requireCli, startRx, startSim, stop, tempDir, type Proc } from './rx-helpers.js';

const KEY = join(FIXTURES, 'rsa3072_private.pem');
const VALID = join(FIXTURES, 'app_esp32.rsa.enc.bin');
const FAST = ['--flash-timing', 'instant', '--no-boot-log'];

function bootState(flash: string) {
  const f = openFlashFile(flash);
  try {
    return readDeviceState(f, { chipRev: 300 });
  } finally {
    f.close();
  }
}

function region(file: string, start: number, len: number): Buffer {
  return readFileSync(file).subarray(start, start + len);
}

/** An app built and encrypted here for the TEST key (RSA). */
function makeImage(dir: string, name: string, o: { version: string; chipId?: number; size?: number }): string {
  const key = loadEncryptionKey(readFileSync(join(FIXTURES, 'rsa3072_public.pem')));
  const path = join(dir, name);
  writeFileSync(path, encryptImage(buildAppImage({ version: o.version, chipId: o.chipId ?? 0, size: o.size, seed: 3 }), key));
  return path;
}

let buildLog = '';
let dir = '';
let socat: Proc | undefined;
let rx: Proc | undefined;
let ports: { dev: string; host: string };

beforeAll(() => {
  requireCli();
  buildLog = buildC();
  dir = tempDir();
}, 600_000);

afterAll(async () => {
  await stop(rx);
  await stop(socat);
  await cleanupAll();
});

describe('C receiver build', () => {
  it('builds, runs its unit tests clean and reports the context size', () => {
    expect(buildLog).toMatch(/C receiver unit tests: \d+ tests, \d+ checks, 0 failed/);
    const size = Number(/sizeof\(otarx_ctx_t\) = (\d+) bytes/.exec(buildLog)?.[1]);
    expect(size).toBeGreaterThan(4096);
    expect(size).toBeLessThan(16384);
  });

  it('creates the same fresh factory flash as the TypeScript simulator', async () => {
    const file = join(dir, 'factory.bin');
    const r = await import('node:child_process').then((cp) => cp.spawnSync(RX, ['--flash', file, '--create-flash-only']));
    expect(r.status).toBe(0);
    expect(readFileSync(file).equals(createFlashImage().snapshot())).toBe(true);
  });
});

describe('ota-uart push -> ota-uart-rx over a pty pair', () => {
  const flash = () => join(dir, 'flash.bin');

  beforeAll(async () => {
    const pair = await ptyPair(dir);
    socat = pair.proc;
    ports = { dev: pair.dev, host: pair.host };
    rx = await startRx(['--port', ports.dev, '--key', KEY, '--flash', flash(), ...FAST]);
  }, 30_000);

  it('answers `ota-uart info` exactly as `ota-uart simulate` does on a fresh flash', async () => {
    const r = await cli(['info', '--port', ports.host, '--json']);
    expect(r.status).toBe(0);
    const info = r.json[0] as Record<string, unknown> & { running: { slot: string; version: string }; boot: { slot: string }; target: string };
    expect(info.running).toMatchObject({ slot: 'factory', version: '1.0.0-factory' });
    expect(info.boot.slot).toBe('factory');
    expect(info.target).toBe('ota_0');
    const sub = tempDir();
    const pair = await ptyPair(sub);
    const sim = await startSim(['--port', pair.dev, '--key', KEY, '--flash', join(sub, 'sim.bin'), '--flash-timing', 'instant', '--no-boot-log']);
    try {
      const s = await cli(['info', '--port', pair.host, '--json']);
      expect(s.status).toBe(0);
      expect({ ...info, port: '' }).toEqual({ ...s.json[0], port: '' });
    } finally {
      await stop(sim);
      await stop(pair.proc);
    }
  }, 60_000);

  it('a valid image boots', async () => {
    const r = await cli(['push', VALID, '--port', ports.host]);
    expect(r.status).toBe(0);
    const s = bootState(flash());
    expect(s.bootLabel).toBe('ota_0');
    expect(s.parts[1]).toMatchObject({ valid: true, version: '1.2.3-vector' });
    const info = await cli(['info', '--port', ports.host, '--json']);
    expect(info.json[0]).toMatchObject({ boot: { slot: 'ota_0', version: '1.2.3-vector' }, target: 'ota_1' });
  });

  it('leaves the flash file byte for byte as `ota-uart simulate` does after the same push', async () => {
    const sub = tempDir();
    const pair = await ptyPair(sub);
    const simFlash = join(sub, 'sim.bin');
    const sim = await startSim(['--port', pair.dev, '--key', KEY, '--flash', simFlash, '--flash-timing', 'instant', '--no-boot-log']);
    try {
      const r = await cli(['push', VALID, '--port', pair.host]);
      expect(r.status).toBe(0);
    } finally {
      await stop(sim);
      await stop(pair.proc);
    }
    const mine = readFileSync(flash());
    const theirs = readFileSync(simFlash);
    const firstDiff = mine.findIndex((b, i) => b !== theirs[i]);
    expect(firstDiff).toBe(-1);
  }, 60_000);

  const refusals: [string, () => string, number, RegExp][] = [
    ['tampered ciphertext', () => join(FIXTURES, 'app_esp32.rsa.enc.tampered_ct.bin'), 6, /authentication failed/],
    ['tampered tag', () => join(FIXTURES, 'app_esp32.rsa.enc.tampered_tag.bin'), 6, /authentication failed/],
    // the C receiver's detail (SPEC §4.6) reaches the host's message: both chips are named
    ['wrong chip', () => makeImage(dir, 'c3.enc', { version: '9.0.0', chipId: 5 }), 21, /c3\.enc was built for ESP32-C3; the device is an ESP32/],
    ['wrong key', () => join(FIXTURES, 'app_esp32.ecies.enc.bin'), 5, /different key/],
    ['downgrade', () => makeImage(dir, 'old.enc', { version: '0.9.0' }), 22, /old\.enc is older than the .* the device runs; pass --allow-downgrade/],
  ];
  for (const [name, image, exit, message] of refusals) {
    it(`refuses ${name} with exit ${exit}, and nothing that boots changes`, async () => {
      const path = image();
      const otadata = region(flash(), 0xd000, 0x2000);
      const running = region(flash(), 0x10000, 0x100000);
      const boot = region(flash(), 0x110000, 0x100000);
      const r = await cli(['push', path, '--port', ports.host]);
      expect(r.status).toBe(exit);
      expect(r.stderr).toMatch(message);
      expect(region(flash(), 0xd000, 0x2000).equals(otadata)).toBe(true);
      expect(region(flash(), 0x10000, 0x100000).equals(running)).toBe(true);
      expect(region(flash(), 0x110000, 0x100000).equals(boot)).toBe(true);
      expect(bootState(flash())).toMatchObject({ bootLabel: 'ota_0' });
    });
  }

  it('installs a downgrade when asked to', async () => {
    const r = await cli(['push', join(dir, 'old.enc'), '--port', ports.host, '--allow-downgrade']);
    expect(r.status).toBe(0);
    expect(bootState(flash())).toMatchObject({ bootLabel: 'ota_1' });
    expect(bootState(flash()).parts[2]).toMatchObject({ version: '0.9.0', valid: true });
  });

  afterAll(async () => {
    await stop(rx);
    rx = undefined;
  });
});

describe('faults', () => {
  const fresh = (name: string) => join(dir, name);

  it('a lossy link still delivers', async () => {
    const img = makeImage(dir, 'lossy.enc', { version: '5.0.0', size: 200_000 });
    rx = await startRx(['--port', ports.dev, '--key', KEY, '--flash', fresh('lossy.bin'), ...FAST, '--ber', '1e-5', '--drop', '2e-5', '--seed', '7']);
    const r = await cli(['push', img, '--port', ports.host, '--json'], { timeoutMs: 120_000 });
    await stop(rx);
    expect(r.status).toBe(0);
    const result = r.json.find((e) => e.type === 'result') as { retries: number } | undefined;
    expect(result?.retries).toBeGreaterThan(0); // the faults did hit
    expect(rx.stderr).toMatch(/bad crc [1-9]|bad cobs [1-9]/);
    expect(bootState(fresh('lossy.bin')).parts[1]).toMatchObject({ version: '5.0.0', valid: true });
  }, 150_000);

  it('without an IRAM-safe UART ISR, batched credit loses nothing during flash work', async () => {
    const img = makeImage(dir, 'batch.enc', { version: '6.0.0', size: 40_000 });
    const run = async (extra: string[], flashName: string, timeoutMs: number) => {
      rx = await startRx(['--port', ports.dev, '--key', KEY, '--flash', fresh(flashName), '--no-boot-log', '--flash-timing', 'esp32', '--no-iram-uart', ...extra]);
      const r = await cli(['push', img, '--port', ports.host, '--json'], { timeoutMs });
      await stop(rx);
      const overruns = Number(/overruns (\d+)/.exec(rx.stderr)?.[1]);
      return { r, overruns };
    };
    const planned = await run([], 'batch.bin', 120_000);
    expect(planned.r.status).toBe(0);
    expect(planned.overruns).toBe(0);
    // control: the same device granting credit as if its ISR were IRAM-safe loses bytes (its
    // push crawls through timeouts; it is cut short, only the overruns matter)
    const free = await run(['--grant-freely'], 'free.bin', 8_000);
    expect(free.overruns).toBeGreaterThan(0);
  }, 240_000);

  it('resumes from the durable record after a power cut', async () => {
    const img = makeImage(dir, 'resume.enc', { version: '7.0.0', size: 150_000 });
    const file = fresh('resume.bin');
    rx = await startRx(['--port', ports.dev, '--key', KEY, '--flash', file, ...FAST, '--crash-at', '80000']);
    let pushChild: import('node:child_process').ChildProcess | undefined;
    const first = cli(['push', img, '--port', ports.host], { onSpawn: (c) => { pushChild = c; } });
    expect(await rx.exited).toBe(9); // the power cut
    pushChild?.kill('SIGKILL'); // the host dies too
    await first;
    rx = await startRx(['--port', ports.dev, '--key', KEY, '--flash', file, ...FAST]);
    const r = await cli(['push', img, '--port', ports.host, '--json'], { timeoutMs: 60_000 });
    await stop(rx);
    expect(r.status).toBe(0);
    const result = r.json.find((e) => e.type === 'result') as { resumeOffset: number } | undefined;
    expect(result?.resumeOffset).toBeGreaterThan(60_000);
    expect(bootState(file).parts[1]).toMatchObject({ version: '7.0.0', valid: true });
  }, 120_000);
});
