/**
 * File access for the commands: clear INPUT_NOT_FOUND / OUTPUT_EXISTS / IO_ERROR errors naming the
 * file, and atomic writes (temporary file in the same directory, then link or rename) so that a
 * failed command never leaves a partial or unverified output behind.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OtaError } from '../errors.js';

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Reads a whole input file; `what` names it in errors ("input image", "key file"). */
export function readInputFile(path: string, what = 'input file', opts: { allowEmpty?: boolean } = {}): Buffer {
  const details = { file: path };
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') {
      throw new OtaError('INPUT_NOT_FOUND', `${what} not found: ${path}`, { details, cause: e });
    }
    throw new OtaError('INPUT_NOT_FOUND', `${what} cannot be read: ${path} (${errno(e) ?? 'error'})`, { details, cause: e });
  }
  if (st.isDirectory()) throw new OtaError('INPUT_NOT_FOUND', `${what} is a directory, expected a file: ${path}`, { details });
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    const why = errno(e) === 'EACCES' ? 'permission denied' : (errno(e) ?? 'error');
    throw new OtaError('INPUT_NOT_FOUND', `${what} cannot be read: ${path} (${why})`, { details, cause: e });
  }
  if (data.length === 0 && !opts.allowEmpty) throw new OtaError('INPUT_NOT_FOUND', `${what} is empty: ${path}`, { details });
  return data;
}

export function pathExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export function refuseExisting(path: string): void {
  if (pathExists(path)) {
    throw new OtaError('OUTPUT_EXISTS', `output already exists, not overwriting: ${path} (use --force to replace it)`, {
      details: { file: path },
    });
  }
}

export interface WriteOptions {
  /** Replace an existing file instead of failing with OUTPUT_EXISTS. */
  force?: boolean;
  /** File mode, e.g. 0o600 for private keys. */
  mode?: number;
}

/**
 * Writes `data` to `path` atomically. Without `force` the final step is link(2), which fails if
 * the target appeared meanwhile, so an existing file is never replaced, even in a race.
 */
export function writeFileAtomic(path: string, data: Uint8Array, opts: WriteOptions = {}): void {
  if (!opts.force) refuseExisting(path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const ioError = (e: unknown, doing: string): OtaError =>
    new OtaError('IO_ERROR', `cannot write ${path}: ${doing} failed (${errno(e) ?? (e as Error).message})`, {
      details: { file: path },
      cause: e,
    });
  try {
    const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    try {
      for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    safeUnlink(tmp);
    throw ioError(e, 'writing');
  }
  try {
    if (opts.force) {
      renameSync(tmp, path);
      return;
    }
    try {
      linkSync(tmp, path);
    } catch (e) {
      if (errno(e) === 'EEXIST') {
        throw new OtaError('OUTPUT_EXISTS', `output already exists, not overwriting: ${path}`, { details: { file: path } });
      }
      if (errno(e) !== 'EPERM' && errno(e) !== 'ENOTSUP') throw e;
      refuseExisting(path); // file system without hard links: check, then rename
      renameSync(tmp, path);
    }
  } catch (e) {
    throw e instanceof OtaError ? e : ioError(e, 'renaming');
  } finally {
    safeUnlink(tmp);
  }
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone (renamed) or never created
  }
}

export function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw new OtaError('IO_ERROR', `cannot create directory ${path} (${errno(e) ?? 'error'})`, { details: { file: path }, cause: e });
  }
}

/** Prefixes an OtaError's message with the file it concerns (one line names problem and file). */
export function aboutFile<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OtaError && !e.message.includes(path)) {
      throw new OtaError(e.code, `${path}: ${e.message}`, { details: { file: path, ...e.details }, cause: e.cause ?? e });
    }
    throw e;
  }
}
