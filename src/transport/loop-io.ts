/**
 * Serial reads and writes on the event-loop thread instead of libuv's thread pool.
 *
 * @serialport/bindings-cpp 13.0.0 moves every read and every write through fs.read/fs.write, i.e.
 * through the thread pool: a queue lock, a futex wake, a switch to a pool thread and back, per call,
 * a few thousand of each per MiB. The port's fd is opened O_NONBLOCK (serialport_unix.cpp), so
 * read() and write() on it never block: readSync and writeSync return at once, or fail with EAGAIN
 * when there is nothing to read or no room, which unixRead/unixWrite already answer by waiting on
 * the poller (the same path the pool version takes). Node's own tty and pipe streams do their I/O
 * on the loop thread the same way. The engine bench (scripts/bench/engine.ts) runs both side by
 * side over a pty: on a 2-core VM the loop thread gave 1.37x the speed at 0.54x the host's CPU
 * per MB and 0.69x the simulator's.
 *
 * Reads go through hangup-fix.ts, which already wraps unixRead and takes its base read from
 * baseReadFor(); writes are patched here, through the module's exports like hangup-fix.ts
 * (linux.js/darwin.js and unixWrite's own retry call it that way); package.json pins bindings-cpp
 * exactly. A port whose fd /proc shows as blocking after all keeps the pool path, and
 * OTA_UART_POOL_IO=1 keeps it everywhere.
 */
import { read, readFileSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

export type ReadResult = { bytesRead: number; buffer: Buffer };
export type ReadFn = (fd: number, buffer: Buffer, offset: number, length: number, position: null) => Promise<ReadResult>;
type WriteResult = { bytesWritten: number; buffer: Buffer };
type WriteFn = (fd: number, buffer: Buffer, offset: number, length: number) => Promise<WriteResult>;

const O_NONBLOCK = 0o4000; // Linux (and the value /proc/self/fdinfo reports in octal)

/**
 * True unless /proc says the fd blocks. Where there is no /proc (macOS), bindings-cpp's own
 * open() flags are the evidence.
 */
export function fdIsNonBlocking(fd: number, fdinfo: (fd: number) => string | undefined = readFdinfo): boolean {
  const info = fdinfo(fd);
  if (info === undefined) return true;
  const m = /^flags:\s*([0-7]+)/m.exec(info);
  return m ? (parseInt(m[1]!, 8) & O_NONBLOCK) !== 0 : false;
}

function readFdinfo(fd: number): string | undefined {
  try {
    return readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** read() on the loop thread. Errors (EAGAIN included) reject, as fs.read's callback would. */
export const readNow: ReadFn = (fd, buffer, offset, length, position) => {
  try {
    return Promise.resolve({ bytesRead: readSync(fd, buffer, offset, length, position), buffer });
  } catch (e) {
    return Promise.reject(e);
  }
};

/** write() on the loop thread; a short write resolves with what was taken (unixWrite writes the rest). */
export const writeNow: WriteFn = (fd, buffer, offset, length) => {
  try {
    return Promise.resolve({ bytesWritten: writeSync(fd, buffer, offset, length), buffer });
  } catch (e) {
    return Promise.reject(e);
  }
};

/** The part of a bindings-cpp port binding this module needs. */
interface FdBinding {
  fd?: number | null;
}

const verdicts = new WeakMap<object, { fd: number; ok: boolean }>();

/** Whether this binding's current fd may be used from the loop thread (checked once per open fd). */
export function loopIoFor(binding: FdBinding, check: (fd: number) => boolean = fdIsNonBlocking): boolean {
  const fd = binding.fd;
  if (typeof fd !== 'number') return false;
  const v = verdicts.get(binding);
  if (v && v.fd === fd) return v.ok;
  const ok = check(fd);
  verdicts.set(binding, { fd, ok });
  return ok;
}

let wanted: boolean | undefined;

/** False when OTA_UART_POOL_IO=1 asks for bindings-cpp's own thread-pool I/O (read once: env lookups are slow). */
export function loopIoWanted(): boolean {
  wanted ??= process.env['OTA_UART_POOL_IO'] !== '1';
  return wanted;
}

const readAsync = promisify(read) as unknown as ReadFn;

/** The read() a port's reads should use: on the loop thread when allowed, else through the pool. */
export function baseReadFor(binding: FdBinding): ReadFn {
  return loopIoWanted() && loopIoFor(binding) ? readNow : readAsync;
}

let applied = false;

/**
 * Patches bindings-cpp's unixWrite once per process to write from the loop thread (unless a caller
 * passed its own write function, or the port's fd is not non-blocking). Reads go through
 * hangup-fix.ts, which already wraps unixRead and takes its base read from baseReadFor().
 */
export function applyLoopIoWrites(): boolean {
  if (applied) return true;
  if (!loopIoWanted()) return false;
  const require = createRequire(import.meta.url);
  const wr = require('@serialport/bindings-cpp/dist/unix-write') as { unixWrite: (o: WriteOptions) => Promise<unknown>; __otaUartLoopIo?: boolean };
  if (!wr.__otaUartLoopIo) {
    const original = wr.unixWrite;
    wr.unixWrite = (o: WriteOptions) => original(o.fsWriteAsync || !loopIoFor(o.binding) ? o : { ...o, fsWriteAsync: writeNow });
    wr.__otaUartLoopIo = true;
  }
  applied = true;
  return true;
}

interface WriteOptions {
  binding: FdBinding;
  fsWriteAsync?: WriteFn;
  [k: string]: unknown;
}
