/**
 * The data phase and its end, frame by frame (SPEC §4.5-§4.8): ACK, credit, SACK, duplicates,
 * BAD_REQUEST, NO_SESSION, the early checks within the first window, END with every outcome, ABORT.
 * Every refusal leaves the flash booting what it booted before.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, readDeviceState, SimDevice, type SimDeviceOptions } from '../../src/device-sim/index.js';
import { checkAppImage } from '../../src/image/index.js';
import { BEGIN_FLAGS, MSG, STATUS, type MessageOf } from '../../src/protocol/index.js';
import { CHUNK, Probe, beginMsg, dataMsg, encryptForTest, fixture, makeImage, sendAll, testKey } from './helpers.js';

const image = fixture('app_esp32.rsa.enc.bin'); // 3664 bytes: chunks at 512, 1536, 2560, 3584 (80 bytes)
const BOOT = { chipRev: 300 };

function device(o: Partial<SimDeviceOptions> = {}) {
  const flash = o.flash ?? createFlashImage();
  const dev = new SimDevice({ flash, key: testKey, clock: new FakeClock(), ...o });
  return { dev, flash, probe: new Probe(dev) };
}

async function begun(o: Partial<SimDeviceOptions> = {}, img: Uint8Array = image, flags = 0) {
  const d = device(o);
  const [ack] = (await d.probe.send(beginMsg(img, flags))) as MessageOf<'BEGIN_ACK'>[];
  expect(ack!.status).toBe(STATUS.OK);
  return { ...d, ack: ack! };
}

const acks = (ms: unknown[]) => ms as MessageOf<'ACK'>[];

describe('DATA and ACK', () => {
  it('acknowledges in-order data with next_offset and credit that never decreases', async () => {
    const { probe } = await begun({ window: 2 * CHUNK });
    let credit = 0;
    for (const off of [512, 1536, 2560, 3584]) {
      const [a] = acks(await probe.send(dataMsg(image, off)));
      expect(a).toMatchObject({ status: STATUS.OK, nextOffset: Math.min(off + CHUNK, image.length), sack: 0 });
      expect(a!.creditEnd).toBeGreaterThanOrEqual(credit);
      expect(a!.creditEnd - a!.nextOffset).toBeLessThanOrEqual(2 * CHUNK);
      credit = a!.creditEnd;
    }
    expect(credit).toBe(image.length);
  });

  it('holds out-of-order chunks, reports them in sack, and consumes them once the hole is filled', async () => {
    const { probe, dev } = await begun();
    const [a1] = acks(await probe.send(dataMsg(image, 2560)));
    expect(a1).toMatchObject({ nextOffset: 512, sack: 0b10 }); // chunk at next + 2*chunk
    const [a2] = acks(await probe.send(dataMsg(image, 1536)));
    expect(a2).toMatchObject({ nextOffset: 512, sack: 0b11 });
    const [a3] = acks(await probe.send(dataMsg(image, 512)));
    expect(a3).toMatchObject({ nextOffset: 3584, sack: 0 });
    expect(dev.stats.outOfOrder).toBe(2);
  });

  it('takes a multi-chunk frame at next_offset as one run, and one with a held chunk inside chunk by chunk', async () => {
    const C = 256; // 3664 bytes: chunks from 512 to 3584, the last one 80 bytes
    const d = device();
    const [b] = (await d.probe.send(beginMsg(image, 0, C))) as MessageOf<'BEGIN_ACK'>[];
    expect(b!.status).toBe(STATUS.OK);
    await d.probe.send(dataMsg(image, 512, C), dataMsg(image, 768, C)); // the early checks need 288 bytes
    const [held] = acks(await d.probe.send(dataMsg(image, 1536, C)));
    expect(held).toMatchObject({ nextOffset: 1024, sack: 1 << 1 });
    // 1024..2047 holds the chunk at 1536: that one is a duplicate, the other three are consumed
    const [a] = acks(await d.probe.send(dataMsg(image, 1024, 4 * C)));
    expect(a).toMatchObject({ status: STATUS.OK, nextOffset: 2048, sack: 0 });
    expect(d.dev.stats).toMatchObject({ consumed: 6, duplicates: 1, outOfOrder: 1 });
    // nothing held inside: one run, counted as its four chunks; then the short end in one frame
    const [c] = acks(await d.probe.send(dataMsg(image, 2048, 4 * C)));
    expect(c).toMatchObject({ status: STATUS.OK, nextOffset: 3072, sack: 0 });
    const [e] = acks(await d.probe.send(dataMsg(image, 3072, 3 * C)));
    expect(e).toMatchObject({ status: STATUS.OK, nextOffset: image.length, sack: 0 });
    expect(d.dev.stats).toMatchObject({ consumed: 13, duplicates: 1 });
    const [r] = (await d.probe.send({ type: 'END', flags: 0 })) as MessageOf<'RESULT'>[];
    expect(r).toMatchObject({ status: STATUS.OK, version: '1.2.3-vector' });
  });

  it('answers duplicates (below next_offset, or already held) with a fresh ACK and counts them', async () => {
    const { probe, dev } = await begun();
    await probe.send(dataMsg(image, 512), dataMsg(image, 2560));
    const out = acks(await probe.send(dataMsg(image, 512), dataMsg(image, 2560)));
    expect(out.map((a) => [a.status, a.nextOffset, a.sack])).toEqual([[STATUS.OK, 1536, 0b1], [STATUS.OK, 1536, 0b1]]);
    expect(dev.stats.duplicates).toBe(2);
  });

  it('a short reply BAD_REQUEST for off-grid, beyond-credit, beyond-total or wrong-length data; the session continues', async () => {
    const { probe, dev } = await begun({ window: CHUNK });
    const bad = [
      { type: 'DATA', offset: 520, data: image.subarray(520, 1544) }, // off the grid
      dataMsg(image, 1536), // beyond credit_end (512 + 1 chunk)
      { type: 'DATA', offset: 512, data: image.subarray(512, 1000) }, // wrong length
      { type: 'DATA', offset: 512 + 4 * CHUNK, data: new Uint8Array(CHUNK) }, // beyond total
    ] as const;
    for (const m of bad) expect(await probe.send(m)).toEqual([{ type: 'REPLY', code: MSG.ACK, status: STATUS.BAD_REQUEST }]);
    expect(dev.stats.badRequests).toBe(4);
    expect(dev.stats.creditViolations).toBe(3); // the off-grid, beyond-credit and beyond-total frames all reach past credit_end
    expect(acks(await probe.send(dataMsg(image, 512)))[0]).toMatchObject({ status: STATUS.OK, nextOffset: 1536 });
  });

  it('NO_SESSION for DATA and END without a session', async () => {
    const { probe } = device();
    expect(acks(await probe.send(dataMsg(image, 512)))[0]!.status).toBe(STATUS.NO_SESSION);
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ type: 'RESULT', status: STATUS.NO_SESSION }]);
  });
});

describe('early checks on the first 288 plaintext bytes (SPEC §4.6)', () => {
  async function refusedEarly(img: Uint8Array, o: Partial<SimDeviceOptions> = {}, flags = 0) {
    const { probe, flash, dev } = await begun(o, img, flags);
    const before = flash.snapshot();
    const [a] = acks(await probe.send(dataMsg(img, 512)));
    // Refused on the very first DATA frame, nothing written, session gone, boot unchanged.
    expect(flash.snapshot().equals(before)).toBe(true);
    expect(acks(await probe.send(dataMsg(img, 1536)))[0]!.status).toBe(STATUS.NO_SESSION);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('factory');
    expect(dev.stats.refusals).toBe(1);
    lastRefusal = a!;
    return a!.status;
  }
  let lastRefusal: MessageOf<'ACK'> | undefined;

  it('NOT_APP when the plaintext does not start with 0xE9', async () => {
    expect(await refusedEarly(encryptForTest(Buffer.alloc(5000, 0x41)))).toBe(STATUS.NOT_APP);
  });

  it('NOT_APP when the app description magic is wrong', async () => {
    const plain = Buffer.from(fixture('app_esp32.bin'));
    plain[32]! ^= 0xff;
    expect(await refusedEarly(encryptForTest(plain))).toBe(STATUS.NOT_APP);
  });

  it('WRONG_CHIP for an ESP32-C3 image on an ESP32', async () => {
    expect(await refusedEarly(makeImage({ version: '9.0.0', chipId: 5 }).enc)).toBe(STATUS.WRONG_CHIP);
  });

  it('CHIP_REV when the device revision is outside the app range', async () => {
    expect(await refusedEarly(makeImage({ version: '9.0.0', minChipRevFull: 301 }).enc)).toBe(STATUS.CHIP_REV);
    expect(await refusedEarly(makeImage({ version: '9.0.0', maxChipRevFull: 299 }).enc)).toBe(STATUS.CHIP_REV);
  });

  it('SECURE_VERSION below the eFuse counter with anti-rollback', async () => {
    const flash = createFlashImage();
    flash.erase(0x10000, 0x10000); // a factory app with secure_version 2, so an eFuse of 2 still boots
    flash.program(0x10000, makeImage({ version: '1.0.0-factory', secureVersion: 2 }).plain);
    const img = makeImage({ version: '9.0.0', secureVersion: 1 }).enc;
    expect(await refusedEarly(img, { flash, antiRollback: true, efuseSecureVersion: 2 })).toBe(STATUS.SECURE_VERSION);
    // §4.5/§4.6: the error ACK carries the image's secure_version (in place of sack) as its detail
    expect(lastRefusal).toMatchObject({ nextOffset: 512 + 1024, sack: 1 });
  });

  it('every early refusal carries what the image wants as its detail (in place of sack)', async () => {
    expect(await refusedEarly(makeImage({ version: '9.0.0', chipId: 5 }).enc)).toBe(STATUS.WRONG_CHIP);
    expect(lastRefusal!.sack).toBe(5); // the image's chip id
    expect(await refusedEarly(makeImage({ version: '9.0.0', minChipRevFull: 301, maxChipRevFull: 399 }).enc)).toBe(STATUS.CHIP_REV);
    expect(lastRefusal!.sack).toBe(301 + 399 * 65536);
    expect(await refusedEarly(makeImage({ version: '1.0.0' }).enc)).toBe(STATUS.DOWNGRADE);
    expect(lastRefusal!.sack).toBe(1); // the same version as 1.0.0-factory
    expect(await refusedEarly(makeImage({ version: '0.9.9' }).enc)).toBe(STATUS.DOWNGRADE);
    expect(lastRefusal!.sack).toBe(2); // older
  });

  it('DOWNGRADE for the same or an older version unless ALLOW_DOWNGRADE', async () => {
    expect(await refusedEarly(makeImage({ version: '1.0.0' }).enc)).toBe(STATUS.DOWNGRADE);
    expect(await refusedEarly(makeImage({ version: '0.9.9' }).enc)).toBe(STATUS.DOWNGRADE);
    const img = makeImage({ version: '0.9.9' }).enc;
    const { probe } = await begun({}, img, BEGIN_FLAGS.ALLOW_DOWNGRADE);
    expect(acks(await probe.send(dataMsg(img, 512)))[0]!.status).toBe(STATUS.OK);
  });
});

describe('END (SPEC §4.7)', () => {
  it('INCOMPLETE before all data, with next_offset in detail; the session stays', async () => {
    const { probe } = await begun();
    await probe.send(dataMsg(image, 512));
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ type: 'RESULT', status: STATUS.INCOMPLETE, detail: 1536 }]);
    await sendAll(probe, image, 1536);
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ type: 'RESULT', status: STATUS.OK, boot: 1, version: '1.2.3-vector', secureVersion: 1 }]);
  });

  for (const name of ['app_esp32.rsa.enc.tampered_ct.bin', 'app_esp32.rsa.enc.tampered_tag.bin']) {
    it(`AUTH_FAILED for ${name}; otadata untouched, factory still boots`, async () => {
      const img = fixture(name);
      const { probe, flash } = device();
      await probe.send({ type: 'HELLO', hostProto: 1, flags: 0 }); // the device looks at its slots before...
      await probe.send(beginMsg(img));
      const otadata = flash.read(0xd000, 0x2000);
      await sendAll(probe, img);
      expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ type: 'RESULT', status: STATUS.AUTH_FAILED }]);
      expect(flash.read(0xd000, 0x2000).equals(otadata)).toBe(true);
      expect(readDeviceState(flash, BOOT).bootLabel).toBe('factory');
      // ...and HELLO_ACK afterwards shows ota_0 as it is now: written (the altered ciphertext decrypts
      // to an app that fails its checksum; with only the tag altered the app itself is intact), not set to boot.
      const [h] = (await probe.send({ type: 'HELLO', hostProto: 1, flags: 0 })) as MessageOf<'HELLO_ACK'>[];
      expect(h).toMatchObject({ boot: 0, target: 1 });
      expect(h!.parts[1]).toMatchObject({ valid: name.includes('tampered_tag'), version: '1.2.3-vector' });
    });
  }

  it('INVALID_IMAGE, with the offset of the failed check, for an app whose checksum is wrong', async () => {
    const img = encryptForTest(fixture('app_esp32.bad_checksum_and_sha.bin'));
    const { probe, flash } = await begun({}, img);
    await sendAll(probe, img);
    const [r] = (await probe.send({ type: 'END', flags: 0 })) as MessageOf<'RESULT'>[];
    expect(r).toMatchObject({ status: STATUS.INVALID_IMAGE });
    // The checksum byte: segments end at 24 + 8 + 1024 + 8 + 2048 = 3112, padded so that offset + 1 is a multiple of 16.
    const local = checkAppImage(fixture('app_esp32.bad_checksum_and_sha.bin'));
    expect(local.ok ? -1 : local.offset).toBe(3119);
    expect(r!.detail).toBe(3119);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('factory');
  });

  it('SECURE_VERSION at END when the eFuse counter rose during the transfer', async () => {
    const { probe, dev, flash } = await begun({ antiRollback: true });
    await sendAll(probe, image);
    dev.efuseSecureVersion = 2;
    // detail = the image's secure_version (1.2.3-vector has 1), so the host can say "1 < 2"
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ type: 'RESULT', status: STATUS.SECURE_VERSION, boot: 0xff, detail: 1 }]);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('factory');
  });

  it('RESULT names the slot and version that will boot; REBOOT then boots it', async () => {
    const { probe, dev, flash } = await begun();
    await sendAll(probe, image);
    const out = await probe.send({ type: 'END', flags: 1 });
    expect(out).toMatchObject([{ type: 'RESULT', status: STATUS.OK, boot: 1, version: '1.2.3-vector' }]);
    expect(dev.stats.resets).toBe(1);
    const [h] = (await probe.send({ type: 'HELLO', hostProto: 1, flags: 0 })) as MessageOf<'HELLO_ACK'>[];
    expect(h).toMatchObject({ running: 1, boot: 1, target: 2, runVersion: '1.2.3-vector' });
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('ota_0');
  });
});

describe('ABORT', () => {
  it('drops the session; DATA afterwards gets NO_SESSION; nothing boots differently', async () => {
    const { probe, flash } = await begun();
    await probe.send(dataMsg(image, 512));
    expect(await probe.send({ type: 'ABORT' })).toEqual([{ type: 'ABORT_ACK', status: STATUS.OK }]);
    expect(acks(await probe.send(dataMsg(image, 1536)))[0]!.status).toBe(STATUS.NO_SESSION);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('factory');
  });

  it('is answered OK without a session too', async () => {
    const { probe } = device();
    expect(await probe.send({ type: 'ABORT' })).toEqual([{ type: 'ABORT_ACK', status: STATUS.OK }]);
  });
});
