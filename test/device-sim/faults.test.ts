/**
 * Fault injection (SimFaults): bit errors, lost bytes, log-text bursts toward the host, stalls and
 * a reset at an offset, all seeded. With our host (push() from src/session) the exact image must
 * still install; the counters must show the faults really happened.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, createSimLink, readDeviceState, type SimFaults } from '../../src/device-sim/index.js';
import { seededRng } from '../../src/transport/memory.js';
import { MemoryReporter } from '../../src/reporter.js';
import { push } from '../../src/session/index.js';
import { drive, makeImage, testKey } from './helpers.js';

const app = makeImage({ version: '2.0.0', size: 150 * 1024 });

async function run(faults: SimFaults, o: { baud?: number; hostRxBer?: number; iramUart?: boolean } = {}) {
  const clock = new FakeClock();
  const flash = createFlashImage();
  const sim = createSimLink({
    flash, key: testKey, clock, flashTiming: 'esp32', bootLog: true, faults, iramUart: o.iramUart,
    link: { deviceToHost: o.hostRxBer ? { ber: o.hostRxBer, rng: seededRng(99) } : {} },
  });
  const reporter = new MemoryReporter();
  const r = await drive(clock, push({ image: app.enc, open: async () => sim.host, clock, baud: o.baud, reporter }));
  expect(r.after.boot.version).toBe('2.0.0');
  expect(flash.read(0x110000, app.plain.length).equals(app.plain)).toBe(true);
  expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  return { r, stats: sim.device.stats, reporter };
}

describe('faults still deliver the exact image with our host', () => {
  it('bit errors and dropped bytes on what the device receives', async () => {
    const { r, stats } = await run({ ber: 1e-5, dropRate: 1e-4, seed: 5 }, { baud: 921600 });
    expect(stats.faultFlippedBits + stats.faultDroppedBytes).toBeGreaterThan(5);
    expect(stats.badCrc + stats.badCobs + stats.tooShort).toBeGreaterThan(0);
    expect(r.retries).toBeGreaterThan(0);
  });

  it('bit errors on what the host receives (lost ACKs)', async () => {
    const { r } = await run({}, { baud: 921600, hostRxBer: 2e-4 });
    expect(r.crcErrors).toBeGreaterThan(0);
  });

  it('bursts of log text toward the host and stalls of the firmware task', async () => {
    const { stats } = await run({ garbageEveryBytes: 5000, stallMs: 400, stallEveryBytes: 40_000, seed: 2 }, { baud: 921600 });
    expect(stats.garbageBursts).toBeGreaterThan(10);
    expect(stats.stalls).toBeGreaterThan(2);
  });

  it('everything at once, without an IRAM-safe ISR', async () => {
    const { stats } = await run({ ber: 5e-6, dropRate: 5e-5, garbageEveryBytes: 20_000, stallMs: 250, seed: 11 }, { baud: 921600, iramUart: false });
    expect(stats.overrunBytes).toBe(0);
  });

  it('a reset in mid-transfer at the reset baud rate (boot log included)', async () => {
    const { stats, reporter } = await run({ resetAtOffset: 90_000 });
    expect(stats.resets).toBe(1);
    expect(stats.resumesFromFlash).toBe(1);
    expect(Number(reporter.ofType('resume')[0]!.offset)).toBeGreaterThan(512);
  });

  it('a reset after the switch to 921600: the host finds the device again at its reset rate and resumes', async () => {
    // Before the fix in session/push.ts the host kept saying HELLO at 921600 to a device back at
    // 115200 and gave up with NO_DEVICE.
    const { stats, reporter, r } = await run({ resetAtOffset: 90_000 }, { baud: 921600 });
    expect(stats.resets).toBe(1);
    expect(stats.resumesFromFlash).toBe(1);
    expect(stats.baudSwitches).toBe(3); // up, up again after the reset, and back to 115200 at the end
    expect(r.baud).toBe(921600);
    expect(Number(reporter.ofType('resume')[0]!.offset)).toBeGreaterThan(512);
  });

  it('is reproducible from the seed', async () => {
    const a = await run({ ber: 1e-5, dropRate: 1e-4, garbageEveryBytes: 9000, seed: 7 });
    const b = await run({ ber: 1e-5, dropRate: 1e-4, garbageEveryBytes: 9000, seed: 7 });
    const c = await run({ ber: 1e-5, dropRate: 1e-4, garbageEveryBytes: 9000, seed: 8 });
    const pick = (s: typeof a.stats) => [s.faultFlippedBits, s.faultDroppedBytes, s.badCrc, s.garbageBursts];
    expect(pick(a.stats)).toEqual(pick(b.stats));
    expect(pick(a.stats)).not.toEqual(pick(c.stats));
  });
});
