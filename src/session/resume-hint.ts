/**
 * What a user most needs to hear after a push that failed part-way: that nothing is lost. The
 * device keeps its progress through a pulled cable, a reset or a power cut (SPEC §7), so running
 * the same command again resumes. Only failures of the link or the port qualify: a device that
 * refused the image (wrong key, tampered, downgrade, flash error) has dropped its progress and would
 * refuse it again, and Ctrl-C (ABORTED) sends ABORT, which drops it on purpose (SPEC §4.8).
 */
import { OtaError, type ErrorCode } from '../errors.js';
import { ENC_HEADER_SIZE } from '../image/index.js';

const LINK_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NO_DEVICE', 'LINK_LOST', 'TIMEOUT', 'PORT_NOT_FOUND', 'PORT_BUSY', 'PORT_PERMISSION', 'IO_ERROR',
]);

export interface PushProgress {
  /** Highest offset the device acknowledged in this push (0: none). */
  delivered: number;
  total: number;
  /** END went out: the device may have installed the image before the link failed. */
  endSent: boolean;
}

/** `e` with the resume hint appended (and `details.delivered`), or `e` unchanged. */
export function withResumeHint(e: unknown, p: PushProgress): unknown {
  if (!(e instanceof OtaError) || !LINK_FAILURES.has(e.code) || p.delivered <= ENC_HEADER_SIZE) return e;
  const hint = p.endSent
    ? 'every byte had been delivered and END sent: `ota-uart info` shows whether the device installed it'
    : `${kib(p.delivered)} of ${kib(p.total)} had reached the device; run the same command again to resume (the device keeps its progress)`;
  const out = new OtaError(e.code, `${e.message}; ${hint}`, {
    details: { ...e.details, delivered: p.delivered },
    cause: e.cause,
    disconnected: e.disconnected,
  });
  if (e.stack) out.stack = e.stack;
  return out;
}

function kib(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}
