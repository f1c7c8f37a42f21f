/**
 * The simulated device's busy time follows the model even on a coarse clock. Node runs a 2.8 ms
 * timeout after 2.2 ms on average (whole-millisecond loop clock); the clock below does what Node
 * does to the fraction, always, so the result is deterministic.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, SimDevice } from '../../src/device-sim/index.js';
import { BusyTimer } from '../../src/device-sim/busy-timer.js';
import { customOp } from '../../src/device-sim/flash-ops.js';
import { drive, testKey } from './helpers.js';

/** A fake clock whose timers drop the fraction of a millisecond (and wait at least 1 ms). */
class TruncatingClock extends FakeClock {
  override sleep(ms: number): Promise<void> {
    return super.sleep(Math.max(1, Math.trunc(ms)));
  }
}

describe('simulated device busy time', () => {
  it('50 page programs of 2.8 ms keep the device busy 140 ms, not 100 (SimDevice.flashWork)', async () => {
    const clock = new TruncatingClock();
    const dev = new SimDevice({ flash: createFlashImage(), key: testKey, clock, flashTiming: 'esp32' });
    await drive(clock, dev.settled(), 1);
    let ran = 0;
    const ops = Array.from({ length: 50 }, () => customOp('page program', 2.8, () => { ran++; }));
    const t0 = clock.now();
    await drive(clock, dev.flashWork(ops), 1);
    expect(ran).toBe(50);
    const took = clock.now() - t0;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThanOrEqual(142); // the rounding of one op is carried, not added up
  });

  it('time spent waiting for input is not made up for; the simulator computing between works is', async () => {
    const clock = new TruncatingClock();
    const t = new BusyTimer(clock);
    await drive(clock, t.busy(0.7), 1);
    expect(clock.now()).toBe(1); // at least 0.7, and the clock only moves in whole steps
    await drive(clock, t.busy(0.7), 1); // due at 1.4: continues from 0.7
    expect(clock.now()).toBe(2);
    await clock.advance(3); // the simulator computing (no wait for input): 2.8 ms of work was due by 4.2
    await drive(clock, t.busy(2.8), 1);
    expect(clock.now()).toBeLessThan(5 + 2.8); // not another 2.8 ms after the computing
    t.idle();
    await clock.advance(10); // waiting for bytes
    const idleEnd = clock.now();
    await drive(clock, t.busy(2.8), 1);
    expect(clock.now() - idleEnd).toBeGreaterThanOrEqual(2.8);
  });

  it('a reset ends the run of back-to-back work: the RSA unwrap after it takes its full 250 ms', async () => {
    const clock = new FakeClock();
    const dev = new SimDevice({ flash: createFlashImage(), key: testKey, clock, flashTiming: 'esp32' });
    await drive(clock, dev.settled(), 1);
    await drive(clock, dev.flashWork([customOp('program', 2.8, () => {})]), 1);
    dev.powerCycle();
    await clock.advance(1000); // booting, then idle
    const t0 = clock.now();
    await drive(clock, dev.cpuWork(250), 1);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(250);
  });
});
