/**
 * END writes otadata and clears the durable resume record (SPEC §4.7 step 3-4, §7). Found by the
 * fault matrix (scripts/faults, row "cut in otadata write"): the record was cleared after the
 * otadata write, so a power cut between the two left a record for an image that was already set to
 * boot. After the reset the device runs that image, its update slot is the *other* slot, and a
 * BEGIN of the same image "resumed" the record there: the GCM state was rebuilt from bytes that are
 * not this image, and the push failed with NOT_APP / INVALID_IMAGE (or, over an older app with
 * --allow-downgrade, wrote on top of it and failed with AUTH_FAILED).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, readDeviceState, SimDevice } from '../../src/device-sim/index.js';
import { BEGIN_FLAGS, STATUS, type MessageOf } from '../../src/protocol/index.js';
import { Probe, beginMsg, makeImage, sendAll, testKey } from './helpers.js';

const OTADATA = [0xd000, 0xf000];
const NVS = 0x9000;
const img = makeImage({ version: '2.0.0', size: 40 * 1024 });

describe('a power cut right after END has switched otadata', () => {
  it('leaves no resume record behind: the same image then starts afresh in the other slot and installs', async () => {
    const flash = createFlashImage();
    const dev = new SimDevice({ flash, key: testKey, clock: new FakeClock() });
    const probe = new Probe(dev);
    // Cut the power as soon as the otadata entry has been programmed (before anything after it).
    const program = flash.program.bind(flash);
    let cut = false;
    flash.program = (addr: number, bytes: Uint8Array): void => {
      program(addr, bytes);
      if (!cut && addr >= OTADATA[0]! && addr < OTADATA[1]!) {
        cut = true;
        dev.powerCycle();
        throw new Error('power cut');
      }
    };
    await probe.send(beginMsg(img.enc));
    await sendAll(probe, img.enc);
    await probe.send({ type: 'END', flags: 0 });
    expect(cut).toBe(true);
    await dev.settled();
    // After the reset the new image runs from ota_0; the next update slot is ota_1.
    expect(dev.lastBoot).toMatchObject({ running: 'ota_0', version: '2.0.0' });
    expect(dev.records?.read(), 'a resume record survived the otadata switch').toBeUndefined();

    const [ack] = (await probe.send(beginMsg(img.enc, BEGIN_FLAGS.ALLOW_DOWNGRADE))) as MessageOf<'BEGIN_ACK'>[];
    expect(ack).toMatchObject({ status: STATUS.OK, nextOffset: 512, target: 2 });
    await sendAll(probe, img.enc);
    const [res] = (await probe.send({ type: 'END', flags: 0 })) as MessageOf<'RESULT'>[];
    expect(res).toMatchObject({ status: STATUS.OK, version: '2.0.0' });
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_1');
    expect(flash.read(NVS, 32).every((b) => b === 0xff)).toBe(true);
  });
});
