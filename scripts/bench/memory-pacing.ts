/**
 * Pacing accuracy of the in-memory link on the real clock (timers fire late and coarsely, so the
 * link schedules by absolute target times). Prints numbers; not a test: timings never decide
 * pass/fail in `npm test` (the paced byte counts are checked there on a FakeClock instead).
 * Run: npx tsx scripts/bench/memory-pacing.ts [baud]
 */
import { systemClock } from '../../src/clock.js';
import { createMemoryLink } from '../../src/transport/memory.js';

const baud = Number(process.argv[2] ?? 921600);
const n = Math.round(baud / 10); // 1 s of wire time
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
const send = async (t: typeof a): Promise<void> => {
  for (let i = 0; i < n; i += 1024) await t.write(new Uint8Array(Math.min(1024, n - i)));
};
await Promise.all([send(a), send(b)]);
const [tb, ta] = await Promise.all([atB, atA]);
const cpu = process.cpuUsage(cpu0);
const expected = (10 * n * 1000) / baud;
const pct = (t: number): string => (((t - t0) / expected - 1) * 100).toFixed(2);
console.log(`memory link pacing at ${baud} baud, ${n} bytes each way at once:`);
console.log(`  a->b ${pct(tb)}% late, b->a ${pct(ta)}% late (of ${expected.toFixed(0)} ms wire time)`);
console.log(`  cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms for ${expected.toFixed(0)} ms of wire time`);
await Promise.all([a.close(), b.close()]);
