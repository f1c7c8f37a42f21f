/**
 * End to end over a real serial link: socat makes a pty pair, `ota-uart simulate` runs the simulated
 * ESP32 on one end in its own process (flash kept in a file), and the built CLI pushes on the other
 * end. A valid image boots in the other slot; tampered, wrong-chip, wrong-key and downgrade images
 * fail with their own exit codes and leave the boot slot (otadata) byte for byte unchanged. A push
 * interrupted by killing both the simulator and the host (kill -9) resumes above zero.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlashFile, readDeviceState } from '../../src/device-sim/index.js';
import { buildAppImage, encryptImage, loadEncryptionKey } from '../../src/image/index.js';
import { tempDir } from '../cli/harness.js';
import { cli, cliProcess, haveDist, haveSocat, ptyPair, ROOT, type PtyPair } from './pty.js';

const FIX = join(ROOT, 'test', 'fixtures');
const KEY = join(FIX, 'rsa3072_private.pem'); // TEST KEY (shared vectors)
const PUB = loadEncryptionKey(readFileSync(join(FIX, 'rsa3072_public.pem')));
const OTADATA = { offset: 0xd000, size: 0x2000 };

type Sim = ReturnType<typeof cliProcess>;

async function startSim(dev: string, flash: string, extra: string[] = []): Promise<Sim> {
  const sim = cliProcess(['simulate', '--port', dev, '--key', KEY, '--flash', flash, ...extra]);
  for (let i = 0; i < 1500 && !/Ctrl-C to stop/.test(sim.output()); i++) {
    if (sim.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!/Ctrl-C to stop/.test(sim.output())) throw new Error(`the simulator did not start:\n${sim.output()}`);
  return sim;
}

async function stopSim(sim: Sim | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!sim || sim.exitCode !== null || sim.signalCode !== null) return;
  const gone = new Promise((r) => sim.once('exit', r));
  sim.kill(signal);
  await gone;
}

/** What the bootloader would start, read from the flash file itself. */
function bootState(flashPath: string): { label: string | undefined; version: string; otadata: string } {
  const flash = openFlashFile(flashPath);
  try {
    const s = readDeviceState(flash, { rollback: false });
    const bytes = readFileSync(flashPath).subarray(OTADATA.offset, OTADATA.offset + OTADATA.size);
    return { label: s.bootLabel, version: s.parts[s.bootSlot]?.version ?? '', otadata: createHash('sha256').update(bytes).digest('hex') };
  } finally {
    flash.close();
  }
}

const jsonOf = (text: string): Record<string, unknown>[] => text.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(!haveSocat || !haveDist)('push to `ota-uart simulate` over a socat pty pair', () => {
  let dir: string;
  let pty: PtyPair;
  let sim: Sim | undefined;
  let flash: string;
  const img = (name: string, data: Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  beforeAll(async () => {
    dir = tempDir();
    flash = join(dir, 'flash.bin');
    pty = await ptyPair(dir);
    sim = await startSim(pty.dev, flash);
  }, 60_000);
  afterAll(async () => {
    await stopSim(sim);
    await pty?.stop();
  });

  const refused: [string, () => string, number, RegExp][] = [
    ['a tampered ciphertext', () => join(FIX, 'app_esp32.rsa.enc.tampered_ct.bin'), 6, /authentication failed: .*tampered_ct\.bin was altered or damaged/],
    ['a tampered tag', () => join(FIX, 'app_esp32.rsa.enc.tampered_tag.bin'), 6, /authentication failed/],
    ['an image for another key', () => img('other-key.enc', encryptImage(readFileSync(join(FIX, 'app_esp32.bin')), loadEncryptionKey(readFileSync(join(ROOT, 'assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pub.pem'))))), 5, /cannot decrypt .*other-key\.enc: it was encrypted for a different key/],
    ['an image for ESP32-C3', () => img('c3.enc', encryptImage(buildAppImage({ version: '9.0.0', chipId: 5 }), PUB)), 21, /c3\.enc was built for ESP32-C3; the device is an ESP32$/],
  ];

  for (const [what, file, exit, msg] of refused) {
    it(`${what} is refused with exit ${exit}; the boot slot does not change`, async () => {
      const before = bootState(flash);
      const r = await cli(['push', file(), '--port', pty.host, '--baud', '921600']);
      expect(r.status, r.stderr).toBe(exit);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(msg);
      expect(bootState(flash)).toEqual(before);
    }, 60_000);
  }

  it('a valid image boots in the other slot (info says so, and so does the flash file)', async () => {
    expect(bootState(flash)).toMatchObject({ label: 'factory' });
    const r = await cli(['push', join(FIX, 'app_esp32.rsa.enc.bin'), '--port', pty.host, '--baud', '921600', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const result = jsonOf(r.stdout).at(-1)!;
    expect(result).toMatchObject({ type: 'result', ok: true, after: { boot: { slot: 'ota_0', version: '1.2.3-vector' } }, before: { running: { slot: 'factory' } } });
    expect(jsonOf(r.stdout).some((e) => e.type === 'baud' && e.baud === 921600)).toBe(true);
    const info = await cli(['info', '--port', pty.host, '--json']);
    expect(info.status).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ boot: { slot: 'ota_0', version: '1.2.3-vector' }, running: { slot: 'factory' } });
    expect(bootState(flash)).toMatchObject({ label: 'ota_0', version: '1.2.3-vector' });
  }, 60_000);

  it('after a reboot into it, the same or an older version is a downgrade (exit 22); the boot slot stays', async () => {
    expect((await cli(['reboot', '--port', pty.host])).status).toBe(0);
    const info = await cli(['info', '--port', pty.host, '--json', '--connect-timeout', '15']);
    expect(JSON.parse(info.stdout)).toMatchObject({ running: { slot: 'ota_0', version: '1.2.3-vector' } });
    const before = bootState(flash);
    const older = img('older.enc', encryptImage(buildAppImage({ version: '1.2.0' }), PUB));
    const r = await cli(['push', older, '--port', pty.host]);
    expect(r.status, r.stderr).toBe(22);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/older\.enc is older than the 1\.2\.3-vector the device runs; pass --allow-downgrade/);
    const same = await cli(['push', join(FIX, 'app_esp32.rsa.enc.bin'), '--port', pty.host]);
    expect(same.status).toBe(22);
    expect(same.stderr.trim().split('\n').at(-1)).toMatch(/the device already runs 1\.2\.3-vector, the same version as .*app_esp32\.rsa\.enc\.bin; pass --allow-downgrade to install it again/);
    expect(bootState(flash)).toEqual(before);
  }, 60_000);

  it('Ctrl-C mid-transfer aborts cleanly: exit 130, the device drops the update, the boot slot stays', async () => {
    const before = bootState(flash);
    const running = (JSON.parse((await cli(['info', '--port', pty.host, '--json'])).stdout) as { running: { version: string } }).running.version;
    const big = img('big.enc', encryptImage(buildAppImage({ version: '3.0.0', size: 96 * 1024 }), PUB));
    const host = cliProcess(['push', big, '--port', pty.host, '--baud', '115200', '--json']);
    for (let i = 0; i < 3000 && !/"acked":(\d{5,})/.test(host.output()); i++) await new Promise((r) => setTimeout(r, 10));
    const gone = new Promise<number | null>((r) => host.once('exit', (code) => r(code)));
    host.kill('SIGINT');
    expect(await gone).toBe(130);
    expect(host.output()).toMatch(/aborting \(the device keeps its current firmware\)/);
    expect(host.output()).toMatch(/"code":"ABORTED"/);
    expect(sim!.output()).toMatch(/abort/i);
    const info = JSON.parse((await cli(['info', '--port', pty.host, '--json'])).stdout) as { resumable: unknown; running: { version: string } };
    expect(info.resumable).toBeNull(); // ABORT dropped the session
    expect(info.running.version).toBe(running);
    expect(bootState(flash)).toEqual(before);
  }, 60_000);

  it('a truncated file never reaches the device (exit 4)', async () => {
    const r = await cli(['push', join(FIX, 'app_esp32.rsa.enc.truncated.bin'), '--port', pty.host]);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/truncated\.bin: encrypted image is truncated/);
  }, 30_000);
});

describe.skipIf(!haveSocat || !haveDist)('power loss: simulator and host killed half-way (kill -9), then run again', () => {
  let dir: string;
  let pty: PtyPair;
  let sim: Sim | undefined;

  beforeAll(async () => {
    dir = tempDir();
    pty = await ptyPair(dir);
  }, 30_000);
  afterAll(async () => {
    await stopSim(sim);
    await pty?.stop();
  });

  it('the second push resumes above zero and the image boots', async () => {
    const flash = join(dir, 'flash.bin');
    const image = join(dir, 'big.enc');
    writeFileSync(image, encryptImage(buildAppImage({ version: '2.0.0', size: 160 * 1024 }), PUB));
    sim = await startSim(pty.dev, flash);
    const host = cliProcess(['push', image, '--port', pty.host, '--baud', '115200', '--json']);
    let acked = 0;
    for (let i = 0; i < 6000 && acked < 100 * 1024; i++) {
      const prog = jsonOf(host.output().split('\n').filter((l) => l.includes('"progress"')).join('\n')).at(-1);
      acked = Number(prog?.acked ?? 0);
      if (host.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(acked).toBeGreaterThan(100 * 1024);
    await stopSim(sim, 'SIGKILL');
    const hostGone = new Promise((r) => host.once('exit', r));
    host.kill('SIGKILL');
    await hostGone;
    expect(bootState(flash)).toMatchObject({ label: 'factory' }); // nothing half-written boots

    sim = await startSim(pty.dev, flash);
    const r = await cli(['push', image, '--port', pty.host, '--baud', '115200', '--json'], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const events = jsonOf(r.stdout);
    const result = events.at(-1)!;
    expect(result).toMatchObject({ ok: true, after: { boot: { version: '2.0.0' } } });
    expect(Number(result.resumeOffset)).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'resume')).toBe(true);
    expect(bootState(flash)).toMatchObject({ label: 'ota_0', version: '2.0.0' });
  }, 180_000);
});
