/**
 * The link model on a clock whose timers cannot fire sooner than 1 ms after they are set, like
 * Node's setTimeout: short messages (an ACK) must still arrive after about the configured latency,
 * not one or two timer ticks later, and the wire must never carry more than baud/10 bytes/s.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, type Timer } from '../../src/clock.js';
import { LinkDirection } from '../../src/transport/link-model.js';

/** FakeClock with Node's timer floor: setTimer(ms) fires after max(1, ms). */
class CoarseClock extends FakeClock {
  override setTimer(ms: number, fn: () => void): Timer {
    return super.setTimer(Math.max(1, ms), fn);
  }
}

function direction(clock: FakeClock, baud: number, latencyMs: number) {
  const arrivals: { at: number; n: number }[] = [];
  const dir = new LinkDirection(
    { pace: true, latencyMs },
    { clock, baud, deliver: (b) => arrivals.push({ at: clock.now(), n: b.length }), onCut: () => {} },
  );
  return { dir, arrivals };
}

describe('LinkDirection with a 1 ms timer floor', () => {
  it('delivers a 20-byte message after latency + wire time, not a timer tick later (L = 1 ms)', async () => {
    const clock = new CoarseClock();
    const { dir, arrivals } = direction(clock, 3_000_000, 1);
    void dir.write(new Uint8Array(20));
    await clock.advance(5);
    const ideal = 1 + (20 * 10_000) / 3_000_000;
    expect(arrivals.map((a) => a.n)).toEqual([20]);
    expect(arrivals[0]!.at).toBeGreaterThanOrEqual(ideal - 0.5);
    expect(arrivals[0]!.at).toBeLessThanOrEqual(ideal + 0.5);
  });

  it('delivers a short message within half a millisecond when there is no latency', async () => {
    const clock = new CoarseClock();
    const { dir, arrivals } = direction(clock, 921_600, 0);
    void dir.write(new Uint8Array(20)); // 0.22 ms of wire time
    await clock.advance(5);
    expect(arrivals.length).toBe(1);
    expect(arrivals[0]!.at).toBeLessThanOrEqual(0.5);
  });

  it('never runs ahead of the line rate across back-to-back short writes', async () => {
    const clock = new CoarseClock();
    const { dir, arrivals } = direction(clock, 115_200, 0);
    // 100 writes of 10 bytes, each as soon as the previous one was accepted: 1000 bytes = 86.8 ms.
    for (let i = 0; i < 100; i++) {
      void dir.write(new Uint8Array(10));
      await clock.advance(0.05);
    }
    await clock.advance(200);
    let got = 0;
    for (const a of arrivals) {
      got += a.n;
      // Byte k cannot have completed before (k * 10 / baud) s, give or take the 0.5 ms early allowance.
      expect(a.at).toBeGreaterThanOrEqual((got * 10_000) / 115_200 - 0.5 - 1e-9);
    }
    expect(got).toBe(1000);
  });

  it('drain resolves when the last bit is on the wire, not when the model took the bytes', async () => {
    const clock = new FakeClock();
    const { dir } = direction(clock, 115_200, 0);
    let drained = -1;
    void dir.write(new Uint8Array(100));
    void dir.drain().then(() => { drained = clock.now(); });
    await clock.advance(20);
    expect(drained).toBeCloseTo((100 * 10_000) / 115_200, 6);
  });
});
