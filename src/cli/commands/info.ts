/** `ota-uart info --port PORT`: what the device is, what runs, what boots next, what is pending. */
import type { CommandModule } from 'yargs';
import { deviceInfo, type DeviceSummary } from '../../session/index.js';
import { emit, table } from '../output.js';
import { openerFor, type PortArgs, withPortOptions } from '../port-opener.js';
import { formatBytes } from '../push-reporter.js';
import { runInterruptible } from '../terminal.js';

export interface InfoArgs extends PortArgs { json?: boolean; 'connect-timeout'?: number }

export async function runInfo(args: InfoArgs): Promise<DeviceSummary> {
  const port = await openerFor(args);
  try {
    return await runInterruptible((signal) =>
      deviceInfo({ open: port.open, portLabel: port.label, signal, connectTimeoutMs: (args['connect-timeout'] ?? 10) * 1000 }),
    );
  } finally {
    await port.dispose();
  }
}

export function formatInfo(d: DeviceSummary, label: string): string {
  const lines = [
    `${label}: ${d.chip} ${d.chipRevision}, protocol ${d.protocol}, window ${formatBytes(d.window)}, frames up to ${d.maxFrame} B, up to ${d.maxBaud || '?'} baud`,
    table([
      ['running', `${d.running.version || '?'} (${d.running.slot}${d.pendingVerify ? ', PENDING VERIFY: run `ota-uart confirm` or `ota-uart rollback`' : ''})`],
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

export const infoCommand: CommandModule<object, InfoArgs> = {
  command: 'info',
  describe: 'Show the device: chip, partitions, running app, the app set to boot, pending state',
  builder: (y) =>
    withPortOptions(y)
      .option('connect-timeout', { type: 'number', default: 10, describe: 'seconds to look for the device' })
      .example('$0 info --port /dev/ttyUSB0', '')
      .example('$0 info --port /dev/ttyUSB0 --json', 'machine-readable'),
  handler: async (args) => {
    const d = await runInfo(args);
    emit(args.json, { port: args.port, ...d }, () => formatInfo(d, args.port));
  },
};
