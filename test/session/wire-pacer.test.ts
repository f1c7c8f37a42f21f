/**
 * Pacing new data to the line (session/wire-pacer.ts): the host keeps only a short lead of unsent
 * bytes below it, so a resent chunk is not queued behind a whole window; a link that turns out to
 * be faster than its nominal rate is not slowed down.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { MemoryReporter } from '../../src/reporter.js';
import { DeviceLink } from '../../src/session/device-link.js';
import { uploadData } from '../../src/session/uploader.js';
import { LEAD_FLOOR_MS, leadMs, WirePacer } from '../../src/session/wire-pacer.js';
import { createMemoryLink, seededRng } from '../../src/transport/memory.js';
import { IdealReceiver } from './ideal-receiver.js';
import { tapFrames } from './rig.js';
import { connectSim, createFlashImage, SimDevice } from '../../src/device-sim/index.js';
import { push } from '../../src/session/index.js';
import { drive, makeImage, testKey } from '../device-sim/helpers.js';

const START = 512;
const CHUNK = 1024;

describe('WirePacer', () => {
  it('lets new data out while less than the lead waits for the wire', () => {
    const p = new WirePacer(() => 1, 10); // 1 ms a byte, 10 ms lead
    expect(p.waitMs(0)).toBe(0);
    expect(p.wrote(0, 8)).toBe(8);
    expect(p.waitMs(0)).toBe(0);
    p.wrote(0, 8); // 16 ms queued
    expect(p.waitMs(0)).toBe(6);
    expect(p.waitMs(6)).toBe(0);
    expect(p.wrote(100, 5)).toBe(105); // an idle wire starts again from now
  });

  it('catches up with a link faster than nominal, and stops pacing one that is plainly not a UART', () => {
    const p = new WirePacer(() => 1, 10);
    p.wrote(0, 30);
    p.delivered(0, 3); // acknowledged 3 ms early: catch up by that much
    expect(p.waitMs(0)).toBe(17);
    p.delivered(0, 20); // 20 ms early: more than half the lead
    expect(p.waitMs(0)).toBe(0);
    p.wrote(0, 1000);
    expect(p.waitMs(0)).toBe(0);
  });

  it('takes a wait that only rounding left over for no wait', () => {
    // 3 bytes at 0.1 ms each end at 0.30000000000000004: at 0.3 the wire is done, but the
    // difference is 5.6e-17, and 0.3 + 5.6e-17 is 0.3 again, so a wait "until now + that" never
    // starts and never ends (the uploader took it for a retransmission timeout).
    const p = new WirePacer(() => 0.1, 0);
    p.wrote(0, 3);
    expect(p.waitMs(0.3)).toBe(0);
    expect(p.waitMs(0.2)).toBeCloseTo(0.1, 9);
  });

  it('keeps at least two frames of lead', () => {
    expect(leadMs(3_000_000, 1044)).toBe(LEAD_FLOOR_MS);
    expect(leadMs(115200, 1044)).toBeCloseTo((2 * 1044 * 10_000) / 115200, 6);
  });
});

describe('uploadData paces new data to the line', () => {
  const backlogAt = async (baud: number): Promise<number> => {
    const clock = new FakeClock();
    const [host, dev] = createMemoryLink({ clock, baud, aToB: { pace: true, latencyMs: 16, txBufferBytes: 1 << 20 }, bToA: { pace: true, latencyMs: 16 } });
    const image = Uint8Array.from({ length: 120_000 }, (_, i) => (i * 7) & 0xff);
    const rx = new IdealReceiver(dev, image.length, START, CHUNK, 32 * CHUNK);
    let maxBacklog = 0;
    const write = host.write.bind(host);
    host.write = (b) => {
      const p = write(b);
      maxBacklog = Math.max(maxBacklog, host.txStats.written - host.txStats.sent);
      return p;
    };
    let done = false;
    const up = uploadData(new DeviceLink(host, clock), { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter() })
      .finally(() => { done = true; });
    for (let i = 0; i < 20_000 && !done; i++) await clock.advance(1);
    await up;
    expect(Buffer.compare(rx.received.subarray(START), image.subarray(START))).toBe(0);
    return maxBacklog;
  };

  it('keeps the unsent backlog below it within the lead on a paced link, and delivers everything', async () => {
    const baud = 921600;
    // The lead (10 ms at 921600: 922 bytes, under two frames, so two frames), plus the frame that
    // crossed it and the link's 2 ms delivery batch. Without pacing the whole window sat here.
    expect(await backlogAt(baud)).toBeLessThanOrEqual(3 * (CHUNK + 20) + (2 * baud) / 10_000);
  });

  it('never queues a resend behind more than ~16 ms of data at 3 Mbaud', async () => {
    // What a resend waits behind is the backlog: 10 ms lead + the frame that crossed it + the 2 ms
    // delivery batch. With a 20 ms lead a chunk lost twice at BER 1e-5 stalled a 32 KiB window.
    const baud = 3_000_000;
    const ms = ((await backlogAt(baud)) * 10_000) / baud;
    expect(ms).toBeGreaterThan(5); // it is paced ahead, not written frame by frame
    expect(ms).toBeLessThanOrEqual(16); // 15.4 measured; 25.4 with a 20 ms lead
  });

  it('does not slow a link that is faster than its nominal rate (an unpaced one)', async () => {
    const clock = new FakeClock();
    const [host, dev] = createMemoryLink({ clock, baud: 9600, aToB: { rng: seededRng(1) } }); // instant, nominally 9600
    const image = Uint8Array.from({ length: 60_000 }, (_, i) => i & 0xff);
    const rx = new IdealReceiver(dev, image.length, START, CHUNK, 16 * CHUNK);
    await uploadData(new DeviceLink(host, clock), { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter() });
    expect(clock.now()).toBe(0); // no fake time had to pass: nothing waited for a 9600-baud wire
    expect(rx.next).toBe(image.length);
  });
});

describe('uploadData probes a resend that went missing', () => {
  it('resends the chunk at next_offset after two round trips, not after the RTO, when credit allows nothing else', async () => {
    // Window of 4 chunks, 16 ms each way. The chunk at 512 + 2 KiB is lost twice: the first loss
    // shows as a hole, but the resend's loss cannot (everything after it was sent before it, and
    // credit ends at the hole + 4 chunks).
    const clock = new FakeClock();
    const [host, dev] = createMemoryLink({ clock, baud: 921600, aToB: { pace: true, latencyMs: 16 }, bToA: { pace: true, latencyMs: 16 } });
    const image = Uint8Array.from({ length: 12_000 }, (_, i) => (i * 13) & 0xff);
    const rx = new IdealReceiver(dev, image.length, START, CHUNK, 4 * CHUNK);
    const victim = START + 2 * CHUNK;
    let spoiled = 0;
    tapFrames(host, (m) => {
      if (spoiled >= 2 || m.type !== 'DATA' || m.offset !== victim) return false;
      spoiled++;
      return true;
    });
    const reporter = new MemoryReporter();
    let done = false;
    const up = uploadData(new DeviceLink(host, clock), { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter })
      .finally(() => { done = true; });
    for (let i = 0; i < 5000 && !done; i++) await clock.advance(1);
    const stats = await up;
    expect(spoiled).toBe(2);
    expect(Buffer.compare(rx.received.subarray(START), image.subarray(START))).toBe(0);
    expect(stats.timeouts).toBe(0);
    expect(reporter.ofType('retry').map((e) => e['reason'])).toEqual(['lost', 'probe']);
  });
});

describe('uploadData on a clean paced line', () => {
  // Found with scripts/bench/loss-sweep.ts: with no error on the line, a push at 2 Mbaud + 16 ms
  // (1 KiB chunks) and one at 460800 + 16 ms (512-byte chunks) each ran into 8 "retransmission
  // timeouts" within 50 ms and reconnected: the pacer's wait was a rounding residue (above).
  it.each([
    [2_000_000, 1024],
    [460_800, 512],
  ])('at %i baud with %i-byte chunks: no timeout, no reconnect', async (baud, chunk) => {
    const clock = new FakeClock();
    const device = new SimDevice({ flash: createFlashImage(), key: testKey, clock, flashTiming: 'instant', baud, maxBaud: baud });
    await drive(clock, device.settled());
    const c = connectSim(device, { clock, link: { hostToDevice: { latencyMs: 16 }, deviceToHost: { latencyMs: 16 } } });
    const image = makeImage({ version: '9.9.9', size: 256 * 1024 }).enc;
    const r = await drive(clock, push({ image, open: async () => c.host, clock, baud, chunk, allowDowngrade: true, fresh: true }));
    expect(r.after.boot.version).toBe('9.9.9');
    expect({ resyncs: r.resyncs, timeouts: r.timeouts }).toEqual({ resyncs: 0, timeouts: 0 });
  });
});

describe('uploadData with a clock that moves between two readings', () => {
  it('never takes the pacer running out of wait for a retransmission timeout', async () => {
    // A real clock advances between the pacing check that holds data back and the wait that
    // follows; if the wait has just expired, that is room on the wire, not a timeout.
    // Node's timers may fire a fraction of a millisecond early (they truncate), and every reading
    // of the clock is a little later than the one before.
    class TickingClock extends FakeClock {
      private drift = 0;
      override now(): number {
        this.drift += 0.0004;
        return super.now() + this.drift;
      }
      override setTimer(ms: number, fn: () => void) {
        return super.setTimer(Math.max(0, ms - 0.0005), fn);
      }
    }
    const clock = new TickingClock();
    const [host, dev] = createMemoryLink({ clock, baud: 921600, aToB: { pace: true, latencyMs: 4 }, bToA: { pace: true, latencyMs: 4 } });
    const image = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) & 0xff);
    const rx = new IdealReceiver(dev, image.length, START, CHUNK, 32 * CHUNK);
    let done = false;
    const up = uploadData(new DeviceLink(host, clock), { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter() })
      .finally(() => { done = true; });
    for (let i = 0; i < 20_000 && !done; i++) await clock.advance(0.5);
    const stats = await up;
    expect(rx.next).toBe(image.length);
    expect(stats.timeouts).toBe(0);
    expect(stats.retransmits).toBe(0);
  });
});
