/** The simulated device's default receive window against the link it is meant for. */
import { describe, expect, it } from 'vitest';
import { CHUNK } from './helpers.js';

describe('default receive window', () => {
  it('covers two round trips at 3 Mbaud behind a 16 ms adapter latency (a lost frame, then its resend)', async () => {
    const { DEFAULT_WINDOW } = await import('../../src/device-sim/index.js');
    const bytesPerMs = 3_000_000 / 10 / 1000;
    const frameMs = (CHUNK + 20) / bytesPerMs;
    const needed = 2 * (2 * 16 + frameMs) * bytesPerMs;
    expect(DEFAULT_WINDOW).toBeGreaterThanOrEqual(needed);
    expect(DEFAULT_WINDOW).toBeLessThanOrEqual(32 * CHUNK); // SPEC: at most 32 chunks of credit
  });
});
