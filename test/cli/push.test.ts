import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import { STATUS } from '../../src/protocol/index.js';
import { testImage } from '../session/rig.js';
import { FakeBench, runCli, tempDir, writeTemp } from './harness.js';

let dir: string;
let image: string;
let bench: FakeBench;

beforeAll(() => {
  dir = tempDir();
  image = writeTemp(dir, 'app.enc', testImage(30_000));
});

afterEach(() => bench?.uninstall());

function fresh(): FakeBench {
  bench = new FakeBench().install();
  return bench;
}

describe('ota-uart push (one device)', () => {
  it('updates the device and prints a summary with bytes, time, rate, retries, CRC errors and resume offset', async () => {
    const b = fresh();
    const dev = b.plug('/dev/ttyUSB0');
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB0']);
    expect(r.status).toBe(0);
    expect(dev.boot).toBe(1);
    const text = r.stderr.join('\n');
    expect(text).toMatch(/updated \/dev\/ttyUSB0: new set to boot from ota_0/);
    expect(text).toMatch(/transfer: +[\d.]+ KiB in [\d.]+ s, [\d.]+ (KiB|MiB)\/s at 921600 baud/);
    expect(text).toMatch(/resume offset: +0 \(fresh start\)/);
    expect(text).toMatch(/retries: +0 \(timeouts 0, CRC errors 0, reconnects 0\)/);
    expect(r.stdout).toEqual([]);
  });

  it('names an FTDI latency timer above 1 ms and how to set it, only where it matters', async () => {
    const b = fresh();
    b.plug('/dev/ttyUSB0');
    b.latencyTimers.set('/dev/ttyUSB0', 16);
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB0']);
    expect(r.status).toBe(0);
    const text = r.stderr.join('\n');
    expect(text).toMatch(/\/dev\/ttyUSB0 is an FTDI adapter with a 16 ms latency timer/);
    expect(text).toContain('echo 1 | sudo tee /sys/bus/usb-serial/devices/ttyUSB0/latency_timer');
    // 1 ms already, a low rate, or an adapter without the timer (CP210x, CH34x): nothing to say.
    for (const [ms, extra] of [[1, []], [16, ['--baud', '115200']], [undefined, []]] as const) {
      const c = fresh();
      c.plug('/dev/ttyUSB0');
      if (ms !== undefined) c.latencyTimers.set('/dev/ttyUSB0', ms);
      const q = await runCli(['push', image, '--port', '/dev/ttyUSB0', ...extra]);
      expect(q.status).toBe(0);
      expect(q.stderr.join('\n')).not.toMatch(/latency timer/);
    }
  });

  it('--json carries the latency-timer hint as an info log event', async () => {
    const b = fresh();
    b.plug('/dev/ttyUSB0');
    b.latencyTimers.set('/dev/ttyUSB0', 16);
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--json']);
    expect(r.status).toBe(0);
    expect(r.json[0]).toMatchObject({ type: 'log', level: 'info', port: '/dev/ttyUSB0' });
    expect(String(r.json[0]!.message)).toMatch(/16 ms latency timer/);
  });

  it('--json writes NDJSON events and one result record on stdout', async () => {
    const b = fresh();
    b.plug('/dev/ttyUSB0', { runVersion: '1.4.0' });
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--json']);
    expect(r.status).toBe(0);
    expect(r.json.length).toBe(r.stdout.length); // every line is JSON
    const types = r.json.map((e) => e.type);
    expect(types[0]).toBe('hello');
    expect(types).toContain('progress');
    expect(types.at(-1)).toBe('result');
    expect(r.json.every((e) => e.port === '/dev/ttyUSB0')).toBe(true);
    expect(r.json[0]).toMatchObject({ device: { chip: 'ESP32', running: { version: '1.4.0', slot: 'factory' } } });
    const result = r.json.at(-1)!;
    expect(result).toMatchObject({
      ok: true, code: 'OK', exitStatus: 0, port: '/dev/ttyUSB0', image,
      device: { chip: 'ESP32', chipRevision: 'v3.0', project: 'fake_app' },
      before: { running: { slot: 'factory', version: '1.4.0' } },
      after: { boot: { slot: 'ota_0', version: 'new' } },
      retries: 0, crcErrors: 0, resumeOffset: 0,
    });
    expect(result.imageId).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof result.durationMs).toBe('number');
  });

  it('a device refusal is one line naming the file, with its exit status; --json adds a failed result record', async () => {
    const cases: [number, string, number][] = [
      [STATUS.WRONG_KEY, 'WRONG_KEY', 5],
      [STATUS.AUTH_FAILED, 'AUTH_FAILED', 6],
      [STATUS.WRONG_CHIP, 'WRONG_CHIP', 21],
      [STATUS.DOWNGRADE, 'DOWNGRADE', 22],
      [STATUS.SECURE_VERSION, 'SECURE_VERSION', 23],
      [STATUS.TOO_LARGE, 'IMAGE_TOO_LARGE', 20],
    ];
    for (const [status, code, exit] of cases) {
      const b = fresh();
      const o = status === STATUS.AUTH_FAILED ? { endStatus: status } : status === STATUS.WRONG_CHIP || status === STATUS.DOWNGRADE || status === STATUS.SECURE_VERSION ? { earlyReject: { at: 1536, status } } : { beginStatus: status };
      b.plug('/dev/ttyUSB0', o);
      const r = await runCli(['push', image, '--port', '/dev/ttyUSB0']);
      expect(r.status, code).toBe(exit);
      const last = r.stderr.at(-1)!;
      expect(last).toMatch(/^ota-uart: /);
      expect(last).toContain('app.enc');
      const j = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--json']);
      expect(j.status).toBe(exit);
      expect(j.json.at(-1)).toMatchObject({ type: 'result', ok: false, code, exitStatus: exit, port: '/dev/ttyUSB0' });
      expect(JSON.parse(j.stderr.at(-1)!)).toMatchObject({ error: { code, exitStatus: exit } });
      b.uninstall();
    }
  });

  it('keeps going at the old rate when the device cannot switch baud, with a warning', async () => {
    const b = fresh();
    b.plug('/dev/ttyUSB0', { maxBaud: 0 });
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--baud', '2000000']);
    expect(r.status).toBe(0);
    expect(r.stderr.join('\n')).toMatch(/warning: the device does not (accept 2000000 baud|support baud switching)/);
    expect(r.stderr.join('\n')).toMatch(/at 115200 baud/);
  });

  it('a rate the adapter refuses: at open it is exit 13; for the transfer the push falls back with a warning', async () => {
    const b = fresh();
    b.plug('/dev/ttyUSB0');
    b.refusedBauds.add(250000);
    const atOpen = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--initial-baud', '250000']);
    expect(atOpen.status).toBe(13);
    expect(atOpen.stderr).toHaveLength(1);
    expect(atOpen.stderr[0]).toMatch(/the serial adapter on \/dev\/ttyUSB0 refused 250000 baud .*try a standard rate/);
    const onSwitch = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--baud', '250000']);
    expect(onSwitch.status).toBe(0);
    expect(onSwitch.stderr.join('\n')).toMatch(/warning: this serial adapter refused 250000 baud .*staying at 115200/);
    expect(onSwitch.stderr.join('\n')).toMatch(/at 115200 baud/);
  });

  it('appends one record per push to --report', async () => {
    const b = fresh();
    b.plug('/dev/ttyUSB0');
    const rep = join(dir, 'report.ndjson');
    expect((await runCli(['push', image, '--port', '/dev/ttyUSB0', '--report', rep])).status).toBe(0);
    expect((await runCli(['push', image, '--port', '/dev/ttyUSB0', '--report', rep])).status).toBe(0);
    const lines = readFileSync(rep, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ port: '/dev/ttyUSB0', ok: true, code: 'OK' });
    expect(typeof lines[0]!.time).toBe('string');
    expect(lines[0]!.host).toBeTruthy();
  });

  it('Ctrl-C aborts cleanly: ABORT reaches the device, exit 130, boot slot unchanged', async () => {
    const b = fresh();
    const dev = b.plug('/dev/ttyUSB0', { window: 1024 });
    // the device takes the session but never acknowledges data: the push is mid-transfer when the signal comes
    dev.dataDeaf = true;
    const p = runCli(['push', image, '--port', '/dev/ttyUSB0', '--json']);
    for (let i = 0; i < 500 && !dev.log.includes('DATA'); i++) await new Promise((r) => setTimeout(r, 2));
    process.emit('SIGINT');
    const sent = true;
    const r = await p;
    expect(sent).toBe(true);
    expect(r.status).toBe(130);
    expect(dev.log).toContain('ABORT');
    expect(dev.boot).toBe(0);
    expect(JSON.parse(r.stderr.at(-1)!)).toMatchObject({ error: { code: 'ABORTED', message: expect.stringMatching(/^\/dev\/ttyUSB0: aborted by the user/) } });
  });
});

describe('ota-uart push: bad input', () => {
  it('missing, empty, directory, plain-app, truncated and non-image files each give one line and their exit status', async () => {
    fresh().plug('/dev/ttyUSB0');
    const empty = writeTemp(dir, 'empty.enc', '');
    const sub = join(dir, 'adir');
    mkdirSync(sub, { recursive: true });
    const { buildAppImage } = await import('../../src/image/index.js');
    const plain = writeTemp(dir, 'app.bin', buildAppImage({ version: '1.0.0' }));
    const enc = readFileSync(image);
    const truncated = writeTemp(dir, 'trunc.enc', enc.subarray(0, enc.length - 100));
    const junk = writeTemp(dir, 'junk.enc', Buffer.alloc(2000, 0x41));
    const cases: [string, number, RegExp][] = [
      [join(dir, 'missing.enc'), 3, /encrypted image not found: .*missing\.enc/],
      [empty, 3, /encrypted image is empty: .*empty\.enc/],
      [sub, 3, /encrypted image is a directory, expected a file: .*adir/],
      [plain, 4, /app\.bin: not an encrypted image: .*encrypt it first with `ota-uart encrypt`/],
      [truncated, 4, /trunc\.enc: encrypted image is truncated/],
      [junk, 4, /junk\.enc: not an encrypted image: magic is 41414141/],
    ];
    for (const [file, exit, msg] of cases) {
      const r = await runCli(['push', file, '--port', '/dev/ttyUSB0']);
      expect(r.status, file).toBe(exit);
      expect(r.stderr, file).toHaveLength(1);
      expect(r.stderr[0]).toMatch(msg);
    }
    // nothing was sent to the device for any of them
    expect(bench.opens).toEqual([]);
  });

  it('an unreadable image (permissions) is exit 3 naming the file', async () => {
    if (process.getuid?.() === 0) return; // root reads anything; covered by the e2e test as an unprivileged user
    const f = writeTemp(dir, 'secret.enc', readFileSync(image));
    chmodSync(f, 0);
    const r = await runCli(['push', f, '--port', '/dev/ttyUSB0']);
    expect(r.status).toBe(3);
    expect(r.stderr[0]).toMatch(/cannot be read: .*secret\.enc \(permission denied\)/);
  });

  it('port errors from the serial layer keep their exit status and message', async () => {
    const b = fresh();
    b.openErrors.set('/dev/ttyBUSY', new OtaError('PORT_BUSY', 'serial port /dev/ttyBUSY is busy: is another program (a serial monitor, ModemManager) using it?'));
    b.openErrors.set('/dev/ttyPERM', new OtaError('PORT_PERMISSION', 'no permission to open serial port /dev/ttyPERM: add your user to the dialout group: sudo usermod -aG dialout $USER, then log in again'));
    b.openErrors.set('/dev/ttyBAUD', new OtaError('BAUD_UNSUPPORTED', 'the serial adapter on /dev/ttyBAUD refused 115200 baud'));
    for (const [port, exit] of [['/dev/ttyNONE', 10], ['/dev/ttyBUSY', 11], ['/dev/ttyPERM', 12], ['/dev/ttyBAUD', 13]] as const) {
      const r = await runCli(['push', image, '--port', port]);
      expect(r.status, port).toBe(exit);
      expect(r.stderr).toHaveLength(1);
      expect(r.stderr[0]).toContain(port);
    }
  });

  it('a device that never answers: exit 14, saying what was tried', async () => {
    const b = fresh();
    b.plug('/dev/ttyUSB0', { bootLog: 'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n' }).deaf = true;
    // deaf from the start, but the boot log is still printed on attach
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--connect-timeout', '1']);
    expect(r.status).toBe(14);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/no ota-uart device answered on \/dev\/ttyUSB0 at 115200 or 921600 baud: sent \d+ HELLO frames over 1\.0 s; got 57 bytes of non-protocol text \("rst:0x1 \(POWERON_RESET\)/);
  });
});
