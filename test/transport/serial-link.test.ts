/**
 * The serial Transport on real ptys: a port that disappears, and ports that cannot be opened
 * (missing, dangling link, not a terminal, busy, bad baud). Needs socat for the pty cases.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import { openSerialTransport, type SerialTransport } from '../../src/transport/serial.js';
import { SOCAT_SKIP, hasSocat, startPtyPair, type PtyPair } from './pty-pair.js';

/** Settles `p`, or fails the test when it is still pending after `ms` (it would hang forever). */
async function settled<T>(p: Promise<T>, ms = 5000, what = 'operation'): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms); });
  try {
    return await Promise.race([p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  const r = await settled(p);
  if (r.ok) return 'resolved';
  return r.error instanceof OtaError ? r.error.code : `not an OtaError: ${String(r.error)}`;
};

const tmp = mkdtempSync(join(tmpdir(), 'ota-uart-serial-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let pair: PtyPair | undefined;
const open: SerialTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  await pair?.dispose();
  pair = undefined;
});

describe.skipIf(!hasSocat)('a port that disappears (socat killed)', () => {
  // Killed at once (the hang-up reaches the first read(), which returns 0) and after a while (the
  // read is waiting on the poller, which reports EBADF). Before hangup-fix.ts the first case was
  // never noticed: read() returned 0 in a busy loop.
  const runs = (['at once', 'after 50 ms'] as const).flatMap((when) => (['SIGTERM', 'SIGKILL'] as const).map((sig) => [sig, when] as const));
  it.each(runs)('%s %s: onClose gets LINK_LOST with disconnected=true; later writes reject instead of hanging', async (sig, when) => {
    pair = await startPtyPair();
    const t = await openSerialTransport(pair.a, { baud: 115200 });
    open.push(t);
    const lost = new Promise<OtaError>((resolve) => t.onClose(resolve));
    if (when !== 'at once') await new Promise((r) => setTimeout(r, 50));
    await pair.kill(sig);
    const r = await settled(lost, 5000, 'onClose');
    expect(r.ok).toBe(true);
    const err = (r as { value: OtaError }).value;
    expect(err).toBeInstanceOf(OtaError);
    expect(err.code).toBe('LINK_LOST');
    expect(err.disconnected).toBe(true);
    expect(err.message).toContain(pair.a);
    expect(t.isOpen).toBe(false);
    expect(await codeOf(t.write(Uint8Array.of(1, 2, 3)))).toBe('LINK_LOST');
    expect(await codeOf(t.drain())).toBe('LINK_LOST');
    expect(await codeOf(t.setBaud(921600))).toBe('LINK_LOST');
  });

  it('a write blocked by back-pressure when the port goes away rejects with LINK_LOST', async () => {
    pair = await startPtyPair();
    // Nobody reads end b: socat stops taking bytes from a once b's buffer is full, so a big write
    // stays pending in the stream.
    const t = await openSerialTransport(pair.a, { baud: 115200 });
    open.push(t);
    t.onClose(() => {});
    const pending = t.write(new Uint8Array(4 * 1024 * 1024).fill(0x55));
    const early = await Promise.race([pending.then(() => 'resolved', () => 'rejected'), new Promise((r) => setTimeout(() => r('pending'), 300))]);
    expect(early).toBe('pending');
    await pair.kill('SIGKILL');
    expect(await codeOf(pending)).toBe('LINK_LOST');
  });
});

describe('opening ports that cannot be used', () => {
  it('a missing path: PORT_NOT_FOUND naming the path and `ota-uart ports`', async () => {
    const p = join(tmp, 'ttyUSB9');
    const r = await settled(openSerialTransport(p, { baud: 115200 }));
    expect(r.ok).toBe(false);
    const e = (r as { error: OtaError }).error;
    expect(e.code).toBe('PORT_NOT_FOUND');
    expect(e.exitStatus).toBe(10);
    expect(e.message).toBe(`serial port ${p} does not exist; run \`ota-uart ports\` to list serial ports`);
  });

  it('a dangling link (a socat link after socat died): PORT_NOT_FOUND saying where it pointed', async () => {
    const link = join(tmp, 'dangling');
    symlinkSync('/dev/pts/9999', link);
    const e = (await settled(openSerialTransport(link, { baud: 115200 })) as { error: OtaError }).error;
    expect(e.code).toBe('PORT_NOT_FOUND');
    expect(e.message).toContain('is a link to /dev/pts/9999, which no longer exists');
  });

  it.each([
    ['a regular file', () => { const f = join(tmp, 'file'); writeFileSync(f, 'x'); return f; }, 'it is a regular file'],
    ['/dev/null (a device, not a terminal)', () => '/dev/null', 'it is a device that is not a terminal'],
  ])('%s: PORT_NOT_FOUND "not a serial port"', async (_n, make, what) => {
    const p = make();
    const e = (await settled(openSerialTransport(p, { baud: 921600 })) as { error: OtaError }).error;
    expect(e.code).toBe('PORT_NOT_FOUND');
    expect(e.message).toBe(`${p} is not a serial port (${what}); run \`ota-uart ports\` to list serial ports`);
  });

  it('a baud rate that is not a positive integer: BAUD_UNSUPPORTED before touching the port', async () => {
    const e = (await settled(openSerialTransport(join(tmp, 'nope'), { baud: 0 })) as { error: OtaError }).error;
    expect(e.code).toBe('BAUD_UNSUPPORTED');
    expect(e.exitStatus).toBe(13);
  });

  it.skipIf(!hasSocat)('a port already open (locked by another program): PORT_BUSY', async () => {
    pair = await startPtyPair();
    const first = await openSerialTransport(pair.a, { baud: 115200 });
    open.push(first);
    const e = (await settled(openSerialTransport(pair.a, { baud: 115200 })) as { error: OtaError }).error;
    expect(e.code).toBe('PORT_BUSY');
    expect(e.exitStatus).toBe(11);
    expect(e.message).toContain(`serial port ${pair.a} is busy`);
    // The first opener is unaffected.
    expect(first.isOpen).toBe(true);
    await first.write(Uint8Array.of(1));
  });

  it.skipIf(!hasSocat)('setBaud on an open port with an impossible rate: BAUD_UNSUPPORTED, port still usable', async () => {
    pair = await startPtyPair();
    const t = await openSerialTransport(pair.a, { baud: 115200 });
    open.push(t);
    expect(await codeOf(t.setBaud(-5))).toBe('BAUD_UNSUPPORTED');
    await t.setBaud(921600);
    expect(t.baud).toBe(921600);
  });
});

describe.skipIf(hasSocat)('pty cases', () => {
  it.skip(SOCAT_SKIP, () => {});
});
