/** The end of a push for people: a summary block for one device, a table for several. */
import type { DeviceRecord, PushResult } from '../session/index.js';
import { table } from './output.js';
import { formatBytes, formatRate } from './push-reporter.js';

export function formatPush(r: PushResult, image: string): string {
  const eff = r.baud > 0 ? ` (${(((r.bytesPerSecond * 10) / r.baud) * 100).toFixed(0)}% of the line rate)` : '';
  const next = r.after.rebooting
    ? r.device.rollback ? 'the device is rebooting into it; confirm it with `ota-uart confirm` once it runs, or it rolls back' : 'the device is rebooting into it'
    : 'it runs after the next reset (pass --reboot to reset now)';
  const transfer = r.alreadyInstalled
    ? 'nothing sent: the device installed this very image earlier and has not reset since (--fresh writes it again)'
    : `${formatBytes(r.bytesSent)} in ${r.seconds.toFixed(2)} s, ${formatRate(r.bytesPerSecond)} at ${r.baud} baud${eff}`;
  const head = r.alreadyInstalled
    ? `already installed on ${r.port ?? 'device'}: ${r.after.boot.version || '(new app)'} set to boot from ${r.after.boot.slot}`
    : `updated ${r.port ?? 'device'}: ${r.after.boot.version || '(new app)'} set to boot from ${r.after.boot.slot}`;
  return [
    head,
    table([
      ['image', `${image} (${formatBytes(r.bytes)})`],
      ['device', `${r.device.chip} ${r.device.chipRevision}, ${r.device.project || 'app'}`],
      ['before', `running ${r.before.running.version || '?'} from ${r.before.running.slot}`],
      ['transfer', transfer],
      ['resume offset', r.resumeOffset > 0 ? `${r.resumeOffset} (continued an earlier transfer)` : '0 (fresh start)'],
      ['retries', `${r.retries} (timeouts ${r.timeouts}, CRC errors ${r.crcErrors}, reconnects ${r.resyncs})`],
      ...(r.suggestedChunk !== undefined ? [['advice', chunkAdvice(r, r.suggestedChunk)] as [string, string]] : []),
      ['next', next],
    ], '  '),
  ].join('\n');
}

function chunkAdvice(r: PushResult, suggested: number): string {
  const share = Math.round((100 * r.retries) / Math.max(1, Math.ceil(r.bytesSent / Math.max(1, r.chunk))));
  return `${share}% of the ${r.chunk}-byte chunks were resent: the line is noisy. With --chunk ${suggested} each flipped bit costs less, and the window still covers the round trip (${Math.round(r.roundTripMs)} ms)`;
}

/** One row per device, then a count and each failure's message. */
export function formatDeviceTable(records: readonly DeviceRecord[]): string {
  const rows = records.map((r) => [
    r.port,
    r.ok ? 'ok' : r.code,
    r.device ? `${r.device.chip} ${r.device.chipRevision}` : '-',
    r.before ? `${r.before.running.version || '?'}${r.after ? ` -> ${r.after.boot.version}` : ''}` : '-',
    `${(r.durationMs / 1000).toFixed(1)} s`,
    String(r.retries),
    r.resumeOffset > 0 ? String(r.resumeOffset) : '-',
  ]);
  const head = ['PORT', 'RESULT', 'DEVICE', 'VERSION', 'TIME', 'RETRIES', 'RESUMED AT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const ok = records.filter((r) => r.ok).length;
  const failed = records.length - ok;
  return [
    fmt(head),
    ...rows.map(fmt),
    `${records.length} device${records.length === 1 ? '' : 's'}: ${ok} updated, ${failed} failed`,
    ...records.filter((r) => !r.ok).map((r) => `  ${r.port}: ${r.message ?? r.code}`),
  ].join('\n');
}
