/**
 * Workaround for a missed disconnect in @serialport/bindings-cpp 13.0.0 on Linux.
 *
 * When a tty hangs up (USB adapter unplugged, socat pty peer gone) the kernel makes read() return
 * 0 ("end of file") forever. bindings-cpp's unixRead treats 0 bytes as "try again" and calls
 * read() again at once, so a port that is only reading (a host waiting for an ACK) never learns
 * that the device is gone, and burns a CPU core in the loop. Whether a given unplug is noticed
 * depended on timing: only a read that was already waiting on the poller got the hang-up (as
 * EBADF) and reported it. Seen as a LINK_LOST test that failed about half of the time.
 *
 * Fix: on a 0-byte read, wait for the poller to call the port readable first. On a hung-up tty
 * poll reports POLLERR, which libuv turns into EBADF, which the stream reports as a disconnect; on
 * a healthy tty configured to return early (VMIN=0) it simply waits for data. If the poller says
 * readable and read() still returns 0, the port has hung up. Depends on the internal path
 * `dist/unix-read` (its recursion goes through the module's exports, so patching the export is
 * enough), which is why package.json pins bindings-cpp exactly.
 */
import { createRequire } from 'node:module';
import { baseReadFor, type ReadFn } from './loop-io.js';

/** The part of bindings-cpp's LinuxPortBinding the guard needs. */
export interface PolledBinding {
  fd?: number | null;
  poller?: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
}

interface UnixReadOptions {
  binding: PolledBinding;
  fsReadAsync?: ReadFn;
  [k: string]: unknown;
}

/** A read function for unixRead that never hands back a 0-byte read (see the file comment). */
export function hangupAwareRead(binding: PolledBinding, readFn: ReadFn = baseReadFor(binding)): ReadFn {
  return async (fd, buffer, offset, length, position) => {
    const first = await readFn(fd, buffer, offset, length, position);
    if (first.bytesRead > 0) return first;
    await new Promise<void>((resolve, reject) => {
      if (!binding.poller) { reject(hungUp()); return; }
      binding.poller.once('readable', (err) => (err ? reject(err) : resolve()));
    });
    const again = await readFn(fd, buffer, offset, length, position);
    if (again.bytesRead > 0) return again;
    throw hungUp();
  };
}

function hungUp(): Error {
  // Not EAGAIN/EINTR, and not `canceled`: the stream treats it as a disconnect.
  return Object.assign(new Error('the serial port hung up (read returned end of file)'), { code: 'EIO' });
}

let applied = false;

/** Patches bindings-cpp's unixRead once per process. */
export function applyHangupFix(): void {
  if (applied) return;
  const require = createRequire(import.meta.url);
  const mod = require('@serialport/bindings-cpp/dist/unix-read') as { unixRead: (o: UnixReadOptions) => Promise<unknown>; __otaUartFixed?: boolean };
  if (!mod.__otaUartFixed) {
    const original = mod.unixRead;
    mod.unixRead = (o: UnixReadOptions) => original({ ...o, fsReadAsync: o.fsReadAsync ?? hangupAwareRead(o.binding) });
    mod.__otaUartFixed = true;
  }
  applied = true;
}
