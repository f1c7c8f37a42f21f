/**
 * The poller fix on bindings-cpp's own Poller class with a fake native poller: waiting for
 * 'readable' while a 'writable' wait is pending must keep asking the OS for both (the stock code
 * asks only for the newest event, which is the full-duplex stall of toolchain-notes §2.4).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { applyPollerFix, pollerFixActive } from '../../src/transport/poller-fix.js';

const require = createRequire(import.meta.url);
const { Poller, EVENTS } = require('@serialport/bindings-cpp/dist/poller') as {
  Poller: new (fd: number, native: unknown) => { once(e: string, cb: (err: Error | null) => void): unknown };
  EVENTS: { UV_READABLE: number; UV_WRITABLE: number; UV_DISCONNECT: number };
};

class FakeNative {
  static last: FakeNative;
  masks: number[] = [];
  constructor(_fd: number, readonly callback: (err: Error | null, flags: number) => void) { FakeNative.last = this; }
  poll(mask: number): void { this.masks.push(mask); }
  stop(): void {}
  destroy(): void {}
}

describe('poller fix', () => {
  it('is applied once and reports itself active', () => {
    expect(applyPollerFix()).toBe(true);
    expect(applyPollerFix()).toBe(true);
    expect(pollerFixActive()).toBe(true);
  });

  it('a new wait keeps every pending wait in the mask handed to the native poller', () => {
    applyPollerFix();
    const p = new Poller(7, FakeNative);
    const native = FakeNative.last;
    p.once('writable', () => {});
    p.once('readable', () => {});
    expect(native.masks).toEqual([EVENTS.UV_WRITABLE, EVENTS.UV_WRITABLE | EVENTS.UV_READABLE]);
    // 'writable' fires and its listener is gone: the next wait asks for readable (still pending) only.
    native.callback(null, EVENTS.UV_WRITABLE);
    p.once('disconnect', () => {});
    expect(native.masks.at(-1)).toBe(EVENTS.UV_READABLE | EVENTS.UV_DISCONNECT);
  });
});
