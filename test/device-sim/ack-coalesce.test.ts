/**
 * ACK coalescing (SPEC §4.5 "MAY coalesce when more input is already waiting"): DATA frames that
 * arrive together and are consumed in order get one ACK, for the last of them; an ACK that reports
 * something (a hole, a duplicate) still goes out at once; and before the device goes quiet for
 * flash work it sends what it holds, so a slow flash never delays an acknowledgement.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, SimDevice, type SimDeviceOptions } from '../../src/device-sim/index.js';
import { encodeMessage, STATUS, type MessageOf } from '../../src/protocol/index.js';
import { beginMsg, CHUNK, dataMsg, drive, fixture, makeImage, Probe, testKey } from './helpers.js';

const image = fixture('app_esp32.rsa.enc.bin'); // 3664 bytes: chunks at 512, 1536, 2560, 3584

async function begun(o: Partial<SimDeviceOptions> = {}) {
  const clock = new FakeClock();
  const dev = new SimDevice({ flash: createFlashImage(), key: testKey, clock, ...o });
  const probe = new Probe(dev);
  await drive(clock, dev.settled()); // boot
  const out = await drive(clock, probe.send(beginMsg(image))); // esp32 timing: ACK(BUSY) first
  expect(out.find((m) => m.type === 'BEGIN_ACK')).toMatchObject({ status: STATUS.OK });
  return { dev, probe, clock };
}

const burst = (...offsets: number[]) => Buffer.concat(offsets.map((o) => encodeMessage(dataMsg(image, o))));
const acks = (ms: unknown[]) => ms as MessageOf<'ACK'>[];

describe('ACK coalescing', () => {
  it('answers a burst of in-order DATA frames with one ACK, for the last', async () => {
    const { probe, dev } = await begun();
    const out = acks(await probe.sendRaw(burst(512, 1536, 2560)));
    expect(out.map((a) => [a.type, a.status, a.nextOffset, a.sack])).toEqual([['ACK', STATUS.OK, 2560 + CHUNK, 0]]);
    expect(dev.stats.consumed).toBe(3);
    expect(dev.stats.acks).toBe(1);
  });

  it('acknowledges a long burst at least every eight frames, so a lagging device never starves the host', async () => {
    const big = makeImage({ version: '9.0.0', size: 24_000 }).enc; // 23 chunks
    const clock = new FakeClock();
    const dev = new SimDevice({ flash: createFlashImage(), key: testKey, clock });
    const probe = new Probe(dev);
    await drive(clock, dev.settled());
    await probe.send(beginMsg(big));
    const offsets = Array.from({ length: 20 }, (_, i) => 512 + i * CHUNK);
    const out = acks(await probe.sendRaw(Buffer.concat(offsets.map((o) => encodeMessage(dataMsg(big, o))))));
    expect(out.map((a) => (a.nextOffset - 512) / CHUNK)).toEqual([8, 16, 20]);
  });

  it('still reports a hole at once, and acknowledges the frame that fills it', async () => {
    const { probe } = await begun();
    const out = acks(await probe.sendRaw(burst(1536, 512)));
    expect(out.map((a) => [a.nextOffset, a.sack])).toEqual([[512, 0b1], [1536 + CHUNK, 0]]);
  });

  it('acknowledges each frame of a burst before its flash work when flash takes time', async () => {
    const { probe, clock } = await begun({ flashTiming: 'esp32' });
    const out = acks(await drive(clock, probe.sendRaw(burst(512, 1536, 2560))));
    expect(out.filter((a) => a.status === STATUS.OK || a.status === STATUS.BUSY).map((a) => a.nextOffset)).toEqual([1536, 2560, 3584]);
  });
});

describe('UartRx.frameWaiting', () => {
  it('is true only when a whole frame candidate (bytes, then a 0x00) sits in the ring', async () => {
    const { UartRx } = await import('../../src/device-sim/uart-rx.js');
    const rx = new UartRx(4096, true);
    expect(rx.frameWaiting()).toBe(false);
    rx.receive(Uint8Array.of(0, 0, 5, 6)); // delimiters, then half a frame
    expect(rx.frameWaiting()).toBe(false);
    rx.receive(Uint8Array.of(7));
    expect(rx.frameWaiting()).toBe(false);
    rx.receive(Uint8Array.of(0)); // the frame ends in another chunk
    expect(rx.frameWaiting()).toBe(true);
  });
});
