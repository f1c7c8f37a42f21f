/**
 * Bench results as data: rows, the derived columns (payload B/s, efficiency, ratio to ZMODEM,
 * share of the flash ceiling), the text table, the targets of issue 5 and the JSON document.
 * Pure functions, so the smoke test can check them without running anything.
 */

export const TOOLS = ['ota-uart', 'ota-uart-w1', 'ota-uart-flash', 'zmodem', 'xmodem1k'] as const;
export type Tool = (typeof TOOLS)[number];

export interface Row {
  tool: Tool;
  baud: number;
  latency_ms: number;
  ber: number;
  bytes: number;
  seconds: number;
  /** payload bytes / seconds */
  payload_bps: number;
  /** payload_bps / (baud / 10): the share of the 8N1 line rate */
  efficiency: number;
  /** efficiency / the matching ZMODEM row's efficiency */
  ratio_zmodem?: number;
  /**
   * ota-uart-flash: the fastest the simulated ESP32 can take this image with an infinitely fast
   * wire (its key unwrap, erases, programs, resume records and verification; bytes/s), the bare
   * flash figure (sequential 64 KiB erase + program), and payload_bps / min(line, ceiling).
   */
  flash_ceiling_bps?: number;
  flash_only_bps?: number;
  of_limit?: number;
  /** delivered bytes verified (sha256 of the received file; the app in the booting slot) */
  ok: boolean;
  note?: string;
  retries?: number;
  flipped_bits?: number;
}

export interface RowInput {
  tool: Tool;
  baud: number;
  latencyMs: number;
  ber: number;
  bytes: number;
  seconds: number;
  ok: boolean;
  note?: string;
  retries?: number;
  flippedBits?: number;
  flashCeiling?: number;
  flashOnly?: number;
}

export function makeRow(r: RowInput): Row {
  const payload = r.seconds > 0 ? r.bytes / r.seconds : 0;
  const line = r.baud / 10;
  const row: Row = {
    tool: r.tool, baud: r.baud, latency_ms: r.latencyMs, ber: r.ber, bytes: r.bytes,
    seconds: round(r.seconds, 3), payload_bps: Math.round(payload), efficiency: round(payload / line, 4), ok: r.ok,
  };
  if (r.flashCeiling !== undefined) {
    row.flash_ceiling_bps = Number.isFinite(r.flashCeiling) ? Math.round(r.flashCeiling) : 0;
    row.of_limit = round(payload / Math.min(line, r.flashCeiling), 4);
    if (r.flashOnly !== undefined) row.flash_only_bps = Math.round(r.flashOnly);
  }
  if (r.retries !== undefined) row.retries = r.retries;
  if (r.flippedBits !== undefined) row.flipped_bits = r.flippedBits;
  if (r.note) row.note = r.note;
  return row;
}

/** Fills ratio_zmodem for every row that has a ZMODEM row with the same baud, latency and BER. */
export function addZmodemRatios(rows: Row[]): void {
  for (const r of rows) {
    const z = rows.find((x) => x.tool === 'zmodem' && same(x, r));
    if (z && z.ok && z.efficiency > 0 && r.ok) r.ratio_zmodem = round(r.efficiency / z.efficiency, 3);
  }
}

export interface Target {
  name: string;
  ok: boolean;
  detail: string;
}

export interface EngineResult {
  /**
   * pty-pool: the pty run with serialport's thread-pool I/O (OTA_UART_POOL_IO=1), for comparison.
   * pty-wide: the pty run with the widest window the protocol allows (window 256 KiB, 4 KiB chunks).
   * pty-pair: pty-wide with the simulator on the second pty of a socat pty pair (earlier runs' setup).
   */
  link: 'memory' | 'pty' | 'pty-pool' | 'pty-wide' | 'pty-pair';
  /** The simulated device's receive window (HELLO_ACK.window) and the host's chunk. */
  window: number;
  chunk: number;
  bytes: number;
  seconds: number;
  mbps: number;
  host_cpu_s_per_mb: number;
  sim_cpu_s_per_mb: number;
  /** pty only: the socat process relaying between the host's pty and the simulator. */
  socat_cpu_s_per_mb?: number;
  /** pty only: share of all the machine's cores busy during the pushes (anything running, kernel included). */
  machine_busy?: number;
  /** pty only: the first push of the fresh host process (JIT-cold), MB/s: what a one-off `ota-uart push` gets. */
  first_push_mbps?: number;
  ok: boolean;
}

/** The targets of issue 5, judged on whatever rows were run (a target with no rows is skipped). */
export function judgeTargets(rows: Row[], engine: EngineResult[] = []): Target[] {
  const out: Target[] = [];
  const ota = rows.filter((r) => r.tool === 'ota-uart');
  const clean = ota.filter((r) => r.ber === 0 && r.baud >= 921600);
  if (clean.length > 0) {
    const worst = minBy(clean, (r) => (r.ok ? r.efficiency : -1));
    out.push({
      name: 'efficiency >= 0.95 at 921600 and 3 Mbaud, no errors',
      ok: clean.every((r) => r.ok && r.efficiency >= 0.95),
      detail: `lowest ${fmtEff(worst)} (${label(worst)})`,
    });
  }
  const noisy = ota.filter((r) => r.ber > 0);
  if (noisy.length > 0) {
    const worst = minBy(noisy, (r) => (r.ok ? r.efficiency : -1));
    out.push({
      name: 'efficiency >= 0.85 at BER 1e-5, exact image delivered',
      ok: noisy.every((r) => r.ok && r.efficiency >= 0.85),
      detail: `lowest ${fmtEff(worst)} (${label(worst)})`,
    });
  }
  const vsZ = ota.filter((r) => rows.some((z) => z.tool === 'zmodem' && same(z, r)));
  if (vsZ.length > 0) {
    const worst = minBy(vsZ, (r) => r.ratio_zmodem ?? -1);
    out.push({
      name: 'at least ZMODEM in every matching row',
      ok: vsZ.every((r) => (r.ratio_zmodem ?? 0) >= 1),
      detail: `lowest ratio ${worst.ratio_zmodem?.toFixed(3) ?? 'n/a'} (${label(worst)})`,
    });
  }
  // The engine's own speed is judged where the device's window is not the limit (pty-wide); the
  // default-window row is named beside it, so neither number hides the other.
  const wide = engine.find((e) => e.link === 'pty-wide');
  const narrow = engine.find((e) => e.link === 'pty');
  const judged = wide ?? narrow;
  if (judged) {
    const also = wide && narrow ? `; ${narrow.mbps.toFixed(1)} MB/s with the default ${narrow.window / 1024} KiB window` : '';
    const cfg = judged === wide ? ` (window ${judged.window / 1024} KiB, ${judged.chunk / 1024} KiB chunks)` : '';
    out.push({
      name: 'engine >= 10 MB/s over a pty, no pacing',
      ok: judged.ok && judged.mbps >= 10,
      detail: `${judged.mbps.toFixed(1)} MB/s${cfg}${also}`,
    });
  }
  const flash = rows.filter((r) => r.tool === 'ota-uart-flash' && r.ber === 0);
  if (flash.length > 0) {
    const worst = minBy(flash, (r) => (r.ok ? r.of_limit ?? 0 : -1));
    out.push({
      name: 'realistic flash: >= 0.95 of min(line rate, device ceiling)',
      ok: flash.every((r) => r.ok && (r.of_limit ?? 0) >= 0.95),
      detail: `lowest ${worst.of_limit?.toFixed(3) ?? 'n/a'} (${label(worst)})`,
    });
  }
  return out;
}

const COLUMNS = ['tool', 'baud', 'latency', 'BER', 'bytes', 'seconds', 'payload B/s', 'efficiency', 'vs ZMODEM', 'verified', 'notes'];

export function formatTable(rows: Row[]): string {
  const cells = rows.map((r) => [
    r.tool,
    String(r.baud),
    `${r.latency_ms} ms`,
    r.ber === 0 ? '0' : r.ber.toExponential(0),
    String(r.bytes),
    Number.isFinite(r.seconds) ? r.seconds.toFixed(2) : '-',
    r.payload_bps.toLocaleString('en-US'),
    r.efficiency.toFixed(3),
    r.ratio_zmodem !== undefined ? r.ratio_zmodem.toFixed(2) : '-',
    r.ok ? 'yes' : 'NO',
    notes(r),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (xs: string[]): string => xs.map((x, i) => (i >= 1 && i <= 9 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** The same table as GitHub markdown (README). */
export function formatMarkdown(rows: Row[]): string {
  const head = `| ${COLUMNS.join(' | ')} |\n|${COLUMNS.map((_, i) => (i >= 1 && i <= 8 ? ' ---: ' : ' --- ')).join('|')}|`;
  const body = rows.map((r) => `| ${[
    r.tool, r.baud, `${r.latency_ms} ms`, r.ber === 0 ? '0' : r.ber.toExponential(0), r.bytes,
    Number.isFinite(r.seconds) ? r.seconds.toFixed(2) : '-', r.payload_bps.toLocaleString('en-US'), r.efficiency.toFixed(3),
    r.ratio_zmodem !== undefined ? r.ratio_zmodem.toFixed(2) : '-', r.ok ? 'yes' : '**no**', notes(r),
  ].join(' | ')} |`);
  return [head, ...body].join('\n');
}

export function formatTargets(targets: Target[]): string {
  return targets.map((t) => `${t.ok ? 'MET   ' : 'MISSED'}  ${t.name}: ${t.detail}`).join('\n');
}

export interface BenchDocument {
  rows: Row[];
  targets: Target[];
  engine: EngineResult[];
  machine: { cpus: number; load_before: number; load_after: number; node: string };
}

export function toJson(doc: BenchDocument): string {
  return JSON.stringify(doc, null, 1);
}

function notes(r: Row): string {
  const n: string[] = [];
  if (r.of_limit !== undefined) {
    const bare = r.flash_only_bps ? ` (flash alone ${r.flash_only_bps.toLocaleString('en-US')})` : '';
    n.push(`device ceiling ${r.flash_ceiling_bps ? r.flash_ceiling_bps.toLocaleString('en-US') : 'inf'} B/s${bare}: ${r.of_limit.toFixed(3)} of min(line, device)`);
  }
  if (r.retries) n.push(`${r.retries} resent`);
  if (r.flipped_bits) n.push(`${r.flipped_bits} bits flipped`);
  if (r.note) n.push(r.note);
  return n.join('; ');
}

function same(a: Row, b: Row): boolean {
  return a.baud === b.baud && a.latency_ms === b.latency_ms && a.ber === b.ber;
}

function label(r: Row): string {
  return `${r.baud} baud, ${r.latency_ms} ms, BER ${r.ber}`;
}

function fmtEff(r: Row): string {
  return r.ok ? r.efficiency.toFixed(3) : 'a failed run';
}

function minBy<T>(xs: T[], f: (x: T) => number): T {
  return xs.reduce((a, b) => (f(b) < f(a) ? b : a));
}

function round(x: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}
