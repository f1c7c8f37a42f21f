/**
 * A refusal that ends a session also clears its durable record (SPEC §7 "Clearing the record"),
 * as the C receiver does: a refused resume (an early check fails again at BEGIN, e.g. the image is
 * now a downgrade without ALLOW_DOWNGRADE) and a FLASH_ERROR in the data phase. Before, the
 * simulator kept the record in both cases while the C receiver erased it, so the two devices
 * answered the next BEGIN differently (resume vs fresh start).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, SimDevice } from '../../src/device-sim/index.js';
import { FlashError } from '../../src/device-sim/flash.js';
import { BEGIN_FLAGS, STATUS, type MessageOf } from '../../src/protocol/index.js';
import { Probe, beginMsg, CHUNK, dataMsg, makeImage, testKey } from './helpers.js';

const older = makeImage({ version: '0.9.0', size: 40 * 1024 }); // older than the factory app 1.0.0-factory

async function partial(p: Probe, image: Uint8Array, upTo: number): Promise<void> {
  for (let o = 512; o < upTo; o += CHUNK) await p.send(dataMsg(image, o));
}

describe('a refusal that ends a session clears its durable record', () => {
  it('a resume refused by the early checks (now a downgrade) leaves no record', async () => {
    const flash = createFlashImage();
    const dev = new SimDevice({ flash, key: testKey, clock: new FakeClock() });
    const probe = new Probe(dev);
    const [ok] = (await probe.send(beginMsg(older.enc, BEGIN_FLAGS.ALLOW_DOWNGRADE))) as MessageOf<'BEGIN_ACK'>[];
    expect(ok).toMatchObject({ status: STATUS.OK, nextOffset: 512 });
    await partial(probe, older.enc, 512 + 20 * CHUNK);
    await dev.settled();
    dev.powerCycle();
    expect(dev.records?.read()?.offset).toBeGreaterThan(512);
    const [refused] = (await probe.send(beginMsg(older.enc))) as MessageOf<'BEGIN_ACK'>[];
    expect(refused).toMatchObject({ status: STATUS.DOWNGRADE });
    await dev.settled();
    expect(dev.records?.read(), 'the refused session kept its record').toBeUndefined();
  });

  it('a FLASH_ERROR in the data phase leaves no record', async () => {
    const flash = createFlashImage();
    const dev = new SimDevice({ flash, key: testKey, clock: new FakeClock() });
    const probe = new Probe(dev);
    await probe.send(beginMsg(older.enc, BEGIN_FLAGS.ALLOW_DOWNGRADE));
    await partial(probe, older.enc, 512 + 10 * CHUNK);
    await dev.settled();
    expect(dev.records?.read()?.offset).toBeGreaterThan(512);
    const program = flash.program.bind(flash);
    let failed = false;
    flash.program = (addr: number, bytes: Uint8Array): void => {
      if (!failed && addr >= 0x110000 && addr < 0x210000) {
        failed = true;
        throw new FlashError('program failed (test)', addr);
      }
      program(addr, bytes);
    };
    const replies = [] as unknown[];
    for (let o = 512 + 10 * CHUNK; o < 512 + 20 * CHUNK && !failed; o += CHUNK) replies.push(...(await probe.send(dataMsg(older.enc, o))));
    await dev.settled();
    expect(failed).toBe(true);
    expect(replies.some((m) => (m as MessageOf<'ACK'>).status === STATUS.FLASH_ERROR)).toBe(true);
    expect(dev.records?.read(), 'the failed session kept its record').toBeUndefined();
  });
});
