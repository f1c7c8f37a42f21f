/**
 * A lost BEGIN, BEGIN_ACK, END or RESULT (session/reply-timeout.ts, SPEC §4.4, §4.7): the host
 * sends the request again once the device has been silent for longer than it may be, instead of
 * waiting out BEGIN_TIMEOUT (5 s) or END_TIMEOUT (10 s) and reconnecting. And a device that works
 * long but announces it (ACK(BUSY): key unwrap, verification) never gets a repeat.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, readDeviceState, SimDevice } from '../../src/device-sim/index.js';
import { encodeMessage, MIN_RTO_MS, STATUS, type Message } from '../../src/protocol/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { push } from '../../src/session/index.js';
import { DeviceLink } from '../../src/session/device-link.js';
import { DEVICE_QUIET_MS, repeatWhenQuiet, replyTimeoutMs } from '../../src/session/reply-timeout.js';
import { createMemoryLink } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import { DEVICE_KEY, drive, tapFrames, testImage } from './rig.js';

const LATENCY = 16;
const BAUD = 921600;

/** Spoils the first frame of `type` in the direction it travels. */
function spoilFirst(type: Message['type']): (m: Message) => boolean {
  let done = false;
  return (m) => {
    if (done || m.type !== type) return false;
    done = true;
    return true;
  };
}

interface RunOptions {
  /** Frames from the host to spoil. */
  host?: (m: Message) => boolean;
  /** Frames from the device to spoil. */
  device?: (m: Message) => boolean;
  flashTiming?: 'instant' | 'esp32';
  size?: number;
  flash?: ReturnType<typeof createFlashImage>;
  image?: Buffer;
  fresh?: boolean;
}

async function run(o: RunOptions = {}) {
  const clock = new FakeClock();
  const flash = o.flash ?? createFlashImage();
  const device = new SimDevice({ flash, key: DEVICE_KEY, clock, flashTiming: o.flashTiming ?? 'instant', baud: BAUD, iramUart: false });
  await drive(clock, device.settled());
  const image = o.image ?? testImage(o.size ?? 20_000, '3.0.0');
  const open = async (): Promise<Transport> => {
    const [host, dev] = createMemoryLink({ clock, baud: BAUD, aToB: { pace: true, latencyMs: LATENCY }, bToA: { pace: true, latencyMs: LATENCY } });
    if (o.host) tapFrames(host, o.host);
    if (o.device) tapFrames(dev, o.device);
    device.attach(dev);
    return host;
  };
  const reporter = new MemoryReporter();
  const t0 = clock.now();
  const out = await drive(clock, push({ image, open, clock, reporter, fresh: o.fresh ?? true }), 1);
  const ms = clock.now() - t0;
  const repeats = reporter.ofType('retry').filter((e) => e.reason === 'unanswered').map((e) => e.request);
  const ota0 = readDeviceState(flash, { chipRev: 300 }).parts.find((p) => p.label === 'ota_0');
  return { out, ms, repeats, resyncs: reporter.ofType('resync').length, ota0, flash };
}

describe('a request the device did not answer is sent again after a short silence', () => {
  // Before: BEGIN_TIMEOUT (5 s) and a reconnect for BEGIN or BEGIN_ACK, END_TIMEOUT (10 s) for END.
  it.each([
    ['BEGIN lost: sent again', 'host', 'BEGIN', 'BEGIN'],
    ['BEGIN_ACK lost: the repeated BEGIN resumes the session the first one opened', 'device', 'BEGIN_ACK', 'BEGIN'],
    ['END lost: sent again', 'host', 'END', 'END'],
  ] as const)('%s, no reconnect, within 400 ms of a clean push', async (_what, side, type, request) => {
    const clean = await run();
    const r = await run({ [side]: spoilFirst(type) });
    expect(r.out.error).toBeUndefined();
    expect(r.repeats).toEqual([request]);
    expect(r.out.value!.retries).toBe(1);
    expect(r.resyncs).toBe(0);
    expect(r.ms - clean.ms).toBeLessThan(400);
    expect(r.ota0).toMatchObject({ valid: true, version: '3.0.0' });
  });

  it('RESULT lost: the repeated END finds no session, and HELLO shows the new image set to boot', async () => {
    const r = await run({ device: spoilFirst('RESULT') });
    expect(r.out.error).toBeUndefined();
    expect(r.repeats).toEqual(['END']);
    expect(r.resyncs).toBe(0);
    expect(r.ms).toBeLessThan(2000);
    expect(r.out.value!.after.boot).toMatchObject({ slot: 'ota_0', version: '3.0.0' });
    expect(r.ota0).toMatchObject({ valid: true, version: '3.0.0' });
  });

  it('never repeats to a device that announces its long work (key unwrap, flash, verification)', async () => {
    // ESP32 timings: a 250 ms key unwrap after BEGIN_ACK, erases, and a verification of the
    // 1 MB app at the end, each announced with ACK(BUSY) and each longer than a reply timeout.
    const r = await run({ flashTiming: 'esp32', size: 1_000_000 });
    expect(r.out.error).toBeUndefined();
    expect(r.repeats).toEqual([]);
    expect(r.ota0).toMatchObject({ valid: true, version: '3.0.0' });
  });

  it('never repeats BEGIN to a device that unwraps the key before answering (resume after a reset)', async () => {
    const flash = createFlashImage();
    const image = testImage(400_000, '3.0.0');
    // Cut the first push after some data: the device keeps its durable record.
    const first = await (async () => {
      const clock = new FakeClock();
      const device = new SimDevice({ flash, key: DEVICE_KEY, clock, flashTiming: 'esp32', baud: BAUD, recordInterval: 4096 });
      await drive(clock, device.settled());
      const [host, dev] = createMemoryLink({ clock, baud: BAUD, aToB: { pace: true, disconnectAfterBytes: 150_000 }, bToA: { pace: true } });
      device.attach(dev);
      return drive(clock, push({ image, open: async () => host, clock, maxResyncs: 0 }), 1);
    })();
    expect(first.error).toBeDefined();
    const r = await run({ flash, image, flashTiming: 'esp32', fresh: false });
    expect(r.out.error).toBeUndefined();
    expect(r.out.value!.resumeOffset).toBeGreaterThan(512);
    expect(r.repeats).toEqual([]);
  });
});

describe('repeatWhenQuiet', () => {
  async function setup() {
    const clock = new FakeClock();
    const [host, dev] = createMemoryLink({ clock, aToB: { pace: false }, bToA: { pace: false } });
    const link = new DeviceLink(host, clock);
    const sent: number[] = [];
    const stop = repeatWhenQuiet(link, { clock, quietMs: 300, resend: async () => { sent.push(clock.now()); } });
    const say = (m: Message) => dev.write(encodeMessage(m));
    return { clock, sent, stop, say };
  }

  it('repeats after the quiet time, then after twice as long each time', async () => {
    const { clock, sent, stop } = await setup();
    await clock.advance(2200);
    stop();
    expect(sent).toEqual([300, 900, 2100]);
  });

  it('counts from the device\'s last frame, and from the end of the work it announced', async () => {
    const { clock, sent, stop, say } = await setup();
    await clock.advance(250);
    await say({ type: 'PONG', status: 0, nonce: 1 }); // heard at 250: nothing before 550
    await clock.advance(250);
    await say({ type: 'ACK', status: STATUS.BUSY, nextOffset: 512, creditEnd: 512, sack: 0, busyMs: 1000 }); // busy until 1500
    await clock.advance(1700);
    expect(sent).toEqual([1800]);
    stop();
    await clock.advance(5000);
    expect(sent).toEqual([1800]); // stopped
  });

  it('takes the round trip, the device\'s quiet time and the request\'s wire time into account', () => {
    expect(replyTimeoutMs(0, 10, 921600)).toBe(MIN_RTO_MS);
    expect(replyTimeoutMs(33, 531, 3_000_000)).toBeCloseTo(Math.max(MIN_RTO_MS, 66 + DEVICE_QUIET_MS + 1.77), 1);
    // 531 bytes at 9600 baud take 553 ms on the wire
    expect(replyTimeoutMs(300, 531, 9600)).toBeCloseTo(600 + DEVICE_QUIET_MS + 553.1, 0);
  });
});
