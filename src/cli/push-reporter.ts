/**
 * How pushes look to a person or a script: three renderings of the same session events, for one
 * port or many at once.
 * - a terminal: live progress bars on stderr, one row per port (bytes, rate, ETA, retries), with
 *   messages printed above them;
 * - a pipe or a log: plain lines on stderr (every 10 %, each resume and warning), `[port]` first
 *   when there are several ports;
 * - --json: NDJSON on stdout, one event per line with its `port` (progress at most every 200 ms).
 */
import cliProgress from 'cli-progress';
import type { Reporter, ReportEvent } from '../reporter.js';

const BUSY_WHAT = { key: 'unwrapping the image key', write: 'erasing flash', verify: 'verifying' } as const;

export interface PushViewOptions {
  mode: 'json' | 'tty' | 'plain';
  /** Line output: stdout for --json, stderr for people. */
  out: (line: string) => void;
  /** The terminal stream the bars draw on (tty mode). */
  stream?: NodeJS.WritableStream;
  now: () => number;
  /** Prefix plain lines with [port] (several ports). */
  prefixPorts: boolean;
}

export interface PushView {
  reporterFor(port: string): Reporter;
  /** A line for people (not in --json mode), printed above any live bars. */
  say(line: string): void;
  stop(): void;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export function createPushView(o: PushViewOptions): PushView {
  let multi: cliProgress.MultiBar | undefined;
  const bars = (): cliProgress.MultiBar => {
    multi ??= new cliProgress.MultiBar({
      format: '{port} {bar} {percentage}% | {done}/{size} | {rate} | ETA {eta_formatted} | retries {retries}',
      stream: o.stream, hideCursor: true, clearOnComplete: false, stopOnComplete: false, barsize: 24, etaBuffer: 40,
    }, cliProgress.Presets.shades_classic);
    return multi;
  };
  const say = (line: string): void => {
    if (o.mode === 'json') return;
    if (multi) multi.log(`${line}\n`);
    else o.out(line);
  };
  return {
    say,
    reporterFor(port) {
      if (o.mode === 'json') return jsonReporter(port, o);
      return humanReporter(port, o, say, o.mode === 'tty' ? bars : undefined);
    },
    stop() {
      multi?.stop();
      multi = undefined;
    },
  };
}

function jsonReporter(port: string, o: PushViewOptions): Reporter {
  let lastProgress = -Infinity;
  return {
    event(e: ReportEvent) {
      if (e.type === 'progress') {
        const t = o.now();
        if (t - lastProgress < 200 && e.acked !== e.total) return;
        lastProgress = t;
      }
      if (e.type === 'result' || e.type === 'device') return; // the command prints the records itself
      o.out(JSON.stringify({ ...e, port }));
    },
  };
}

function humanReporter(port: string, o: PushViewOptions, say: (l: string) => void, bars?: () => cliProgress.MultiBar): Reporter {
  const prefix = o.prefixPorts ? `[${port}] ` : '';
  const label = port.length > 18 ? `…${port.slice(-17)}` : port.padEnd(18);
  let bar: cliProgress.SingleBar | undefined;
  let retries = 0;
  let nextPct = 10;
  let startAcked = 0;
  let startTime = 0;
  const line = (text: string): void => say(`${prefix}${text}`);
  return {
    event(e: ReportEvent) {
      switch (e.type) {
        case 'log':
          line(`${e.level === 'warn' ? 'warning: ' : ''}${e.message}`);
          break;
        case 'hello':
          line(`found ${e.device.chip} ${e.device.chipRevision}, running ${e.device.running.version || '(unknown)'} from ${e.device.running.slot}`);
          break;
        case 'baud':
          line(`switched to ${e.baud} baud`);
          break;
        case 'begin':
        case 'resume':
          startAcked = e.offset;
          startTime = o.now();
          if (e.type === 'resume') line(`resuming at ${formatBytes(e.offset)} of ${formatBytes(e.total)}`);
          if (bars) {
            if (bar) bars().remove(bar);
            bar = bars().create(e.total, e.offset, { port: label, done: formatBytes(e.offset), size: formatBytes(e.total), rate: '-', retries });
          }
          break;
        case 'progress': {
          const secs = (o.now() - startTime) / 1000;
          const rate = secs > 0 ? (e.acked - startAcked) / secs : 0;
          if (bar) {
            bar.update(e.acked, { done: formatBytes(e.acked), rate: formatRate(rate), retries });
          } else if ((e.acked * 100) / e.total >= nextPct || e.acked === e.total) {
            line(`${Math.floor((e.acked * 100) / e.total)}% ${formatBytes(e.acked)}/${formatBytes(e.total)} ${formatRate(rate)} retries ${retries}`);
            nextPct = Math.floor((e.acked * 100) / e.total / 10) * 10 + 10;
          }
          break;
        }
        case 'retry':
          retries++;
          bar?.update({ retries });
          break;
        case 'resync':
          line(`link interrupted (${e.reason}); reconnecting to resume`);
          break;
        case 'busy':
          if (e.ms >= 1000) line(`device busy (${BUSY_WHAT[e.phase ?? 'write']}) for about ${(e.ms / 1000).toFixed(1)} s`);
          break;
        default:
          break;
      }
    },
  };
}
