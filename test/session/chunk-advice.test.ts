/**
 * The smaller-chunk advice (session/chunk-advice.ts): only when many chunks were resent, and only
 * a chunk whose window (64 chunks at most, and the device's) still covers the round trip at the
 * line rate. The cases are the
 * loss-sweep runs the thresholds come from.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { formatPush } from '../../src/cli/push-summary.js';
import { connectSim, createFlashImage, SimDevice } from '../../src/device-sim/index.js';
import { push } from '../../src/session/index.js';
import { smallerChunkAdvice } from '../../src/session/chunk-advice.js';
import { seededRng } from '../../src/transport/rng.js';
import { DEVICE_KEY, drive, testImage } from './rig.js';

const MiB = 1 << 20;
const resent = (share: number, chunk = 1024): number => Math.round((share * MiB) / chunk);

describe('smallerChunkAdvice', () => {
  const W = 32 * 1024; // the simulator's window
  it('suggests 256 on a noisy line whose round trip the window of small chunks still covers', () => {
    // BER 3e-5 at 3 Mbaud + 1 ms: 28 % resent, round trip ~16 ms
    expect(smallerChunkAdvice({ chunk: 1024, retries: resent(0.28), bytesSent: MiB, baud: 3_000_000, roundTripMs: 16, window: W })).toBe(256);
    // BER 5e-5 at 921600 + 16 ms: 50 % resent, round trip ~55 ms
    expect(smallerChunkAdvice({ chunk: 1024, retries: resent(0.5), bytesSent: MiB, baud: 921600, roundTripMs: 55, window: W })).toBe(256);
    // from the 512 a device with multi-chunk frames gets by default
    expect(smallerChunkAdvice({ chunk: 512, retries: resent(0.3, 512), bytesSent: MiB, baud: 921600, roundTripMs: 55, window: W })).toBe(256);
  });

  it('suggests 512 where 256 would no longer cover the round trip: 64 chunks, or the device window, is the limit', () => {
    // 64 x 256 bytes at 3 Mbaud last 55 ms; 1.25 x 45 ms is more. 64 x 512 = the 32 KiB window.
    expect(smallerChunkAdvice({ chunk: 1024, retries: resent(0.5), bytesSent: MiB, baud: 3_000_000, roundTripMs: 45, window: W })).toBe(512);
    // with an 8 KiB window 256 is already too small at 3 Mbaud + 25 ms (27 ms of window), 512 too
    expect(smallerChunkAdvice({ chunk: 1024, retries: resent(0.3), bytesSent: MiB, baud: 3_000_000, roundTripMs: 25, window: 8192 })).toBeUndefined();
  });

  it('says nothing on a line where the chunk is not the problem, or a smaller one would starve the window', () => {
    // BER 1e-5: 8-9 % resent
    expect(smallerChunkAdvice({ chunk: 1024, retries: resent(0.09), bytesSent: MiB, baud: 3_000_000, roundTripMs: 45, window: W })).toBeUndefined();
    // 50 % resent at 3 Mbaud + 16 ms with the ESP32 example's 16 KiB window: 16 KiB last 55 ms of a ~45 ms round trip x 1.25
    expect(smallerChunkAdvice({ chunk: 1024, retries: resent(0.5), bytesSent: MiB, baud: 3_000_000, roundTripMs: 45, window: 16384 })).toBeUndefined();
    // already small, nothing measured, nothing sent
    expect(smallerChunkAdvice({ chunk: 256, retries: resent(0.5, 256), bytesSent: MiB, baud: 921600, roundTripMs: 20, window: W })).toBeUndefined();
    expect(smallerChunkAdvice({ chunk: 1024, retries: resent(0.5), bytesSent: MiB, baud: 921600, roundTripMs: 0, window: W })).toBeUndefined();
    expect(smallerChunkAdvice({ chunk: 1024, retries: 0, bytesSent: 0, baud: 921600, roundTripMs: 20, window: W })).toBeUndefined();
  });
});

describe('a push over a noisy line', () => {
  async function pushWith(ber: number, chunk?: number) {
    const clock = new FakeClock();
    const device = new SimDevice({ flash: createFlashImage(), key: DEVICE_KEY, clock, flashTiming: 'instant', baud: 921600 });
    await drive(clock, device.settled());
    const rng = seededRng(5);
    const c = connectSim(device, { clock, link: { hostToDevice: { latencyMs: 1, ber, rng }, deviceToHost: { latencyMs: 1, ber, rng } } });
    const out = await drive(clock, push({ image: testImage(200_000, '3.0.0'), open: async () => c.host, clock, fresh: true, chunk }), 1);
    expect(out.error).toBeUndefined();
    return out.value!;
  }

  it('reports the chunk and round trip it used, and suggests a smaller chunk with the share resent', async () => {
    const r = await pushWith(6e-5);
    expect(r.chunk).toBe(512); // the default for a device that takes several chunks per frame
    expect(r.roundTripMs).toBeGreaterThan(0);
    expect(r.retries / Math.ceil(r.bytesSent / r.chunk)).toBeGreaterThan(0.2);
    expect(r.suggestedChunk).toBe(256);
    const text = formatPush(r, 'app.enc');
    expect(text).toMatch(/advice: +\d+% of the 512-byte chunks were resent: the line is noisy\. With --chunk 256/);
    // and the advice holds: the same push with 256-byte chunks takes less (virtual) time
    const small = await pushWith(6e-5, 256);
    expect(small.seconds).toBeLessThan(r.seconds);
  });

  it('suggests nothing on a clean line', async () => {
    const r = await pushWith(0);
    expect(r.suggestedChunk).toBeUndefined();
    expect(formatPush(r, 'app.enc')).not.toMatch(/advice/);
  });
});
