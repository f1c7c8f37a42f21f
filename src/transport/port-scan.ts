/**
 * Serial port discovery without udev. serialport's Linux `list()` spawns `udevadm info -e` and
 * rejects with "spawn udevadm ENOENT" where udev is not installed (containers, minimal images,
 * this project's CI). Then we look for /dev/ttyUSB* and /dev/ttyACM* ourselves and read the USB
 * ids from sysfs: /sys/class/tty/<name>/device points into the USB interface directory, and the
 * USB device directory holding idVendor/idProduct is one level up (ACM) or two (usb-serial).
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bridgeHint, normalizeId } from './usb-hints.js';

export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  /** Lowercase hex, 4 digits ("10c4"). */
  vendorId?: string;
  productId?: string;
  /** What the USB ids suggest ("Silicon Labs CP210x ..."), when we recognise them. */
  hint?: string;
}

export interface ScanOptions {
  /** Default /dev. */
  devDir?: string;
  /** Default /sys/class/tty. */
  sysTtyDir?: string;
}

const USB_TTY = /^tty(USB|ACM)\d+$/;
/** How far up from the tty's device link we look for the USB device directory. */
const MAX_LEVELS = 4;

export async function scanSerialPorts(opts: ScanOptions = {}): Promise<PortInfo[]> {
  const devDir = opts.devDir ?? '/dev';
  const sysTtyDir = opts.sysTtyDir ?? '/sys/class/tty';
  const names = (await readdir(devDir).catch(() => [] as string[])).filter((n) => USB_TTY.test(n));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return Promise.all(names.map((name) => describePort(join(devDir, name), join(sysTtyDir, name, 'device'))));
}

async function describePort(path: string, deviceLink: string): Promise<PortInfo> {
  const usbDir = await findUsbDevice(deviceLink);
  if (usbDir === undefined) return { path };
  const read = (f: string): Promise<string | undefined> =>
    readFile(join(usbDir, f), 'utf8').then((s) => s.trim() || undefined, () => undefined);
  const [vid, pid, manufacturer, serialNumber] = await Promise.all([
    read('idVendor'), read('idProduct'), read('manufacturer'), read('serial'),
  ]);
  const vendorId = normalizeId(vid);
  const productId = normalizeId(pid);
  const hint = bridgeHint(vendorId, productId);
  return {
    path,
    ...(manufacturer !== undefined && { manufacturer }),
    ...(serialNumber !== undefined && { serialNumber }),
    ...(vendorId !== undefined && { vendorId }),
    ...(productId !== undefined && { productId }),
    ...(hint !== undefined && { hint }),
  };
}

async function findUsbDevice(deviceLink: string): Promise<string | undefined> {
  let dir = await realpath(deviceLink).catch(() => undefined);
  for (let i = 0; dir !== undefined && i < MAX_LEVELS; i++) {
    const has = await readFile(join(dir, 'idVendor'), 'utf8').then(() => true, () => false);
    if (has) return dir;
    const up = dirname(dir);
    dir = up === dir ? undefined : up;
  }
  return undefined;
}
