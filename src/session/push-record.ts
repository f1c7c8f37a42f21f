/**
 * One flat record per device and push, the same for `--json` results, `--report FILE` lines and
 * library callers of pushMany()/runStation(): where (port), which device (identity from its
 * HELLO_ACK), versions before and after, the outcome (stable error code and exit status), how long
 * it took and how hard the link was. Built from the push's own events, so a failed push still
 * says which device it was and what it ran.
 */
import { EXIT_STATUS, toOtaError, type ErrorCode } from '../errors.js';
import type { Reporter, ReportEvent } from '../reporter.js';
import type { DeviceSummary } from './device-summary.js';
import type { PushResult } from './push.js';

export interface DeviceRecord {
  port: string;
  ok: boolean;
  /** 'OK' or the OtaError code (see README "Exit codes"). */
  code: 'OK' | ErrorCode;
  exitStatus: number;
  /** The error message when the push failed. */
  message?: string;
  image?: string;
  /** Identity and state of the device as it answered HELLO (absent if it never answered). */
  device?: { chip: string; chipRevision: string; project: string; protocol: number };
  before?: { running: { slot: string; version: string }; boot: { slot: string; version: string } };
  /** What boots next after a successful push. */
  after?: { boot: { slot: string; version: string; secureVersion?: number } };
  durationMs: number;
  bytes?: number;
  /** Transfer of a successful push: bytes streamed in this run, line rate, effective rate. */
  bytesSent?: number;
  baud?: number;
  bytesPerSecond?: number;
  resumeOffset: number;
  /** The device had installed this image already (since its last reset): nothing was sent. */
  alreadyInstalled?: boolean;
  retries: number;
  timeouts: number;
  crcErrors: number;
  resyncs: number;
  /** A smaller --chunk for this line, when a successful push resent many chunks (chunk-advice.ts). */
  suggestedChunk?: number;
}

/**
 * Watches a push's events (passing them on to `next`) and remembers what a record needs even if
 * the push fails: the device identity from `hello` and the resume offset.
 */
export class RecordCollector implements Reporter {
  hello: DeviceSummary | undefined;
  resumeOffset = 0;
  retries = 0;
  constructor(private readonly next?: Reporter) {}
  event(e: ReportEvent): void {
    if (e.type === 'hello') this.hello = e.device;
    else if (e.type === 'resume' && this.resumeOffset === 0) this.resumeOffset = e.offset;
    else if (e.type === 'retry') this.retries++;
    this.next?.event(e);
  }
}

export function deviceRecord(
  port: string,
  outcome: { result: PushResult } | { error: unknown },
  c: RecordCollector,
  durationMs: number,
  image?: string,
): DeviceRecord {
  const d = c.hello;
  const base = {
    port,
    ...(image !== undefined && { image }),
    ...(d && {
      device: { chip: d.chip, chipRevision: d.chipRevision, project: d.project, protocol: d.protocol },
      before: { running: { slot: d.running.slot, version: d.running.version }, boot: { slot: d.boot.slot, version: d.boot.version } },
    }),
    durationMs: Math.round(durationMs),
  };
  if ('result' in outcome) {
    const r = outcome.result;
    return {
      ...base, ok: true, code: 'OK', exitStatus: 0,
      after: { boot: { slot: r.after.boot.slot, version: r.after.boot.version, secureVersion: r.after.boot.secureVersion } },
      bytes: r.bytes, bytesSent: r.bytesSent, baud: r.baud, bytesPerSecond: Math.round(r.bytesPerSecond), resumeOffset: r.resumeOffset, retries: r.retries, timeouts: r.timeouts, crcErrors: r.crcErrors, resyncs: r.resyncs,
      ...(r.alreadyInstalled && { alreadyInstalled: true }),
      ...(r.suggestedChunk !== undefined && { suggestedChunk: r.suggestedChunk }),
    };
  }
  const err = toOtaError(outcome.error);
  const num = (k: string): number => (typeof err.details[k] === 'number' ? (err.details[k] as number) : 0);
  return {
    ...base, ok: false, code: err.code, exitStatus: EXIT_STATUS[err.code], message: err.message,
    resumeOffset: c.resumeOffset, retries: Math.max(num('retries'), c.retries), timeouts: num('timeouts'), crcErrors: num('crcErrors'), resyncs: num('resyncs'),
  };
}
