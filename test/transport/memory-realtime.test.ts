/**
 * Pacing on the real clock: timers fire late and coarsely, so the link must schedule by absolute
 * target times. Thresholds are generous (pass/fail must not depend on machine load); the measured
 * numbers are printed for the record.
 */
import { expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createMemoryLink } from '../../src/transport/memory.js';

it('paces accurately over a second with the system clock, both directions at once, cheaply', async () => {
  const baud = 921600;
  const n = 92160; // 1 s of wire time at 921600
  const [a, b] = createMemoryLink({ clock: systemClock, baud, aToB: { pace: true }, bToA: { pace: true } });
  const arrived = (t: typeof a): Promise<number> =>
    new Promise((resolve) => {
      let got = 0;
      t.onData((c) => {
        got += c.length;
        if (got >= n) resolve(performance.now());
      });
    });
  const atB = arrived(b);
  const atA = arrived(a);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Write in 1 KiB pieces like a real sender, awaiting back-pressure.
  const send = async (t: typeof a): Promise<void> => {
    for (let i = 0; i < n; i += 1024) await t.write(new Uint8Array(Math.min(1024, n - i)));
  };
  await Promise.all([send(a), send(b)]);
  const [tb, ta] = await Promise.all([atB, atA]);
  const cpu = process.cpuUsage(cpu0);
  const expected = (10 * n * 1000) / baud;
  const errB = (tb - t0) / expected - 1;
  const errA = (ta - t0) / expected - 1;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`memory link pacing at ${baud}: a->b ${(errB * 100).toFixed(2)}%, b->a ${(errA * 100).toFixed(2)}%, cpu ${cpuMs.toFixed(0)} ms for ${expected} ms`);
  expect(Math.abs(errB)).toBeLessThan(0.1);
  expect(Math.abs(errA)).toBeLessThan(0.1);
  expect(cpuMs).toBeLessThan(expected * 0.5);
});
