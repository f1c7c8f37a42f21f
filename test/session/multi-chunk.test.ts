/**
 * Multi-chunk DATA frames (SPEC §4.5, HELLO_ACK bit5): once the first 32 chunks arrived without a
 * loss the host packs as many chunks into a frame as the device's max_frame holds, drops to one
 * chunk per frame at a loss, and doubles again only after 128 x (chunks per frame) chunks
 * delivered cleanly. A device without bit5 only ever gets
 * single chunks; one that has it but a small max_frame gets what fits.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { connectSim, createFlashImage, readDeviceState, SimDevice, type SimDeviceOptions } from '../../src/device-sim/index.js';
import { decodeMessage, FrameDecoder, HELLO_FLAGS, MSG, STATUS, encodeData, encodeMessage, type Message } from '../../src/protocol/index.js';
import { push } from '../../src/session/index.js';
import { FIRST_GROW, FrameSizer, GROW_AFTER } from '../../src/session/frame-sizer.js';
import type { Transport } from '../../src/transport/transport.js';
import { DEVICE_KEY, drive, tapFrames, testImage } from './rig.js';

const CHUNK = 1024;

/** Pushes an image (100 KiB by default); returns the payload length of every DATA frame the host sent, in order. */
async function pushAndLog(dev: Partial<SimDeviceOptions>, o: { spoil?: (m: Message, i: number) => boolean; chunksPerFrame?: number; size?: number; chunk?: number | 'default' } = {}) {
  const clock = new FakeClock();
  const flash = createFlashImage();
  const device = new SimDevice({ flash, key: DEVICE_KEY, clock, flashTiming: 'instant', ...dev });
  await drive(clock, device.settled());
  const image = testImage(o.size ?? 100 * 1024, '3.0.0');
  const lengths: number[] = [];
  const offsets: number[] = [];
  const open = async (): Promise<Transport> => {
    const c = connectSim(device, { clock, link: { hostToDevice: { latencyMs: 2 }, deviceToHost: { latencyMs: 2 } } });
    let i = 0;
    tapFrames(c.host, (m) => {
      if (m.type !== 'DATA') return false;
      lengths.push(m.data.length);
      offsets.push(m.offset);
      return o.spoil?.(m, i++) ?? false;
    });
    return c.host;
  };
  // 1 KiB chunks unless a test asks for push's own choice (512 with bit5), as these tests were written for.
  const chunk = o.chunk === 'default' ? undefined : (o.chunk ?? CHUNK);
  const out = await drive(clock, push({ image, open, clock, chunksPerFrame: o.chunksPerFrame, chunk }));
  return { out, lengths, offsets, flash, device };
}

describe('multi-chunk DATA frames', () => {
  it('fill the device max_frame on a clean link once 32 chunks arrived: 4 chunks per frame at max_frame 4112', async () => {
    const { out, lengths, flash } = await pushAndLog({});
    expect(out.error).toBeUndefined();
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
    const firstBig = lengths.findIndex((n) => n > CHUNK);
    // Single chunks until the 32nd is acknowledged: 32, plus those sent while its ACK was on its way.
    expect(firstBig).toBeGreaterThanOrEqual(FIRST_GROW);
    expect(firstBig).toBeLessThanOrEqual(2 * FIRST_GROW);
    expect(lengths.slice(0, firstBig).every((n) => n === CHUNK)).toBe(true);
    expect(lengths.slice(firstBig, -1).every((n) => n === 4 * CHUNK)).toBe(true);
  });

  it('carry only what max_frame holds (2058: two chunks) and nothing when the device lacks bit5', async () => {
    const two = await pushAndLog({ maxFrame: 2058 });
    expect(two.out.error).toBeUndefined();
    expect(Math.max(...two.lengths)).toBe(2 * CHUNK);
    const single = await pushAndLog({ multiChunk: false });
    expect(single.out.error).toBeUndefined();
    expect(Math.max(...single.lengths)).toBe(CHUNK);
    expect(readDeviceState(single.flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });

  it('use 512-byte chunks by default with bit5 (frames still grow to max_frame), 1 KiB without it', async () => {
    const multi = await pushAndLog({}, { chunk: 'default' });
    expect(multi.out.error).toBeUndefined();
    expect(multi.out.value!.chunk).toBe(512);
    expect(multi.lengths[0]).toBe(512);
    expect(Math.max(...multi.lengths)).toBe(8 * 512); // 4112 - 10 bytes hold eight
    expect(readDeviceState(multi.flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
    const single = await pushAndLog({ multiChunk: false }, { chunk: 'default' });
    expect(single.out.error).toBeUndefined();
    expect(single.out.value!.chunk).toBe(1024);
    expect(Math.max(...single.lengths)).toBe(1024);
  });

  it('--frame-chunks 1 (chunksPerFrame) keeps one chunk per frame even where the device takes more', async () => {
    const r = await pushAndLog({}, { chunksPerFrame: 1 });
    expect(r.out.error).toBeUndefined();
    expect(Math.max(...r.lengths)).toBe(CHUNK);
  });

  it('drop to one chunk per frame at a loss, resend the lost chunks one by one, and grow again after 128 clean chunks', async () => {
    let big = 0;
    let spoilAt = -1; // the fourth DATA frame of 4 chunks
    const spoil = (m: Message, i: number): boolean => {
      if (m.type !== 'DATA' || m.data.length !== 4 * CHUNK || ++big !== 4) return false;
      spoilAt = i;
      return true;
    };
    const { out, lengths, offsets, flash } = await pushAndLog({}, { spoil, size: 300 * 1024 });
    expect(out.error).toBeUndefined();
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
    expect(spoilAt).toBeGreaterThan(0);
    // The 4 chunks of the lost frame come back one by one.
    const lostAt = offsets[spoilAt]!;
    const resends = offsets.map((o, i) => ({ o, i })).filter(({ o, i }) => i > spoilAt && o >= lostAt && o < lostAt + 4 * CHUNK);
    expect(resends.map((r) => r.o)).toEqual([lostAt, lostAt + CHUNK, lostAt + 2 * CHUNK, lostAt + 3 * CHUNK]);
    expect(resends.every(({ i }) => lengths[i] === CHUNK)).toBe(true);
    // Frames already sent behind the lost one kept their 4 chunks (the loss shows one round trip
    // later); new data sent once the loss is known goes out one chunk per frame, and in larger
    // frames again after 128 chunks sent since were delivered.
    const fresh = lengths.map((n, i) => ({ n, i, o: offsets[i]! })).filter(({ i, o }) => i > resends[0]!.i && o >= lostAt + 4 * CHUNK);
    expect(fresh[0]!.n).toBe(CHUNK);
    const firstBig = fresh.findIndex(({ n }) => n > CHUNK);
    expect(firstBig).toBeGreaterThan(0);
    // (the 4 resends count among them)
    expect(fresh.slice(0, firstBig).reduce((a, { n }) => a + n, 0)).toBeGreaterThanOrEqual((GROW_AFTER - 4) * CHUNK);
    expect(fresh[firstBig]!.n).toBe(2 * CHUNK); // doubling: 1, 2, then 4 after 256 more
    expect(fresh.slice(firstBig, -1).every(({ n }) => n >= 2 * CHUNK)).toBe(true);
  });
});

describe('FrameSizer', () => {
  it('starts at 1, goes to its maximum after 32 clean chunks, falls to 1 at a loss and then doubles only after 128 x its size chunks sent after it', () => {
    const s = new FrameSizer(4);
    let order = 0;
    const deliver = (n: number): void => { for (let i = 0; i < n; i++) s.delivered(++order); };
    expect(s.chunks).toBe(1);
    deliver(FIRST_GROW - 1);
    expect(s.chunks).toBe(1);
    deliver(1);
    expect(s.chunks).toBe(4);
    deliver(3);
    s.lost(order + 10); // transmissions up to order + 10 were already on their way
    expect(s.chunks).toBe(1);
    deliver(10); // sent before the loss was seen: they do not count
    deliver(GROW_AFTER - 1);
    expect(s.chunks).toBe(1);
    deliver(1);
    expect(s.chunks).toBe(2);
    deliver(2 * GROW_AFTER - 1);
    expect(s.chunks).toBe(2);
    deliver(1);
    expect(s.chunks).toBe(4);
    deliver(10 * GROW_AFTER);
    expect(s.chunks).toBe(4);
    s.lost(order);
    deliver(GROW_AFTER - 1);
    expect(s.chunks).toBe(1);
    const early = new FrameSizer(4);
    early.lost(0); // a loss before the first 32: the careful rule from then on
    for (let i = 1; i <= FIRST_GROW; i++) early.delivered(i);
    expect(early.chunks).toBe(1);
    expect(new FrameSizer(1).chunks).toBe(1);
  });
});

describe('a device without multi-chunk DATA (bit5 clear)', () => {
  it('says so in HELLO_ACK and refuses a frame of two chunks with BAD_REQUEST, the session going on', async () => {
    const clock = new FakeClock();
    const device = new SimDevice({ flash: createFlashImage(), key: DEVICE_KEY, clock, flashTiming: 'instant', multiChunk: false });
    await drive(clock, device.settled());
    const got: Message[] = [];
    const dec = new FrameDecoder();
    device.onOutput((b) => { for (const f of dec.push(b)) { const m = decodeMessage(f); if (m) got.push(m); } });
    const image = testImage(20_000, '3.0.0');
    const feed = async (bytes: Uint8Array): Promise<void> => { device.feed(bytes); await drive(clock, device.settled()); };
    await feed(encodeMessage({ type: 'HELLO', hostProto: 1, flags: 0 }));
    const hello = got.find((m) => m.type === 'HELLO_ACK');
    expect(hello && hello.type === 'HELLO_ACK' && hello.flags & HELLO_FLAGS.MULTI_CHUNK).toBe(0);
    await feed(encodeMessage({ type: 'BEGIN', flags: 0, chunk: CHUNK, total: image.length, header: image.subarray(0, 512) }));
    got.length = 0;
    await feed(encodeData(512, image.subarray(512, 512 + 2 * CHUNK)));
    expect(got).toEqual([{ type: 'REPLY', code: MSG.ACK, status: STATUS.BAD_REQUEST }]);
    got.length = 0;
    await feed(encodeData(512, image.subarray(512, 512 + CHUNK)));
    expect(got.at(-1)).toMatchObject({ type: 'ACK', status: STATUS.OK, nextOffset: 512 + CHUNK });
  });
});
