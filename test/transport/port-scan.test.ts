/**
 * `ota-uart ports` without udev: a fake /dev and sysfs tree laid out like Linux's (usb-serial
 * ttyUSB under the interface, two levels below the USB device; cdc-acm ttyACM one level), the real
 * machine (no udevadm here: must not crash), and the bridge hints.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanSerialPorts } from '../../src/transport/port-scan.js';
import { listSerialPorts } from '../../src/transport/serial.js';
import { bridgeHint, normalizeId } from '../../src/transport/usb-hints.js';

const root = mkdtempSync(join(tmpdir(), 'ota-uart-scan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** /sys/devices/.../usbN/<dev>/<dev>:1.0[/ttyUSBk] with idVendor/idProduct in <dev>. */
function fakeUsb(name: string, usbDev: string, vid: string, pid: string, extra: Record<string, string>, viaPort: boolean): void {
  const dev = join(root, 'sys/devices/pci0000:00/usb1', usbDev);
  const iface = join(dev, `${usbDev}:1.0`);
  const target = viaPort ? join(iface, name) : iface;
  mkdirSync(target, { recursive: true });
  writeFileSync(join(dev, 'idVendor'), `${vid}\n`);
  writeFileSync(join(dev, 'idProduct'), `${pid}\n`);
  for (const [k, v] of Object.entries(extra)) writeFileSync(join(dev, k), `${v}\n`);
  mkdirSync(join(root, 'sys/class/tty', name), { recursive: true });
  symlinkSync(target, join(root, 'sys/class/tty', name, 'device'));
  writeFileSync(join(root, 'dev', name), '');
}

mkdirSync(join(root, 'dev'), { recursive: true });
fakeUsb('ttyUSB0', '1-1', '10c4', 'ea60', { manufacturer: 'Silicon Labs', serial: '0001' }, true);
fakeUsb('ttyUSB1', '1-2', '1a86', '7523', {}, true);
fakeUsb('ttyACM0', '1-3', '303a', '1001', { manufacturer: 'Espressif' }, false);
fakeUsb('ttyUSB10', '1-4', '0403', '6010', {}, true);
writeFileSync(join(root, 'dev', 'ttyUSB2'), ''); // no sysfs entry: listed without ids
writeFileSync(join(root, 'dev', 'ttyS0'), ''); // not USB: not listed
writeFileSync(join(root, 'dev', 'null'), '');

describe('scanSerialPorts (no udev)', () => {
  it('lists USB ttys in natural order with VID:PID, strings and hints', async () => {
    const ports = await scanSerialPorts({ devDir: join(root, 'dev'), sysTtyDir: join(root, 'sys/class/tty') });
    expect(ports.map((p) => p.path.slice(root.length + 5))).toEqual(['ttyACM0', 'ttyUSB0', 'ttyUSB1', 'ttyUSB2', 'ttyUSB10']);
    const by = Object.fromEntries(ports.map((p) => [p.path.slice(root.length + 5), p]));
    expect(by['ttyUSB0']).toMatchObject({ vendorId: '10c4', productId: 'ea60', manufacturer: 'Silicon Labs', serialNumber: '0001', hint: expect.stringContaining('CP210x') });
    expect(by['ttyUSB1']).toMatchObject({ vendorId: '1a86', productId: '7523', hint: expect.stringContaining('CH340') });
    expect(by['ttyACM0']).toMatchObject({ vendorId: '303a', productId: '1001', hint: expect.stringContaining('USB-Serial-JTAG') });
    expect(by['ttyUSB10']).toMatchObject({ vendorId: '0403', productId: '6010', hint: expect.stringContaining('FTDI') });
    expect(by['ttyUSB2']).toEqual({ path: join(root, 'dev', 'ttyUSB2') });
  });

  it('returns an empty list for a missing /dev or sysfs instead of throwing', async () => {
    await expect(scanSerialPorts({ devDir: join(root, 'nope'), sysTtyDir: join(root, 'nope') })).resolves.toEqual([]);
  });
});

describe('listSerialPorts', () => {
  it('falls back to the scan when the udev lister fails (spawn udevadm ENOENT)', async () => {
    const enoent = Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' });
    const ports = await listSerialPorts({ list: () => Promise.reject(enoent), devDir: join(root, 'dev'), sysTtyDir: join(root, 'sys/class/tty') });
    expect(ports).toHaveLength(5);
  });

  it('normalises the ids udev reports and adds hints', async () => {
    const ports = await listSerialPorts({ list: async () => [{ path: '/dev/ttyUSB0', vendorId: '10C4', productId: 'EA60', manufacturer: 'Silicon Labs' }, { path: '/dev/ttyS0' }] });
    expect(ports).toEqual([
      { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', manufacturer: 'Silicon Labs', hint: expect.stringContaining('CP210x') },
      { path: '/dev/ttyS0' },
    ]);
  });

  it('on this machine (udevadm is missing here) it resolves instead of crashing', async () => {
    await expect(listSerialPorts()).resolves.toBeInstanceOf(Array);
  });
});

describe('usb hints', () => {
  it.each([
    ['10c4', 'ea60', 'CP210x'], ['1a86', '7523', 'CH340'], ['1a86', '55d4', 'CH9102'], ['0403', '6001', 'FT232R'],
    ['303a', '1001', 'USB-Serial-JTAG'], ['303a', '4001', 'Espressif native USB'], ['0403', 'ffff', 'FTDI'],
  ])('%s:%s -> %s', (vid, pid, want) => expect(bridgeHint(vid, pid)).toContain(want));

  it('knows nothing about other vendors, and normalises ids', () => {
    expect(bridgeHint('1d6b', '0002')).toBeUndefined();
    expect(bridgeHint(undefined, 'ea60')).toBeUndefined();
    expect(normalizeId('0x10C4')).toBe('10c4');
    expect(normalizeId('ea60\n')).toBe('ea60');
    expect(normalizeId('xyz')).toBeUndefined();
  });
});
