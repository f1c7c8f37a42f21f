/**
 * SPEC §4.4 step 5: a new session's key is unwrapped just after its BEGIN_ACK, so the RSA time
 * (250 ms in the ESP32 model) overlaps the host's first window instead of idling the wire. A key
 * that does not unwrap is then refused on every DATA and END until the next BEGIN, ABORT or
 * reset; nothing was erased or written, and the durable record of another image survives.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, SimDevice } from '../../src/device-sim/index.js';
import { STATUS, encodeMessage, type Message, type MessageOf } from '../../src/protocol/index.js';
import { CHUNK, Probe, beginMsg, dataMsg, drive, fixture, makeImage, testKey } from './helpers.js';

const otherKey = fixture('app_esp32.ecies.enc.bin'); // encrypted for a key this device does not hold
const good = makeImage({ version: '2.0.0', size: 40 * 1024 });

describe('the key of a new session is unwrapped after BEGIN_ACK', () => {
  it('refuses every DATA and END of an image for another key with WRONG_KEY, until ABORT', async () => {
    const flash = createFlashImage();
    const dev = new SimDevice({ flash, key: testKey, clock: new FakeClock() });
    const probe = new Probe(dev);
    // another image's progress, kept in the durable record across a power cut
    await probe.send(beginMsg(good.enc));
    for (let o = 512; o < 512 + 20 * CHUNK; o += CHUNK) await probe.send(dataMsg(good.enc, o));
    await dev.settled();
    dev.powerCycle();
    const record = dev.records?.read()?.offset;
    expect(record).toBeGreaterThan(512);
    const before = flash.snapshot();

    const [ack] = (await probe.send(beginMsg(otherKey))) as MessageOf<'BEGIN_ACK'>[];
    expect(ack).toMatchObject({ type: 'BEGIN_ACK', status: STATUS.OK, nextOffset: 512 });
    for (const off of [512, 512 + CHUNK]) {
      expect(await probe.send(dataMsg(otherKey, off))).toEqual([
        { type: 'ACK', status: STATUS.WRONG_KEY, nextOffset: 0, creditEnd: 0, sack: 0, busyMs: 0 },
      ]);
    }
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ type: 'RESULT', status: STATUS.WRONG_KEY }]);
    expect(flash.snapshot().equals(before), 'flash changed').toBe(true);
    expect(dev.records?.read()?.offset, 'the other image lost its record').toBe(record);

    await probe.send({ type: 'ABORT' });
    expect(await probe.send(dataMsg(otherKey, 512))).toMatchObject([{ type: 'ACK', status: STATUS.NO_SESSION }]);
  });

  it('answers BEGIN at once and announces the unwrap with ACK(BUSY); DATA sent meanwhile is consumed after it', async () => {
    const clock = new FakeClock();
    const dev = new SimDevice({ flash: createFlashImage(), key: testKey, clock, flashTiming: 'esp32' });
    await drive(clock, dev.settled());
    const out: { at: number; m: Message }[] = [];
    const probe = new Probe(dev);
    dev.onOutput(() => { for (const m of probe.received.splice(0)) out.push({ at: clock.now(), m }); });
    const t0 = clock.now();
    dev.feed(Buffer.concat([beginFrame(good.enc), dataFrame(good.enc, 512)]));
    await drive(clock, dev.settled(), 1);
    const beginAck = out.find((o) => o.m.type === 'BEGIN_ACK')!;
    const firstOk = out.find((o) => o.m.type === 'ACK' && (o.m as MessageOf<'ACK'>).status === STATUS.OK)!;
    expect(beginAck.m).toMatchObject({ status: STATUS.OK, nextOffset: 512 });
    expect(beginAck.at - t0, 'BEGIN_ACK waited for the unwrap').toBeLessThan(5);
    expect(out[1]!.m).toMatchObject({ type: 'ACK', status: STATUS.BUSY, busyMs: 250 });
    expect(firstOk.at - t0).toBeGreaterThanOrEqual(250);
    expect(firstOk.m).toMatchObject({ nextOffset: 512 + CHUNK });
  });
});

const beginFrame = (img: Uint8Array): Uint8Array => encodeMessage(beginMsg(img));
const dataFrame = (img: Uint8Array, off: number): Uint8Array => encodeMessage(dataMsg(img, off));
