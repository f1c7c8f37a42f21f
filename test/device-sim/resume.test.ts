/**
 * Resume (SPEC §6.4, §7): within a power cycle from the session in RAM, and across a power cut from
 * the durable record, with the GCM state rebuilt from the plaintext already in flash. The exact
 * image must boot, a partial image must never be set to boot, and the rebuilt state must still
 * authenticate every byte (a tampered byte before the resume point still fails).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../src/clock.js';
import {
  connectSim, createFlashImage, readDeviceState, readResumeRecord, SimDevice, type SimDeviceOptions,
} from '../../src/device-sim/index.js';
import { imageId } from '../../src/image/index.js';
import { BEGIN_FLAGS, FrameDecoder, HELLO_FLAGS, STATUS, decodeMessage, type MessageOf } from '../../src/protocol/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { push } from '../../src/session/index.js';
import { CHUNK, Probe, beginMsg, drive, fixture, makeImage, sendAll, testKey } from './helpers.js';

const BOOT = { chipRev: 300 };
const NVS = 0x9000;
const big = makeImage({ version: '2.0.0', size: 100 * 1024 });

function device(o: Partial<SimDeviceOptions> = {}) {
  const flash = o.flash ?? createFlashImage();
  const dev = new SimDevice({ flash, key: testKey, clock: o.clock ?? new FakeClock(), ...o });
  return { dev, flash, probe: new Probe(dev) };
}

function slotHolds(flash: ReturnType<typeof createFlashImage>, plain: Buffer): boolean {
  return flash.read(0x110000, plain.length).equals(plain);
}

describe('resume within a power cycle (session in RAM)', () => {
  it('push() picks up after the link drops: resume offset > 512, the exact image boots', async () => {
    const flash = createFlashImage();
    const dev = new SimDevice({ flash, key: testKey, clock: systemClock });
    let opens = 0;
    const open = async () => {
      opens++;
      // The first cable is cut after 40 kB from the host; the second one works.
      const c = connectSim(dev, { clock: systemClock, link: { pace: false, hostToDevice: opens === 1 ? { disconnectAfterBytes: 40_000 } : {} } });
      return c.host;
    };
    const reporter = new MemoryReporter();
    const r = await push({ image: big.enc, open, clock: systemClock, reporter, reconnectTimeoutMs: 2000 });
    const resumed = reporter.ofType('resume');
    expect(opens).toBe(2);
    expect(resumed).toHaveLength(1);
    expect(Number(resumed[0]!.offset)).toBeGreaterThan(512);
    expect(dev.stats.resumes).toBe(1);
    expect(dev.stats.resumesFromFlash).toBe(0);
    expect(r.after.boot.version).toBe('2.0.0');
    expect(slotHolds(flash, big.plain)).toBe(true);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('ota_0');
  });

  it('a new BEGIN with another chunk size continues at next_offset on a new grid', async () => {
    const { probe, flash } = device();
    await probe.send(beginMsg(big.enc));
    await sendAll(probe, big.enc.subarray(0, 512 + 5 * CHUNK));
    const [b] = (await probe.send(beginMsg(big.enc, 0, 512))) as MessageOf<'BEGIN_ACK'>[];
    expect(b).toMatchObject({ status: STATUS.OK, nextOffset: 512 + 5 * CHUNK });
    await sendAll(probe, big.enc, b!.nextOffset, 512);
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ status: STATUS.OK, version: '2.0.0' }]);
    expect(slotHolds(flash, big.plain)).toBe(true);
  });

  it('FRESH starts again at 512', async () => {
    const { probe } = device();
    await probe.send(beginMsg(big.enc));
    await sendAll(probe, big.enc.subarray(0, 512 + 3 * CHUNK));
    expect(await probe.send(beginMsg(big.enc, BEGIN_FLAGS.FRESH))).toMatchObject([{ status: STATUS.OK, nextOffset: 512 }]);
  });
});

describe('resume across a power cut (durable record, GCM rebuilt from flash)', () => {
  it('keeps a record that never claims more than the slot holds, and HELLO offers it after the reset', async () => {
    const { probe, dev, flash } = device();
    await probe.send(beginMsg(big.enc));
    await sendAll(probe, big.enc.subarray(0, 512 + 7 * CHUNK));
    const rec = readResumeRecord(flash, NVS)!;
    expect(rec.offset).toBe(512 + 7 * CHUNK);
    expect(rec.idPrefix.equals(imageId(big.enc).subarray(0, 20))).toBe(true);
    expect(flash.read(0x110000, 7 * CHUNK).equals(big.plain.subarray(0, 7 * CHUNK))).toBe(true);
    dev.powerCycle();
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('factory'); // the partial image is not set to boot
    const [h] = (await probe.send({ type: 'HELLO', hostProto: 1, flags: 0 })) as MessageOf<'HELLO_ACK'>[];
    expect(h!.flags & HELLO_FLAGS.RESUMABLE).toBe(HELLO_FLAGS.RESUMABLE);
    expect(h!.resumeOffset).toBe(512 + 7 * CHUNK);
    expect(Buffer.from(h!.resumeId.subarray(0, 20)).equals(imageId(big.enc).subarray(0, 20))).toBe(true);
  });

  it('with an IRAM-safe ISR every OK acknowledgement is already durable (the record covers it when the ACK leaves)', async () => {
    const clock = new FakeClock();
    const flash = createFlashImage();
    const dev = new SimDevice({ flash, key: testKey, clock, flashTiming: 'esp32' });
    const dec = new FrameDecoder();
    let checked = 0;
    dev.onOutput((b) => {
      for (const f of dec.push(b)) {
        const m = decodeMessage(f);
        if (m?.type !== 'ACK' || m.status !== STATUS.OK || m.nextOffset === 512) continue;
        expect(readResumeRecord(flash, NVS)?.offset ?? 0).toBeGreaterThanOrEqual(Math.min(m.nextOffset, big.enc.length - 16));
        checked++;
      }
    });
    const c = connectSim(dev, { clock });
    // One chunk per frame: one write, one record and one ACK per KiB, so ~100 ACKs to check.
    await drive(clock, push({ image: big.enc, open: async () => c.host, clock, chunksPerFrame: 1 }));
    expect(checked).toBeGreaterThan(90);
  });

  it('a second push() after the power cut reports a resume offset > 512 and boots the exact image', async () => {
    const { probe, dev, flash } = device({ clock: systemClock });
    await probe.send(beginMsg(big.enc));
    await sendAll(probe, big.enc.subarray(0, 512 + 40 * CHUNK));
    dev.powerCycle();
    const c = connectSim(dev, { clock: systemClock, link: { pace: false } });
    const r = await push({ image: big.enc, open: async () => c.host, clock: systemClock });
    expect(r.resumeOffset).toBe(512 + 40 * CHUNK);
    expect(r.bytesSent).toBe(big.enc.length - r.resumeOffset);
    expect(dev.stats.resumesFromFlash).toBe(1);
    expect(slotHolds(flash, big.plain)).toBe(true);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('ota_0');
    expect(readResumeRecord(flash, NVS)).toBeUndefined(); // cleared once the image is set to boot
  });

  it('push() survives a device reset in mid-transfer (faults.resetAtOffset) on a paced link', async () => {
    const clock = new FakeClock();
    const flash = createFlashImage();
    const dev = new SimDevice({ flash, key: testKey, clock, flashTiming: 'esp32', bootLog: true, faults: { resetAtOffset: 60_000 } });
    const c = connectSim(dev, { clock });
    const reporter = new MemoryReporter();
    const r = await drive(clock, push({ image: big.enc, open: async () => c.host, clock, reporter }));
    expect(dev.stats.resets).toBe(1);
    expect(dev.stats.resumesFromFlash).toBe(1);
    const resumed = reporter.ofType('resume');
    expect(resumed).toHaveLength(1);
    expect(Number(resumed[0]!.offset)).toBeGreaterThan(512);
    expect(Number(resumed[0]!.offset)).toBeLessThanOrEqual(60_000);
    expect(r.after.boot.version).toBe('2.0.0');
    expect(slotHolds(flash, big.plain)).toBe(true);
  });

  it('the rebuilt GCM state still covers bytes before the resume point: a tampered one fails AUTH_FAILED', async () => {
    const img = fixture('app_esp32.rsa.enc.tampered_ct.bin'); // ciphertext byte 100 flipped
    const { probe, dev, flash } = device();
    await probe.send(beginMsg(img));
    await sendAll(probe, img.subarray(0, 512 + 2 * CHUNK));
    dev.powerCycle();
    expect(await probe.send(beginMsg(img))).toMatchObject([{ status: STATUS.OK, nextOffset: 512 + 2 * CHUNK }]);
    await sendAll(probe, img, 512 + 2 * CHUNK);
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ status: STATUS.AUTH_FAILED }]);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('factory');
  });

  it('the same path with the untampered image authenticates and boots', async () => {
    const img = fixture('app_esp32.rsa.enc.bin');
    const { probe, dev, flash } = device();
    await probe.send(beginMsg(img));
    await sendAll(probe, img.subarray(0, 512 + 2 * CHUNK));
    dev.powerCycle();
    await probe.send(beginMsg(img));
    await sendAll(probe, img, 512 + 2 * CHUNK);
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ status: STATUS.OK, version: '1.2.3-vector' }]);
    expect(slotHolds(flash, fixture('app_esp32.bin'))).toBe(true);
  });

  it('rewrites the sector when the bytes after the resume point are not blank', async () => {
    const { probe, dev, flash } = device();
    await probe.send(beginMsg(big.enc));
    await sendAll(probe, big.enc.subarray(0, 512 + 3 * CHUNK));
    dev.powerCycle();
    flash.program(0x110000 + 3 * CHUNK, new Uint8Array(100)); // junk (zeros) right after the recorded point
    expect(await probe.send(beginMsg(big.enc))).toMatchObject([{ status: STATUS.OK, nextOffset: 512 + 3 * CHUNK }]);
    await sendAll(probe, big.enc, 512 + 3 * CHUNK);
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ status: STATUS.OK }]);
    expect(dev.stats.sectorRewrites).toBe(1);
    expect(slotHolds(flash, big.plain)).toBe(true);
  });

  it('FRESH and a different image both discard the record', async () => {
    const { probe, dev, flash } = device();
    await probe.send(beginMsg(big.enc));
    await sendAll(probe, big.enc.subarray(0, 512 + 3 * CHUNK));
    dev.powerCycle();
    expect(await probe.send(beginMsg(big.enc, BEGIN_FLAGS.FRESH))).toMatchObject([{ status: STATUS.OK, nextOffset: 512 }]);
    expect(readResumeRecord(flash, NVS)).toBeUndefined();
    await sendAll(probe, big.enc.subarray(0, 512 + 3 * CHUNK));
    dev.powerCycle();
    const other = makeImage({ version: '3.0.0', size: 20 * 1024 }).enc;
    expect(await probe.send(beginMsg(other))).toMatchObject([{ status: STATUS.OK, nextOffset: 512 }]);
    expect(readResumeRecord(flash, NVS)).toBeUndefined();
  });

  it('clearing the record erases its sector: END, a failed END, ABORT, FRESH, another image (SPEC §7)', async () => {
    const erased = (flash: ReturnType<typeof createFlashImage>) => flash.read(NVS, 0x1000).every((b) => b === 0xff);
    const started = async (o: Partial<SimDeviceOptions> = {}, img: Uint8Array = big.enc) => {
      const d = device(o);
      await d.probe.send(beginMsg(img));
      await sendAll(d.probe, img.subarray(0, 512 + 3 * CHUNK));
      expect(erased(d.flash)).toBe(false); // a record exists
      return d;
    };
    let d = await started();
    await sendAll(d.probe, big.enc, 512 + 3 * CHUNK);
    expect(await d.probe.send({ type: 'END', flags: 0 })).toMatchObject([{ status: STATUS.OK }]);
    expect(erased(d.flash)).toBe(true);
    const tampered = fixture('app_esp32.rsa.enc.tampered_ct.bin');
    d = device();
    await d.probe.send(beginMsg(tampered));
    await sendAll(d.probe, tampered);
    expect(erased(d.flash)).toBe(false);
    expect(await d.probe.send({ type: 'END', flags: 0 })).toMatchObject([{ status: STATUS.AUTH_FAILED }]);
    expect(erased(d.flash)).toBe(true);
    d = await started();
    expect(await d.probe.send({ type: 'ABORT' })).toMatchObject([{ type: 'ABORT_ACK', status: STATUS.OK }]);
    expect(erased(d.flash)).toBe(true);
    d = await started();
    d.dev.powerCycle();
    expect(await d.probe.send(beginMsg(big.enc, BEGIN_FLAGS.FRESH))).toMatchObject([{ status: STATUS.OK, nextOffset: 512 }]);
    expect(erased(d.flash)).toBe(true);
    d = await started();
    d.dev.powerCycle();
    expect(await d.probe.send(beginMsg(makeImage({ version: '3.0.0', size: 20 * 1024 }).enc))).toMatchObject([{ status: STATUS.OK, nextOffset: 512 }]);
    expect(erased(d.flash)).toBe(true);
  });

  it('without an IRAM-safe ISR the record follows the flash batches (and still resumes)', async () => {
    const { probe, dev, flash } = device({ iramUart: false, window: 4 * CHUNK });
    await probe.send(beginMsg(big.enc));
    await sendAll(probe, big.enc.subarray(0, 512 + 6 * CHUNK)); // one batch of 4 written, 2 chunks only in RAM
    expect(readResumeRecord(flash, NVS)!.offset).toBe(512 + 4 * CHUNK);
    dev.powerCycle();
    expect(await probe.send(beginMsg(big.enc))).toMatchObject([{ status: STATUS.OK, nextOffset: 512 + 4 * CHUNK }]);
    await sendAll(probe, big.enc, 512 + 4 * CHUNK);
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ status: STATUS.OK }]);
    expect(slotHolds(flash, big.plain)).toBe(true);
  });
});

describe('recordInterval: a durable record every N plaintext bytes (the firmware uses 65536)', () => {
  it('records only when an interval is complete, and a power cut resumes from the last one', async () => {
    const { probe, dev, flash } = device({ clock: systemClock, recordInterval: 16 * 1024 });
    await probe.send(beginMsg(big.enc));
    await sendAll(probe, big.enc.subarray(0, 512 + 40 * CHUNK));
    expect(dev.stats.records).toBe(2); // at 16 KiB and 32 KiB of plaintext
    expect(readResumeRecord(flash, NVS)?.offset).toBe(512 + 32 * 1024);
    dev.powerCycle();
    const c = connectSim(dev, { clock: systemClock, link: { pace: false } });
    const r = await push({ image: big.enc, open: async () => c.host, clock: systemClock });
    expect(r.resumeOffset).toBe(512 + 32 * 1024);
    expect(slotHolds(flash, big.plain)).toBe(true);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('ota_0');
  });

  it('spends less modelled flash time than a record after every write', async () => {
    const busy = async (recordInterval: number): Promise<number> => {
      const clock = new FakeClock();
      const dev = new SimDevice({ flash: createFlashImage(), key: testKey, clock, flashTiming: 'esp32', recordInterval });
      const c = connectSim(dev, { clock });
      await drive(clock, push({ image: big.enc, open: async () => c.host, clock, chunksPerFrame: 1 }));
      return dev.stats.flashBusyMs;
    };
    const every = await busy(0);
    const sparse = await busy(65536);
    // 100 one-KiB writes: ~100 record programs (0.7 ms each) against 1.
    expect(every - sparse).toBeGreaterThan(60);
  });

  it('refuses an interval above SPEC §7 maximum', () => {
    expect(() => device({ recordInterval: 65537 })).toThrow(/recordInterval/);
    expect(() => device({ recordInterval: -1 })).toThrow(/recordInterval/);
  });
});
