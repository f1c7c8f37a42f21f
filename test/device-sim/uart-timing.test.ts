/**
 * The UART and flash timing model: the 128-byte FIFO that is all an ESP32 has while flash work
 * blinds a non-IRAM interrupt handler, the ring buffer behind it, and the credit plan that keeps
 * our host quiet through every blackout. A host that ignores credit must lose bytes (counted);
 * ours must lose none. Times are FakeClock times, so the results are deterministic.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, createSimLink, HW_FIFO_BYTES, readDeviceState, type SimDeviceOptions } from '../../src/device-sim/index.js';
import { UartRx } from '../../src/device-sim/uart-rx.js';
import { FrameDecoder, MSG, STATUS, decodeMessage, encodeData, encodeMessage, type Message } from '../../src/protocol/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { push } from '../../src/session/index.js';
import { CHUNK, beginMsg, drive, makeImage, testKey } from './helpers.js';

describe('UartRx', () => {
  it('keeps only 128 bytes in the FIFO during a blackout without an IRAM ISR, in order, and counts the rest', () => {
    const u = new UartRx(4096, false);
    u.setBlackout(true);
    u.receive(Uint8Array.from({ length: 100 }, (_, i) => i + 1));
    u.receive(Uint8Array.from({ length: 100 }, (_, i) => 101 + i));
    expect(u.counters).toMatchObject({ overrunBytes: 200 - HW_FIFO_BYTES, overruns: 1 });
    u.setBlackout(false);
    const got = u.takeSegment()!;
    expect(got.length).toBe(HW_FIFO_BYTES);
    expect(Array.from(got.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(got[HW_FIFO_BYTES - 1]).toBe(HW_FIFO_BYTES);
  });

  it('loses nothing during a blackout with an IRAM-safe ISR', () => {
    const u = new UartRx(4096, true);
    u.setBlackout(true);
    u.receive(new Uint8Array(1000).fill(7));
    expect(u.counters.overrunBytes).toBe(0);
    expect(u.pending).toBe(1000);
  });

  it('counts ring-buffer overflow and hands out one frame candidate at a time', () => {
    const u = new UartRx(10, true);
    u.receive(Uint8Array.of(1, 2, 0, 3, 4, 0, 5, 6, 7, 8, 9, 10, 11));
    expect(u.counters.ringOverflowBytes).toBe(3);
    expect(Array.from(u.takeSegment()!)).toEqual([1, 2, 0]);
    expect(Array.from(u.takeSegment()!)).toEqual([3, 4, 0]);
    expect(Array.from(u.takeSegment()!)).toEqual([5, 6, 7, 8]);
    expect(u.takeSegment()).toBeUndefined();
  });
});

const image = makeImage({ version: '2.0.0', size: 200 * 1024 }).enc;

async function pushed(o: Partial<SimDeviceOptions>, baud: number) {
  const clock = new FakeClock();
  const flash = createFlashImage();
  const sim = createSimLink({ flash, key: testKey, clock, flashTiming: 'esp32', ...o });
  const reporter = new MemoryReporter();
  const r = await drive(clock, push({ image, open: async () => sim.host, clock, baud, reporter }));
  return { r, stats: sim.device.stats, flash, reporter, elapsed: clock.now() };
}

describe('credit planning keeps our host quiet through flash blackouts (SPEC §4.5, §6.3)', () => {
  for (const baud of [921600, 3_000_000]) {
    it(`non-IRAM ISR at ${baud} baud: the image installs, nothing is lost to overruns`, async () => {
      const { r, stats, flash, reporter } = await pushed({ iramUart: false }, baud);
      expect(r.baud).toBe(baud);
      expect(stats.overrunBytes).toBe(0);
      expect(stats.ringOverflowBytes).toBe(0);
      expect(stats.badCrc + stats.badCobs).toBe(0);
      expect(r.retries).toBe(0);
      expect(stats.flashBusyMs).toBeGreaterThan(500); // the blackouts really happened...
      expect(reporter.ofType('busy').length).toBeGreaterThan(0); // ...and were announced
      expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
    });
  }

  it('IRAM-safe ISR at 3 Mbaud: the ring buffer absorbs erases, nothing is lost', async () => {
    const { r, stats } = await pushed({ iramUart: true }, 3_000_000);
    expect(r.after.boot.version).toBe('2.0.0');
    expect(stats.ringOverflowBytes + stats.overrunBytes).toBe(0);
  });

  it('takes at least the wire time: bytes arrive no faster than the baud', async () => {
    const { r, stats, elapsed } = await pushed({ iramUart: true }, 921600);
    expect(elapsed).toBeGreaterThan(((stats.rxBytes - 1000) * 10 * 1000) / 921600);
    expect(r.bytesPerSecond).toBeLessThan(92160);
  });

  it('announces the RSA key unwrap and block erases with ACK(BUSY)', async () => {
    const { reporter } = await pushed({ iramUart: false }, 921600);
    const busy = reporter.ofType('busy').map((e) => Number(e.ms));
    expect(Math.max(...busy)).toBeGreaterThanOrEqual(150); // a 64 KiB block erase
  });
});

/** A host that ignores credit: BEGIN, then every DATA frame back to back. */
async function blast(o: Partial<SimDeviceOptions>, baud: number) {
  const clock = new FakeClock();
  const sim = createSimLink({ flash: createFlashImage(), key: testKey, clock, flashTiming: 'esp32', baud, ...o });
  const got: Message[] = [];
  const dec = new FrameDecoder();
  sim.host.onData((b) => { for (const f of dec.push(b)) { const m = decodeMessage(f); if (m) got.push(m); } });
  await drive(clock, clock.sleep(300)); // the device boots first
  await sim.host.write(encodeMessage(beginMsg(image)));
  await drive(clock, (async () => { while (!got.some((m) => m.type === 'BEGIN_ACK')) await clock.sleep(5); })());
  const sending = (async () => { for (let off = 512; off < image.length; off += CHUNK) await sim.host.write(encodeData(off, image.subarray(off, off + CHUNK))); })();
  await drive(clock, sending);
  await clock.advance(2000);
  return {
    stats: sim.device.stats,
    acks: got.filter((m) => m.type === 'ACK'),
    replies: got.filter((m): m is Extract<Message, { type: 'REPLY' }> => m.type === 'REPLY'),
  };
}

describe('a host that ignores credit loses bytes', () => {
  it('non-IRAM ISR at 921600: bytes arriving during flash work overrun the 128-byte FIFO', async () => {
    const { stats, acks } = await blast({ iramUart: false }, 921600);
    expect(stats.overrunBytes).toBeGreaterThan(1000);
    expect(stats.overruns).toBeGreaterThan(0);
    expect(stats.badCrc + stats.badCobs + stats.tooShort).toBeGreaterThan(0); // frames cut by the overruns
    expect(stats.creditViolations).toBeGreaterThan(0);
    const last = acks.at(-1) as { nextOffset: number } | undefined;
    expect(last!.nextOffset).toBeLessThan(image.length);
  });

  it('IRAM-safe ISR at 3 Mbaud: a 64 KiB erase outlasts the ring buffer', async () => {
    const { stats } = await blast({ iramUart: true }, 3_000_000);
    expect(stats.ringOverflowBytes).toBeGreaterThan(0);
    expect(stats.overrunBytes).toBe(0);
  });

  it('answers frames beyond credit with a short reply BAD_REQUEST (they are ignored, the session survives)', async () => {
    const { replies, stats } = await blast({ iramUart: false }, 921600);
    expect(replies.filter((r) => r.code === MSG.ACK && r.status === STATUS.BAD_REQUEST).length).toBe(stats.badRequests);
    expect(stats.badRequests).toBeGreaterThan(0);
  });
});
