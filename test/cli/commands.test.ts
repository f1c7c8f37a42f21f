import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanSerialPorts } from '../../src/transport/port-scan.js';
import { listSerialPorts } from '../../src/transport/serial.js';
import { commands } from '../../src/cli/commands/index.js';
import { FakeBench, runCli, tempDir } from './harness.js';

let bench: FakeBench | undefined;
afterEach(() => { bench?.uninstall(); bench = undefined; });

describe('every command teaches with --help', () => {
  for (const c of commands) {
    const name = String(c.command).split(' ')[0]!;
    it(`${name} --help has a description and examples`, async () => {
      const r = await runCli([name, '--help']);
      expect(r.status).toBe(0);
      const text = r.stdout.join('\n');
      expect(text).toContain(`ota-uart ${name}`);
      expect(text).toMatch(/Examples:\n {2}ota-uart /);
    });
  }
});

describe('push --help says what resumes, and does not contradict itself', () => {
  it('Ctrl-C is not among the interruptions that resume: it sends ABORT, which drops the update', async () => {
    const r = await runCli(['push', '--help']);
    const text = r.stdout.join(' ').replace(/\s+/g, ' ');
    const resumes = /An interrupted push \(([^)]*)\) resumes/.exec(text);
    expect(resumes, 'the resume sentence').not.toBeNull();
    expect(resumes![1]).not.toMatch(/Ctrl-C/);
    expect(text).toMatch(/Ctrl-C aborts cleanly: the device drops the update/);
  });
});

describe('no --port: the built-in simulated ESP32, said out loud', () => {
  it('info without --port asks the simulator and says so on stderr', async () => {
    const dir = tempDir();
    const r = await runCli(['info', '--sim-flash', join(dir, 'flash.bin')]);
    expect(r.status).toBe(0);
    expect(r.stderr.join('\n')).toMatch(/no --port given: using the built-in simulated ESP32 \(--port sim\)/);
    expect(r.stdout.join('\n')).toMatch(/1\.0\.0-factory/);
  });
  it('--json stays machine-readable: no notice line, and the record names port sim', async () => {
    const dir = tempDir();
    const r = await runCli(['info', '--json', '--sim-flash', join(dir, 'flash.bin')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toEqual([]);
  });
});

describe('argument errors are exit 2 with a pointer to --help', () => {
  const cases: [string[], RegExp][] = [
    [[], /name a command/],
    [['pussh', 'x'], /Unknown argument|Did you mean push/],
    [['push'], /Not enough non-option arguments|image/],
    [['push', 'a.enc', '--port', 'X', '--baud', 'fast'], /--baud must be a positive whole number .*not a number/],
    [['push', 'a.enc', '--port', 'X', '--baud', '-5'], /--baud must be a positive whole number .*got -5/],
    [['push', 'a.enc', '--port', 'X', '--chunk', '0'], /--chunk must be a positive number/],
    [['push', 'a.enc', '--port', 'X', '--frame-chunks', '0'], /--frame-chunks must be a whole number of at least 1, got 0/],
    [['push', 'a.enc', '--port', 'X', '--frame-chunks', '2.5'], /--frame-chunks must be a whole number of at least 1, got 2.5/],
    [['push', 'a.enc', '--port', 'X', '--bogus'], /Unknown argument: bogus/],
    [['info', '--port', 'A', '--port', 'B'], /info talks to one device; got 2 ports/],
    [['station', 'a.enc'], /name the ports to watch with --ports/],
  ];
  for (const [argv, msg] of cases) {
    it(`ota-uart ${argv.join(' ')}`, async () => {
      const r = await runCli(argv);
      expect(r.status).toBe(2);
      expect(r.stderr).toHaveLength(1);
      expect(r.stderr[0]).toMatch(msg);
    });
  }
  it('--json errors are one JSON line on stderr', async () => {
    const r = await runCli(['info', '--port', 'A', '--port', 'B', '--json']);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stderr[0]!)).toMatchObject({ error: { code: 'USAGE', exitStatus: 2 } });
  });
});

describe('ota-uart info / confirm / rollback / reboot', () => {
  it('info shows running, boot and target slots; --json is one document', async () => {
    bench = new FakeBench().install();
    bench.plug('/dev/ttyUSB0', { runVersion: '3.1.4', rollback: true });
    const r = await runCli(['info', '--port', '/dev/ttyUSB0']);
    expect(r.status).toBe(0);
    const text = r.stdout.join('\n');
    expect(text).toMatch(/^\/dev\/ttyUSB0: ESP32 v3\.0, protocol 1/);
    expect(text).toMatch(/running: +fake_app 3\.1\.4 \(factory\)/);
    expect(text).toMatch(/next update goes to: ota_0/);
    const j = await runCli(['info', '--port', '/dev/ttyUSB0', '--json']);
    expect(JSON.parse(j.stdout.join('\n'))).toMatchObject({ port: '/dev/ttyUSB0', chip: 'ESP32', running: { version: '3.1.4' }, target: 'ota_0', rollback: true });
  });

  it('confirm and rollback settle a pending app; without one they are exit 25', async () => {
    bench = new FakeBench().install();
    const d = bench.plug('/dev/ttyUSB0', { pendingVerify: true, rollback: true });
    expect((await runCli(['confirm', '--port', '/dev/ttyUSB0'])).status).toBe(0);
    expect(d.pending).toBe(false);
    const again = await runCli(['confirm', '--port', '/dev/ttyUSB0']);
    expect(again.status).toBe(25);
    expect(again.stderr[0]).toMatch(/nothing to confirm on \/dev\/ttyUSB0/);
    const rb = await runCli(['rollback', '--port', '/dev/ttyUSB0']);
    expect(rb.status).toBe(25);
    d.pending = true;
    const ok = await runCli(['rollback', '--port', '/dev/ttyUSB0', '--json']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout.join('\n'))).toMatchObject({ port: '/dev/ttyUSB0', action: 'rollback', boot: 'factory' });
    expect((await runCli(['reboot', '--port', '/dev/ttyUSB0'])).stdout).toEqual(['/dev/ttyUSB0: rebooting']);
    expect(d.log.filter((t) => t === 'REBOOT')).toHaveLength(1);
  });
});

describe('ota-uart ports', () => {
  it('shows VID:PID and a hint for ESP bridges, USB ports only unless --all', async () => {
    bench = new FakeBench().install();
    bench.listed = [
      { path: '/dev/ttyS0' },
      { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', manufacturer: 'Silicon Labs', serialNumber: '0001', hint: 'Silicon Labs CP210x (common on ESP32 DevKits)' },
      { path: '/dev/ttyACM0', vendorId: '303a', productId: '1001', manufacturer: 'Espressif', hint: 'Espressif USB-Serial-JTAG (ESP32-C3/C6/S3/H2 built-in USB)' },
    ];
    const r = await runCli(['ports']);
    expect(r.status).toBe(0);
    expect(r.stdout[0]).toMatch(/^PORT +VID:PID +USB DEVICE +WHAT IT PROBABLY IS$/);
    expect(r.stdout[1]).toMatch(/^\/dev\/ttyUSB0 +10c4:ea60 +Silicon Labs, serial 0001 +Silicon Labs CP210x/);
    expect(r.stdout[2]).toMatch(/^\/dev\/ttyACM0 +303a:1001 +Espressif +Espressif USB-Serial-JTAG/);
    expect(r.stdout.join('\n')).not.toContain('ttyS0');
    expect((await runCli(['ports', '--all'])).stdout.join('\n')).toContain('/dev/ttyS0');
    const j = await runCli(['ports', '--json']);
    expect(JSON.parse(j.stdout.join('\n'))).toHaveLength(2);
  });

  it('shows an FTDI adapter\'s latency timer when it is above 1 ms (and in --json)', async () => {
    bench = new FakeBench().install();
    bench.listed = [
      { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6010', hint: 'FTDI FT2232 (ESP-Prog and JTAG boards)' },
      { path: '/dev/ttyUSB1', vendorId: '0403', productId: '6001', hint: 'FTDI FT232R' },
    ];
    bench.latencyTimers.set('/dev/ttyUSB0', 16);
    bench.latencyTimers.set('/dev/ttyUSB1', 1);
    const r = await runCli(['ports']);
    expect(r.stdout[1]).toMatch(/^\/dev\/ttyUSB0 .*FTDI FT2232 \(ESP-Prog and JTAG boards\); latency timer 16 ms \(1 ms is faster/);
    expect(r.stdout[2]).not.toMatch(/latency timer/);
    const j = JSON.parse((await runCli(['ports', '--json'])).stdout.join('\n')) as { path: string; latencyTimerMs?: number }[];
    expect(j.map((p) => p.latencyTimerMs)).toEqual([16, 1]);
  });

  it('says what to do when there is no port', async () => {
    bench = new FakeBench().install();
    const r = await runCli(['ports']);
    expect(r.status).toBe(0);
    expect(r.stdout[0]).toBe('no USB serial ports found.');
    expect(r.stdout.join('\n')).toMatch(/dmesg/);
  });

  it('the real lister does not crash without udevadm and reads USB ids from sysfs', async () => {
    // a fake /dev and /sys: ttyUSB0 -> usb-serial interface two levels below the USB device
    const root = tempDir();
    const dev = join(root, 'dev');
    const usb = join(root, 'sys/devices/pci0000:00/usb1/1-2');
    const intf = join(usb, '1-2:1.0/ttyUSB0');
    mkdirSync(dev, { recursive: true });
    mkdirSync(intf, { recursive: true });
    writeFileSync(join(dev, 'ttyUSB0'), '');
    writeFileSync(join(usb, 'idVendor'), '1a86\n');
    writeFileSync(join(usb, 'idProduct'), '55d4\n');
    writeFileSync(join(usb, 'manufacturer'), 'WCH\n');
    mkdirSync(join(root, 'sys/class/tty/ttyUSB0'), { recursive: true });
    symlinkSync(intf, join(root, 'sys/class/tty/ttyUSB0/device'));
    const failingUdev = () => Promise.reject(new Error('spawn udevadm ENOENT'));
    const ports = await listSerialPorts({ list: failingUdev, devDir: dev, sysTtyDir: join(root, 'sys/class/tty') });
    expect(ports).toEqual([{ path: join(dev, 'ttyUSB0'), manufacturer: 'WCH', vendorId: '1a86', productId: '55d4', hint: 'WCH CH9102 (common on ESP32 boards)' }]);
    expect(await scanSerialPorts({ devDir: join(root, 'nothing'), sysTtyDir: join(root, 'nothing') })).toEqual([]);
    // and on this machine (no udevadm here), the command itself runs
    const r = await runCli(['ports', '--all', '--json']);
    expect(r.status).toBe(0);
    expect(Array.isArray(JSON.parse(r.stdout.join('\n')))).toBe(true);
  });
});
