/**
 * HELLO_ACK bit6 (SPEC §4.2): a device that installed an image since it last reset reports the
 * whole file's SHA-256. A host that died after END, run again with the same file, has nothing to
 * send; a damaged copy of the file (same header, other ciphertext) still goes through BEGIN and
 * fails as it should; --fresh writes the image again; a resume from the durable record (which did
 * not see the bytes before it) reports no digest.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../src/clock.js';
import { connectSim, createFlashImage, readDeviceState, SimDevice } from '../../src/device-sim/index.js';
import { HELLO_FLAGS } from '../../src/protocol/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { deviceInfo, push } from '../../src/session/index.js';
import { beginMsg, CHUNK, drive, makeImage, Probe, sendAll, testKey } from '../device-sim/helpers.js';

const img = makeImage({ version: '2.0.0', size: 64 * 1024 });

function setup() {
  const clock = new FakeClock();
  const flash = createFlashImage();
  const device = new SimDevice({ flash, key: testKey, clock });
  const open = async () => connectSim(device, { clock }).host;
  return { clock, flash, device, open };
}

describe('a device that already installed this file (HELLO_ACK bit6)', () => {
  it('a second push of the same file sends nothing and reports where it boots from', async () => {
    const { clock, flash, device, open } = setup();
    const first = await drive(clock, push({ image: img.enc, open, clock }));
    expect(first.alreadyInstalled).toBeUndefined();
    expect(first.after.boot.slot).toBe('ota_0');
    const reporter = new MemoryReporter();
    const again = await drive(clock, push({ image: img.enc, open, clock, reporter }));
    expect(again).toMatchObject({ alreadyInstalled: true, bytesSent: 0, after: { boot: { slot: 'ota_0', version: '2.0.0' } } });
    expect(reporter.ofType('begin')).toEqual([]);
    expect(reporter.ofType('log').map((e) => e.message)).toContain('the device already has this image: 2.0.0 in ota_0, set to boot next (nothing to send; --fresh writes it again)');
    expect(device.stats.begins).toBe(1);
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });

  it('a damaged copy with the same header is not taken for it: BEGIN, then AUTH_FAILED', async () => {
    const { clock, open } = setup();
    await drive(clock, push({ image: img.enc, open, clock }));
    const damaged = Buffer.from(img.enc);
    damaged[damaged.length - 100]! ^= 0x01;
    const err = await drive(clock, push({ image: damaged, open, clock }).catch((e: unknown) => e));
    expect(err).toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('--fresh writes it again, to the other slot', async () => {
    const { clock, open } = setup();
    await drive(clock, push({ image: img.enc, open, clock }));
    const r = await drive(clock, push({ image: img.enc, open, clock, fresh: true }));
    expect(r.alreadyInstalled).toBeUndefined();
    expect(r.bytesSent).toBe(img.enc.length - 512);
    expect(r.after.boot.slot).toBe('ota_1');
  });

  it('with --reboot the device resets into it', async () => {
    const { clock, device, open } = setup();
    await drive(clock, push({ image: img.enc, open, clock }));
    const r = await drive(clock, push({ image: img.enc, open, clock, reboot: true }));
    expect(r).toMatchObject({ alreadyInstalled: true, after: { rebooting: true } });
    await clock.advance(3000);
    expect(device.booting).toBe(false);
    const info = await drive(clock, deviceInfo({ open, clock }));
    expect(info.running).toMatchObject({ slot: 'ota_0', version: '2.0.0' });
  });

  it('the device forgets it at a reset: the same push then writes the other slot', async () => {
    const { clock, device, open } = setup();
    await drive(clock, push({ image: img.enc, open, clock }));
    device.powerCycle();
    await clock.advance(3000);
    const r = await drive(clock, push({ image: img.enc, open, clock, allowDowngrade: true }));
    expect(r.alreadyInstalled).toBeUndefined();
    expect(r.after.boot.slot).toBe('ota_1');
  });

  it('is not reported for an image resumed from the durable record (the digest never saw its first bytes)', async () => {
    const flash = createFlashImage();
    const device = new SimDevice({ flash, key: testKey, clock: systemClock });
    const probe = new Probe(device);
    await probe.send(beginMsg(img.enc));
    await sendAll(probe, img.enc.subarray(0, 512 + 20 * CHUNK));
    device.powerCycle();
    const open = async () => connectSim(device, { clock: systemClock, link: { pace: false } }).host;
    const r = await push({ image: img.enc, open, clock: systemClock });
    expect(r.resumeOffset).toBe(512 + 20 * CHUNK);
    const hello = await probe.send({ type: 'HELLO', hostProto: 1, flags: 0 });
    const ack = hello.find((m) => m.type === 'HELLO_ACK');
    expect(ack && 'flags' in ack ? ack.flags & HELLO_FLAGS.INSTALLED : -1).toBe(0);
  });
});
