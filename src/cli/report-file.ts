/**
 * `--report FILE`: one NDJSON line per device, appended, safe with several stations (processes)
 * writing the same file and with a station that crashes mid-shift.
 *
 * Why a line is never torn:
 * - The file is opened with O_APPEND, so the kernel moves to the end of the file and writes as one
 *   step: two processes appending at once cannot overwrite each other or land in the middle of
 *   each other's bytes (POSIX: "the file offset shall be set to the end of the file prior to each
 *   write", atomically with the write; Linux holds the inode lock for the whole write to a local
 *   regular file).
 * - Each record, newline included, goes out in ONE write() call from ONE buffer, never as parts (a
 *   stream could split it into chunks that interleave with another writer's). A short write (only
 *   possible when the disk is full) is not continued but reported as an error; readers skip a
 *   last line that has no newline.
 * - Records are kept far below 4 KiB (PIPE_BUF on Linux, also the page size): long messages are
 *   shortened. The kernel copies such a write in one piece; this also keeps the guarantee on a
 *   FIFO or a pipe, where POSIX promises atomicity only up to PIPE_BUF.
 * - A process killed (even with SIGKILL) between records leaves only whole lines: a write() either
 *   happened or did not. fdatasync after each record makes the line survive a power cut too.
 */
import { closeSync, fdatasyncSync, openSync, writeSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import { OtaError } from '../errors.js';

/** Largest record we write, in bytes. */
export const MAX_RECORD_BYTES = 3072;

export interface ReportFile {
  readonly path: string;
  append(record: Record<string, unknown>): void;
  close(): void;
}

export function openReportFile(path: string): ReportFile {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const what = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code;
    throw new OtaError('IO_ERROR', `cannot open report file ${path}: ${what}`, { details: { file: path }, cause: e });
  }
  const host = hostname();
  return {
    path,
    append(record) {
      const line = encodeRecord({ time: new Date().toISOString(), host, pid: process.pid, ...record });
      let n: number;
      try {
        n = writeSync(fd, line);
        fdatasyncSync(fd);
      } catch (e) {
        throw new OtaError('IO_ERROR', `cannot write report file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { details: { file: path }, cause: e });
      }
      if (n !== line.length) throw new OtaError('IO_ERROR', `report file ${path}: only ${n} of ${line.length} bytes written (disk full?)`, { details: { file: path } });
    },
    close() {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}

/** One line, newline included, at most MAX_RECORD_BYTES: long strings are shortened to fit. */
export function encodeRecord(record: Record<string, unknown>): Buffer {
  let line = Buffer.from(`${JSON.stringify(record)}\n`);
  for (let limit = 400; line.length > MAX_RECORD_BYTES && limit >= 25; limit = Math.floor(limit / 2)) {
    line = Buffer.from(`${JSON.stringify(record, (_k, v: unknown) => (typeof v === 'string' && v.length > limit ? `${v.slice(0, limit)}…` : v))}\n`);
  }
  if (line.length > MAX_RECORD_BYTES) {
    line = Buffer.from(`${JSON.stringify({ time: record.time, port: record.port, ok: record.ok, code: record.code, truncated: true })}\n`);
  }
  return line;
}
