/**
 * The events a push reports while it runs: one discriminated union on `type`, so a library user
 * can `switch (e.type)` and get typed fields. The CLI renders the same events as a progress bar,
 * plain lines, or NDJSON (`--json`), where each line is one of these objects (plus `port`).
 */
import type { DeviceSummary } from './device-summary.js';
import type { PushResult } from './push.js';

export type LogEvent = { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string };
/** The device answered HELLO: what it is and what it runs (before the update). */
export type HelloEvent = { type: 'hello'; device: DeviceSummary };
/** The line now runs at `baud` (after a confirmed switch). */
export type BaudEvent = { type: 'baud'; baud: number };
/** The device accepted BEGIN and starts from the beginning of the image (`offset` 512). */
export type BeginEvent = { type: 'begin'; offset: number; total: number; target: number };
/** The device accepted BEGIN and continues an earlier transfer from `offset`. */
export type ResumeEvent = { type: 'resume'; offset: number; total: number; target: number };
/** The device acknowledged everything below `acked` (file offset; `total` = file length). */
export type ProgressEvent = { type: 'progress'; acked: number; total: number; elapsedMs: number };
/**
 * A chunk is sent again: `lost` (a later one arrived, this one did not), `probe` (its resend went
 * unanswered for two round trips while credit allowed nothing else), or after a `timeout`. Or a
 * `request` (BEGIN, END) is sent again because the device said nothing for longer than it may
 * (`unanswered`; offset 0 for BEGIN, the file length for END).
 */
export type RetryEvent =
  | { type: 'retry'; offset: number; reason: 'lost' | 'probe' | 'timeout'; request?: undefined }
  | { type: 'retry'; offset: number; reason: 'unanswered'; request: 'BEGIN' | 'END' };
/** The device announced flash work (erase, or verification at the end) taking `ms`. */
export type BusyEvent = { type: 'busy'; ms: number; offset?: number; phase?: 'key' | 'write' | 'verify' };
/** The link or the session was lost; push() reconnects and resumes (attempt n). */
export type ResyncEvent = { type: 'resync'; reason: string; attempt: number };
/** The update succeeded. */
export type ResultEvent = { type: 'result'; ok: true } & PushResult;

export type PushEvent =
  | LogEvent
  | HelloEvent
  | BaudEvent
  | BeginEvent
  | ResumeEvent
  | ProgressEvent
  | RetryEvent
  | BusyEvent
  | ResyncEvent
  | ResultEvent;
