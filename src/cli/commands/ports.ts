/** `ota-uart ports`: serial ports with USB ids and a hint for the bridges found on ESP32 boards. */
import type { CommandModule } from 'yargs';
import type { PortInfo } from '../../transport/serial.js';
import { emit } from '../output.js';
import { portBackend } from '../port-opener.js';

interface PortsArgs {
  all?: boolean;
  json?: boolean;
}

/** USB serial ports (those with a vendor id, or named like one) unless --all. */
export function interesting(p: PortInfo): boolean {
  return p.vendorId !== undefined || /tty(USB|ACM)\d+$|cu\.(usb|SLAB|wch)/i.test(p.path);
}

/** A port as `ports` shows it: with the adapter's latency timer where the OS has one (FTDI on Linux). */
export type ListedPort = PortInfo & { latencyTimerMs?: number };

export function formatPorts(ports: readonly ListedPort[], all: boolean): string {
  if (ports.length === 0) {
    return [
      all ? 'no serial ports found.' : 'no USB serial ports found.',
      'Plug the board in (a data cable, not a charge-only one). On Linux, `dmesg | tail` should show cp210x, ch341,',
      'ftdi_sio or cdc_acm attaching a ttyUSBn/ttyACMn; without them, install the driver or try another cable.',
      'Pseudo-terminals (socat, `ota-uart simulate`) are not listed: pass their path to --port. Try --port sim for the built-in simulator.',
    ].join('\n');
  }
  const rows = ports.map((p) => [
    p.path,
    p.vendorId !== undefined ? `${p.vendorId}:${p.productId ?? '????'}` : '-',
    [p.manufacturer, p.serialNumber !== undefined ? `serial ${p.serialNumber}` : undefined].filter(Boolean).join(', ') || '-',
    [p.hint, p.latencyTimerMs !== undefined && p.latencyTimerMs > 1 ? `latency timer ${p.latencyTimerMs} ms (1 ms is faster: README "Pushing")` : undefined].filter(Boolean).join('; '),
  ]);
  const head = ['PORT', 'VID:PID', 'USB DEVICE', 'WHAT IT PROBABLY IS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (c: string[]): string => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

export const portsCommand: CommandModule<object, PortsArgs> = {
  command: 'ports',
  describe: 'List serial ports, with USB VID:PID and a hint for ESP boards (CP210x, CH34x, FTDI, ESP USB-Serial-JTAG)',
  builder: (y) =>
    y
      .option('all', { type: 'boolean', default: false, describe: 'also list ports without USB ids (built-in UARTs ttyS*, ttyAMA*)' })
      .example('$0 ports', 'which /dev/ttyUSB* is the board?')
      .example('$0 ports --json', 'machine-readable')
      .epilog('Works without udev (containers, minimal images): ports are then found in /dev and their USB ids read from sysfs.'),
  handler: async (args) => {
    const backend = portBackend();
    const ports: ListedPort[] = (await backend.listPorts()).filter((p) => args.all || interesting(p)).map((p) => {
      const timer = backend.latencyTimer?.(p.path);
      return timer ? { ...p, latencyTimerMs: timer.ms } : p;
    });
    emit(args.json, ports, () => formatPorts(ports, !!args.all));
  },
};
