import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../src/clock.js';
import { MemoryReporter } from '../../src/reporter.js';
import { DeviceLink } from '../../src/session/device-link.js';
import { newUploadStats, uploadData } from '../../src/session/uploader.js';
import { MIN_RTO_MS } from '../../src/protocol/index.js';
import { createMemoryLink, seededRng } from '../../src/transport/memory.js';
import { IdealReceiver } from './ideal-receiver.js';

const START = 512;
const CHUNK = 1024;

function setup(size: number, link: Parameters<typeof createMemoryLink>[0], window = 16 * CHUNK) {
  const [host, dev] = createMemoryLink(link);
  const image = randomBytes(size);
  const rx = new IdealReceiver(dev, size, START, CHUNK, window);
  const clock = link?.clock ?? systemClock;
  const hostLink = new DeviceLink(host, clock);
  return { image, rx, hostLink, clock, host, dev };
}

describe('uploadData (selective repeat over a memory link)', () => {
  it('delivers every byte in order on a clean link, without retransmissions', async () => {
    const { image, rx, hostLink, clock } = setup(200_000, {});
    const stats = await uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter() });
    expect(rx.next).toBe(image.length);
    expect(Buffer.compare(rx.received.subarray(START), image.subarray(START))).toBe(0);
    expect(stats.retransmits).toBe(0);
    expect(stats.framesSent).toBe(Math.ceil((image.length - START) / CHUNK));
  });

  it('writes the frames a burst of credit allows together, not one write per frame', async () => {
    // Unpaced, the receiver sees each write whole and ACKs every frame in it at once, so credit
    // opens a window at a time; each opening should cost one write.
    const { image, rx, hostLink, clock, host } = setup(200_000, {});
    let writes = 0;
    const write = host.write.bind(host);
    host.write = (b) => { writes++; return write(b); };
    const stats = await uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter() });
    expect(Buffer.compare(rx.received.subarray(START), image.subarray(START))).toBe(0);
    expect(stats.framesSent).toBe(Math.ceil((image.length - START) / CHUNK));
    expect(writes).toBeLessThanOrEqual(Math.ceil(stats.framesSent / 4));
  });

  it('never sends beyond the credit the device granted', async () => {
    // A receiver that consumes nothing: only the initial credit may ever be sent.
    const run = async (hostCredit: (rx: IdealReceiver, img: Uint8Array) => number) => {
      // At a high nominal rate: the host paces new data to the line (wire-pacer.ts), and a deaf
      // receiver never shows it a faster link, so at 115200 only two frames would leave in 50 ms.
      const { image, rx, hostLink, clock } = setup(60_000, { baud: 3_000_000 }, 4 * CHUNK);
      rx.deaf = true;
      const ac = new AbortController();
      const p = uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: hostCredit(rx, image), clock, reporter: new MemoryReporter(), signal: ac.signal });
      await new Promise((r) => setTimeout(r, 50));
      ac.abort();
      await p.catch(() => {});
      return rx.creditViolations;
    };
    expect(await run((rx) => rx.creditEnd())).toBe(0);
    // and the check itself can fire: a host told it may send everything does violate it
    expect(await run((_rx, img) => img.length)).toBeGreaterThan(0);
  });

  it('recovers from byte drops and bit errors, resending about as many frames as were lost', async () => {
    const { image, rx, hostLink, clock } = setup(300_000, { aToB: { dropRate: 2e-5, ber: 2e-6, rng: seededRng(7) } });
    const reporter = new MemoryReporter();
    const stats = await uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter });
    expect(Buffer.compare(rx.received.subarray(START), image.subarray(START))).toBe(0);
    const lost = stats.framesSent - rx.dataFrames; // frames that never decoded at the receiver
    expect(lost).toBeGreaterThan(0); // the fault model really hit something
    // Selective repeat: the resends are bounded by the losses (plus a few timeout probes), far from
    // go-back-N, which would resend a window's worth for every loss.
    expect(stats.retransmits).toBeLessThanOrEqual(lost + stats.timeouts + 2);
    expect(rx.duplicates).toBeLessThanOrEqual(stats.timeouts + 2);
  });

  it('measures the round trip from the first ACK that shows a chunk, not from a late cumulative ACK', async () => {
    // A lost frame: every chunk behind it is held out of order and acknowledged cumulatively only
    // when the resend fills the hole, a round trip or more after it arrived. Those delays are not
    // round trips; counted as such they inflated srtt (and with it the resend probe and the RTO)
    // by half on a 3 Mbaud link behind a 16 ms adapter at BER 1e-5.
    const srttWith = async (lose: number[]): Promise<number> => {
      const clock = new FakeClock();
      const link = { pace: true, latencyMs: 16 };
      const { image, rx, hostLink } = setup(160 * CHUNK, { clock, baud: 3_000_000, aToB: link, bToA: link }, 32 * CHUNK);
      for (const k of lose) rx.loseOnce.add(START + k * CHUNK);
      const stats = newUploadStats();
      let done = false;
      const p = uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter(), stats })
        .finally(() => { done = true; });
      for (let i = 0; i < 40_000 && !done; i++) await clock.advance(0.5);
      await p;
      expect(Buffer.compare(rx.received.subarray(START), image.subarray(START))).toBe(0);
      expect(stats.retransmits).toBeGreaterThanOrEqual(lose.length);
      return stats.srttMs;
    };
    const clean = await srttWith([]);
    const lossy = await srttWith(Array.from({ length: 15 }, (_, i) => 4 + i * 10));
    expect(clean).toBeGreaterThan(32); // two latencies at least: the model is really delayed
    expect(lossy).toBeLessThan(clean * 1.15);
  });

  it('gives up with TIMEOUT after repeated silence, reporting where it stopped', async () => {
    const clock = new FakeClock();
    const { image, rx, hostLink } = setup(20_000, { clock });
    rx.deaf = true;
    const p = uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter() });
    let settled = false;
    const caught = p.catch((e: unknown) => e).finally(() => { settled = true; });
    for (let i = 0; i < 200 && !settled; i++) await clock.advance(500);
    const err = (await caught) as { code?: string; details?: { offset?: number } };
    expect(err.code).toBe('TIMEOUT');
    expect(err.details?.offset).toBe(START);
  });

  it('fails over as soon as the link is cut, not at the next retransmission timeout', async () => {
    const clock = new FakeClock();
    const pair = createMemoryLink({ clock });
    const image = randomBytes(60_000);
    const rx = new IdealReceiver(pair[1], image.length, START, CHUNK, 2 * CHUNK);
    rx.deaf = true; // everything granted (two chunks) is sent; the host then waits for ACKs
    const hostLink = new DeviceLink(pair[0], clock);
    const stats = newUploadStats();
    const p = uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter(), stats });
    let failedAt = -1;
    const caught = p.catch((e: unknown) => { failedAt = clock.now(); return e; });
    for (let i = 0; i < 40; i++) await clock.advance(10); // both frames are on the wire (115200 baud)
    expect(stats.framesSent).toBe(2); // the whole credit went out, and nothing failed yet
    expect(failedAt).toBe(-1);
    const cutAt = clock.now();
    pair.disconnect(); // the USB adapter vanishes
    for (let i = 0; i < MIN_RTO_MS / 4 && failedAt < 0; i++) await clock.advance(1);
    // within a quarter of the smallest possible RTO (fake time)
    expect(failedAt, 'still waiting after the cut').toBeGreaterThanOrEqual(cutAt);
    expect(await caught).toMatchObject({ code: 'LINK_LOST' });
    expect(stats.timeouts).toBe(0);
  });

  it('turns an error status in an ACK into the mapped OtaError', async () => {
    const { image, hostLink, clock, dev } = setup(20_000, {});
    const { encodeMessage, STATUS } = await import('../../src/protocol/index.js');
    dev.onData(() => void dev.write(encodeMessage({ type: 'ACK', status: STATUS.WRONG_CHIP, nextOffset: START, creditEnd: START + CHUNK, sack: 0, busyMs: 0 })));
    await expect(uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: START + 4 * CHUNK, clock, reporter: new MemoryReporter() }))
      .rejects.toMatchObject({ code: 'WRONG_CHIP' });
  });

  it('is aborted by its signal', async () => {
    const { image, rx, hostLink, clock } = setup(20_000, {});
    rx.deaf = true;
    const ac = new AbortController();
    const p = uploadData(hostLink, { image, start: START, chunk: CHUNK, creditEnd: rx.creditEnd(), clock, reporter: new MemoryReporter(), signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
