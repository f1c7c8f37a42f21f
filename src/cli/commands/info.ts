/** `ota-uart info --port PORT`: what the device is, what runs, what boots next, what is pending. */
import type { Argv, CommandModule } from 'yargs';
import { OtaError } from '../../errors.js';
import type { DeviceCommandOptions, DeviceSummary } from '../../session/index.js';
import { deviceInfo } from '../../session/index.js';
import { emit, table } from '../output.js';
import { aboutPort, DEFAULT_BAUD, openerFor, type PortArgs, singlePort, withPortOptions } from '../port-opener.js';
import { formatBytes } from '../push-reporter.js';
import { runInterruptible } from '../terminal.js';

export interface DeviceArgs extends PortArgs {
  json?: boolean;
  'connect-timeout'?: number;
}

export function withDeviceOptions<T>(y: Argv<T>): Argv<T & DeviceArgs> {
  return withPortOptions(y, (a) => a
    .option('connect-timeout', { type: 'number', default: 10, describe: 'seconds to look for the device' })
    .group(['connect-timeout'], 'Device connection:')
    .check((v) => {
      const t = v['connect-timeout'];
      if (t !== undefined && !(typeof t === 'number' && t > 0)) throw new OtaError('USAGE', `--connect-timeout must be a positive number of seconds, got ${String(t)}`);
      return true;
    })) as unknown as Argv<T & DeviceArgs>;
}

/** Opens the one port of a device command, runs `fn` with Ctrl-C wired up, and closes it. */
export async function withDevicePort<T>(args: DeviceArgs, command: string, fn: (o: DeviceCommandOptions) => Promise<T>): Promise<{ port: string; value: T }> {
  const port = await openerFor(singlePort(args, command), args);
  try {
    const value = await runInterruptible((signal) =>
      fn({ open: port.open, portLabel: port.label, signal, connectTimeoutMs: (args['connect-timeout'] ?? 10) * 1000, alsoTryBaud: DEFAULT_BAUD }),
    );
    return { port: port.label, value };
  } catch (e) {
    throw aboutPort(port.label, e);
  } finally {
    await port.dispose();
  }
}

export function formatInfo(d: DeviceSummary, label: string): string {
  const lines = [
    `${label}: ${d.chip} ${d.chipRevision}, protocol ${d.protocol}, window ${formatBytes(d.window)}, frames up to ${d.maxFrame} B, up to ${d.maxBaud || '?'} baud`,
    table([
      ['running', `${d.project ? `${d.project} ` : ''}${d.running.version || '?'} (${d.running.slot}${d.pendingVerify ? ', PENDING VERIFY: run `ota-uart confirm` or `ota-uart rollback`' : ''})`],
      ['set to boot', `${d.boot.version || '?'} (${d.boot.slot})`],
      ['next update goes to', d.target ?? 'none'],
      ['rollback', d.rollback ? 'enabled' : 'disabled'],
      ['anti-rollback', d.antiRollback ? `enabled (eFuse secure_version ${d.efuseSecureVersion})` : 'disabled'],
      ['resumable update', d.resumable ? `${formatBytes(d.resumable.offset)} of ${formatBytes(d.resumable.total)} (image ${d.resumable.imageId.slice(0, 16)}...)` : undefined],
    ], '  '),
    '  partitions:',
    ...d.partitions.map((p) => `    ${p.slot.padEnd(8)} 0x${p.offset.toString(16).padStart(6, '0')} ${formatBytes(p.size).padStart(9)}  ${p.valid ? (p.version || '(no version)') : '(empty or invalid)'}${p.state && p.state !== 'undefined' ? `  [${p.state}]` : ''}`),
  ];
  return lines.join('\n');
}

export const infoCommand: CommandModule<object, DeviceArgs> = {
  command: 'info',
  describe: 'Show the device: chip, partitions, running app, the app set to boot, pending state',
  builder: (y) =>
    withDeviceOptions(y)
      .example('$0 info --port /dev/ttyUSB0', 'what runs, what boots next, which slot the next update goes to')
      .example('$0 info --port /dev/ttyUSB0 --json', 'the same as one JSON document')
      .example('$0 info --port sim --sim-flash flash.bin', 'the built-in simulated ESP32 with its flash kept in flash.bin'),
  handler: async (args) => {
    const { port, value: d } = await withDevicePort(args, 'info', deviceInfo);
    emit(args.json, { port, ...d }, () => formatInfo(d, port));
  },
};
