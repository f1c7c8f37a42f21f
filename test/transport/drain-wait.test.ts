/** DrainWait (src/transport/drain-wait.ts): every held write shares one 'drain' listener. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DrainWait } from '../../src/transport/drain-wait.js';

describe('DrainWait', () => {
  it('gives many waiters one listener, releases them all at the drain, and listens again after', async () => {
    const stream = new EventEmitter();
    const wait = new DrainWait(stream as unknown as { once(event: 'drain', cb: () => void): unknown });
    let released = 0;
    const waiters = Array.from({ length: 25 }, () => wait.next().then(() => { released++; }));
    expect(stream.listenerCount('drain')).toBe(1);
    stream.emit('drain');
    await Promise.all(waiters);
    expect(released).toBe(25);
    expect(stream.listenerCount('drain')).toBe(0);
    const later = wait.next();
    expect(stream.listenerCount('drain')).toBe(1);
    stream.emit('drain');
    await later;
  });
});
