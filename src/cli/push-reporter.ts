/**
 * How a push looks to a person or a script. Three renderings of the same session events:
 * - a terminal: a live progress bar (bytes, rate, ETA, retries) on stderr;
 * - a pipe or a log: plain lines (every 10 %, and every retry burst, resume, warning);
 * - --json: NDJSON, one event per line on stdout (progress at most every 200 ms), for scripts.
 */
import cliProgress from 'cli-progress';
import type { Reporter, ReportEvent } from '../reporter.js';

export interface PushReporterOptions {
  json: boolean;
  tty: boolean;
  /** Line-oriented output (stdout for --json, stderr for human progress). */
  out: (line: string) => void;
  stream?: NodeJS.WritableStream;
  now: () => number;
  label?: string;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function createPushReporter(o: PushReporterOptions): Reporter & { stop(): void } {
  const prefix = o.label ? `[${o.label}] ` : '';
  if (o.json) {
    let lastProgress = -Infinity;
    return {
      event(e: ReportEvent) {
        if (e.type === 'progress') {
          const t = o.now();
          if (t - lastProgress < 200 && e.acked !== e.total) return;
          lastProgress = t;
        }
        if (e.type === 'result') return; // the command prints the final result itself
        o.out(JSON.stringify({ ...e, port: o.label }));
      },
      stop() {},
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  let retries = 0;
  let nextPct = 10;
  let startAcked = 0;
  let startTime = 0;
  return {
    event(e: ReportEvent) {
      switch (e.type) {
        case 'log':
          bar?.stop(); bar = undefined;
          o.out(`${prefix}${e.level === 'warn' ? 'warning: ' : ''}${String(e.message)}`);
          break;
        case 'hello': {
          const d = e.device as { chip: string; chipRevision: string; running: { slot: string; version: string } };
          o.out(`${prefix}found ${d.chip} ${d.chipRevision}, running ${d.running.version || '(unknown)'} from ${d.running.slot}`);
          break;
        }
        case 'baud':
          o.out(`${prefix}switched to ${String(e.baud)} baud`);
          break;
        case 'begin':
        case 'resume': {
          const total = Number(e.total);
          startAcked = Number(e.offset);
          startTime = o.now();
          if (e.type === 'resume') o.out(`${prefix}resuming at ${formatBytes(startAcked)} of ${formatBytes(total)}`);
          if (o.tty && o.stream) {
            bar = new cliProgress.SingleBar({
              format: `${prefix}{bar} {percentage}% | {done}/{size} | {rate} | ETA {eta_formatted} | retries {retries}`,
              stream: o.stream, hideCursor: true, clearOnComplete: true, barsize: 30,
            }, cliProgress.Presets.shades_classic);
            bar.start(total, startAcked, { done: formatBytes(startAcked), size: formatBytes(total), rate: '-', retries });
          }
          break;
        }
        case 'progress': {
          const acked = Number(e.acked);
          const total = Number(e.total);
          const secs = (o.now() - startTime) / 1000;
          const rate = secs > 0 ? (acked - startAcked) / secs : 0;
          if (bar) {
            bar.update(acked, { done: formatBytes(acked), rate: `${formatBytes(Math.round(rate))}/s`, retries });
          } else if ((acked * 100) / total >= nextPct || acked === total) {
            o.out(`${prefix}${Math.floor((acked * 100) / total)}% ${formatBytes(acked)}/${formatBytes(total)} ${formatBytes(Math.round(rate))}/s retries ${retries}`);
            nextPct = Math.floor((acked * 100) / total / 10) * 10 + 10;
          }
          break;
        }
        case 'retry':
          retries++;
          break;
        case 'resync':
          bar?.stop(); bar = undefined;
          o.out(`${prefix}link interrupted (${String(e.reason)}); reconnecting to resume`);
          break;
        case 'busy':
          if (Number(e.ms) >= 1000) o.out(`${prefix}device busy (${e.phase === 'verify' ? 'verifying' : 'erasing flash'}) for about ${(Number(e.ms) / 1000).toFixed(1)} s`);
          break;
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
