/** hangupAwareRead: a 0-byte read() waits for the poller, and a second one is a hang-up. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { hangupAwareRead } from '../../src/transport/hangup-fix.js';

type Result = { bytesRead: number; buffer: Buffer };

function fakeRead(results: (number | Error)[]) {
  const calls: number[] = [];
  const fn = async (fd: number, buffer: Buffer): Promise<Result> => {
    calls.push(fd);
    const r = results.shift();
    if (r instanceof Error) throw r;
    return { bytesRead: r ?? 0, buffer };
  };
  return { fn, calls };
}

class FakePoller extends EventEmitter {
  waits = 0;
  override once(event: string, cb: (...args: any[]) => void): this {
    if (event === 'readable') this.waits++;
    return super.once(event, cb);
  }
}

const buf = Buffer.alloc(16);

describe('hangupAwareRead', () => {
  it('passes data through without touching the poller', async () => {
    const poller = new FakePoller();
    const { fn } = fakeRead([5]);
    await expect(hangupAwareRead({ poller }, fn)(3, buf, 0, 16, null)).resolves.toMatchObject({ bytesRead: 5 });
    expect(poller.waits).toBe(0);
  });

  it('after a 0-byte read, waits for readable; the poller error (EBADF on a hung-up tty) is passed on', async () => {
    const poller = new FakePoller();
    const { fn } = fakeRead([0]);
    const p = hangupAwareRead({ poller }, fn)(3, buf, 0, 16, null);
    await new Promise((r) => setImmediate(r));
    expect(poller.waits).toBe(1);
    poller.emit('readable', Object.assign(new Error('bad file descriptor'), { code: 'EBADF' }));
    await expect(p).rejects.toThrow('bad file descriptor');
  });

  it('0 bytes again after readable: rejects as a hang-up (not EAGAIN, not canceled)', async () => {
    const poller = new FakePoller();
    const { fn, calls } = fakeRead([0, 0]);
    const p = hangupAwareRead({ poller }, fn)(3, buf, 0, 16, null);
    await new Promise((r) => setImmediate(r));
    poller.emit('readable', null);
    const e = await p.then(() => undefined, (x: unknown) => x as { code?: string; canceled?: boolean; message: string });
    expect(e?.message).toContain('hung up');
    expect(e?.code).toBe('EIO');
    expect(e?.canceled).toBeUndefined();
    expect(calls).toHaveLength(2);
  });

  it('data after readable (a tty set to return early) is delivered', async () => {
    const poller = new FakePoller();
    const { fn } = fakeRead([0, 7]);
    const p = hangupAwareRead({ poller }, fn)(3, buf, 0, 16, null);
    await new Promise((r) => setImmediate(r));
    poller.emit('readable', null);
    await expect(p).resolves.toMatchObject({ bytesRead: 7 });
  });

  it('EAGAIN from read() is left to unixRead (which waits for readable itself)', async () => {
    const { fn } = fakeRead([Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' })]);
    await expect(hangupAwareRead({ poller: new FakePoller() }, fn)(3, buf, 0, 16, null)).rejects.toMatchObject({ code: 'EAGAIN' });
  });
});
