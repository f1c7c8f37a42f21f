/**
 * loop-io.ts: serial reads and writes on the event-loop thread. The pure parts (the fdinfo check,
 * the per-port cache) with fakes; the assumption it rests on (bindings-cpp opens the port
 * O_NONBLOCK, so readSync/writeSync never block) and the two I/O functions on a real pty.
 */
import { constants, closeSync, openSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fdIsNonBlocking, loopIoFor, loopIoWanted, readNow, writeNow } from '../../src/transport/loop-io.js';
import { openSerialTransport, type SerialTransport } from '../../src/transport/serial.js';
import { hasSocat, startPtyPair, type PtyPair } from './pty-pair.js';

describe('fdIsNonBlocking', () => {
  it('reads O_NONBLOCK (04000) from the octal flags line of /proc/self/fdinfo', () => {
    expect(fdIsNonBlocking(7, () => 'pos:\t0\nflags:\t04104002\nmnt_id:\t30\n')).toBe(true);
    expect(fdIsNonBlocking(7, () => 'pos:\t0\nflags:\t0100002\nmnt_id:\t30\n')).toBe(false);
  });

  it('says false when the flags cannot be read from fdinfo, true when there is no /proc at all', () => {
    expect(fdIsNonBlocking(7, () => 'pos:\t0\n')).toBe(false);
    expect(fdIsNonBlocking(7, () => undefined)).toBe(true);
  });
});

describe('loopIoFor', () => {
  it('checks each open fd of a port once, and again when the port is reopened on another fd', () => {
    const checked: number[] = [];
    const check = (fd: number): boolean => { checked.push(fd); return fd !== 9; };
    const binding: { fd?: number | null } = { fd: 5 };
    expect(loopIoFor(binding, check)).toBe(true);
    expect(loopIoFor(binding, check)).toBe(true);
    binding.fd = 9;
    expect(loopIoFor(binding, check)).toBe(false);
    binding.fd = null; // closed
    expect(loopIoFor(binding, check)).toBe(false);
    expect(checked).toEqual([5, 9]);
  });

  it('is on unless OTA_UART_POOL_IO=1', () => {
    expect(loopIoWanted()).toBe(process.env['OTA_UART_POOL_IO'] !== '1');
  });
});

let pair: PtyPair | undefined;
const open: SerialTransport[] = [];
const fds: number[] = [];
afterEach(async () => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const t of open.splice(0)) await t.close();
  await pair?.dispose();
  pair = undefined;
});

/** The fds of this process that are open on `path` (Linux: /proc/self/fd). */
function fdsOn(path: string): number[] {
  const target = realpathSync(path);
  return readdirSync('/proc/self/fd').map(Number).filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === target;
    } catch {
      return false;
    }
  });
}

describe.skipIf(!hasSocat || process.platform !== 'linux')('on a real pty', () => {
  it('the port serialport opens is non-blocking (what makes readSync/writeSync safe on the loop thread)', async () => {
    pair = await startPtyPair();
    const before = new Set(fdsOn(pair.a));
    open.push(await openSerialTransport(pair.a, { baud: 115200 }));
    const mine = fdsOn(pair.a).filter((fd) => !before.has(fd));
    expect(mine).toHaveLength(1);
    expect(fdIsNonBlocking(mine[0]!)).toBe(true);
  });

  it('readNow rejects with EAGAIN at once when nothing is there, then reads what writeNow sent', async () => {
    pair = await startPtyPair();
    const flags = constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK;
    const a = openSync(pair.a, flags);
    const b = openSync(pair.b, flags);
    fds.push(a, b);
    const buf = Buffer.alloc(64);
    await expect(readNow(b, buf, 0, 64, null)).rejects.toMatchObject({ code: 'EAGAIN' });
    await expect(writeNow(a, Buffer.from('hello\n'), 0, 6)).resolves.toMatchObject({ bytesWritten: 6 });
    let got = 0;
    for (let i = 0; i < 100 && got === 0; i++) {
      got = await readNow(b, buf, 0, 64, null).then((r) => r.bytesRead, () => 0);
      if (got === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(buf.subarray(0, got).toString()).toBe('hello\n');
  });
});
