/** The matrix table and its one-line summary. */
import type { RowSummary } from './trial.js';

const COLS = ['row', 'trials', 'completed', 'refused ok', 'unverified boots', 'slot changes', 'mean retries', 'mean time', 'resumed', 'result'];

export function renderTable(rows: RowSummary[]): string {
  const cells = rows.map((r) => [
    r.name,
    String(r.trials),
    String(r.completed),
    r.kind === 'bad' ? `${r.refusedOk} ${r.expected ?? ''}` : '-',
    String(r.unverifiedBoot),
    String(r.slotChanges + r.falseSuccess),
    r.meanRetries.toFixed(1),
    `${r.meanSeconds.toFixed(2)} s ${r.clock}`,
    String(r.resumed),
    r.invariantsOk ? (r.ok ? 'ok' : 'FAIL') : 'INVARIANT',
  ]);
  const widths = COLS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (xs: string[]): string => xs.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(COLS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function summaryLine(target: string, seed: number, rows: RowSummary[], seconds: number): string {
  const trials = rows.reduce((a, r) => a + r.trials, 0);
  const broken = rows.filter((r) => !r.invariantsOk);
  const failed = rows.filter((r) => r.invariantsOk && !r.ok);
  const verdict = broken.length > 0 ? 'INVARIANT BROKEN' : failed.length > 0 ? 'FAIL' : 'PASS';
  const ub = rows.reduce((a, r) => a + r.unverifiedBoot, 0);
  const sc = rows.reduce((a, r) => a + r.slotChanges + r.falseSuccess, 0);
  const what = [...broken, ...failed].map((r) => r.name);
  return `faults ${verdict}: target ${target}, ${rows.length} rows, ${trials} trials, unverified boots ${ub}, slot changes ${sc}` +
    `${what.length ? `, failing rows: ${what.join(', ')}` : ''}; seed ${seed}; ${seconds.toFixed(0)} s`;
}
