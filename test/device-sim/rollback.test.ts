/**
 * App rollback (SPEC §4.7-§4.8, ESP-IDF semantics): after END(REBOOT) the bootloader turns NEW into
 * PENDING_VERIFY; CONFIRM makes it VALID, ROLLBACK makes it INVALID and boots the previous app, and
 * a reset while still pending boots the previous app. Plus anti-rollback's eFuse update on CONFIRM.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, readDeviceState, SimDevice, type SimDeviceOptions } from '../../src/device-sim/index.js';
import { HELLO_FLAGS, OTA_STATE, STATUS, type MessageOf } from '../../src/protocol/index.js';
import { Probe, beginMsg, fixture, sendAll, testKey } from './helpers.js';

const image = fixture('app_esp32.rsa.enc.bin');
const HELLO = { type: 'HELLO', hostProto: 1, flags: 0 } as const;

async function installed(o: Partial<SimDeviceOptions> = {}) {
  const flash = createFlashImage();
  const dev = new SimDevice({ flash, key: testKey, clock: new FakeClock(), rollback: true, ...o });
  const probe = new Probe(dev);
  await probe.send(beginMsg(image));
  await sendAll(probe, image);
  const [r] = (await probe.send({ type: 'END', flags: 1 })) as MessageOf<'RESULT'>[];
  expect(r).toMatchObject({ status: STATUS.OK, boot: 1 });
  const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
  return { flash, dev, probe, hello: h! };
}

describe('rollback enabled', () => {
  it('the new app runs PENDING_VERIFY after the reboot, and updates are refused until it is confirmed', async () => {
    const { probe, hello } = await installed();
    expect(hello).toMatchObject({ running: 1, runVersion: '1.2.3-vector', boot: 0 }); // SPEC §4.2: a reset now boots factory again
    expect(hello.flags & HELLO_FLAGS.PENDING_VERIFY).toBe(HELLO_FLAGS.PENDING_VERIFY);
    expect(hello.parts[1]!.state).toBe(OTA_STATE.PENDING_VERIFY);
    const [b] = (await probe.send(beginMsg(image))) as MessageOf<'BEGIN_ACK'>[];
    expect(b!.status).toBe(STATUS.BAD_STATE);
  });

  it('CONFIRM marks it VALID (then NO_PENDING); it keeps booting after resets', async () => {
    const { probe, dev, flash } = await installed();
    expect(await probe.send({ type: 'CONFIRM' })).toEqual([{ type: 'CONFIRM_ACK', status: STATUS.OK, boot: 1 }]);
    expect(await probe.send({ type: 'CONFIRM' })).toEqual([{ type: 'CONFIRM_ACK', status: STATUS.NO_PENDING, boot: 1 }]);
    dev.powerCycle();
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h).toMatchObject({ running: 1, runVersion: '1.2.3-vector' });
    expect(h!.parts[1]!.state).toBe(OTA_STATE.VALID);
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });

  it('ROLLBACK marks it INVALID and the device reboots into the previous app', async () => {
    const { probe, dev } = await installed();
    const out = await probe.send({ type: 'ROLLBACK' });
    expect(out).toEqual([{ type: 'ROLLBACK_ACK', status: STATUS.OK, boot: 0 }]);
    expect(dev.stats.resets).toBe(2); // END(REBOOT) and the rollback
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h).toMatchObject({ running: 0, boot: 0, runVersion: '1.0.0-factory' });
    expect(h!.parts[1]!.state).toBe(OTA_STATE.INVALID);
    expect(await probe.send({ type: 'ROLLBACK' })).toMatchObject([{ status: STATUS.NO_PENDING }]);
  });

  it('a reset while the app is still pending boots the previous app (and marks it ABORTED)', async () => {
    const { probe, dev, flash } = await installed();
    dev.powerCycle();
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h).toMatchObject({ running: 0, runVersion: '1.0.0-factory' });
    expect(h!.parts[1]!.state).toBe(OTA_STATE.ABORTED);
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('factory');
  });

  it('ROLLBACK with no other bootable app is BAD_STATE, and nothing changes', async () => {
    const { probe, flash } = await installed();
    flash.erase(0x10000, 0x10000); // the factory app is gone
    expect(await probe.send({ type: 'ROLLBACK' })).toMatchObject([{ type: 'ROLLBACK_ACK', status: STATUS.BAD_STATE }]);
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h!.parts[1]!.state).toBe(OTA_STATE.PENDING_VERIFY);
  });

  it('with anti-rollback, CONFIRM raises the eFuse secure_version to the app\'s', async () => {
    const { probe, dev } = await installed({ antiRollback: true });
    expect(dev.efuseSecureVersion).toBe(0);
    await probe.send({ type: 'CONFIRM' });
    expect(dev.efuseSecureVersion).toBe(1);
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h!.efuseSecureVersion).toBe(1);
  });
});

describe('rollback disabled', () => {
  it('the new app is set to boot with state UNDEFINED; CONFIRM and ROLLBACK say NO_PENDING', async () => {
    const { probe, hello } = await installed({ rollback: false });
    expect(hello).toMatchObject({ running: 1, runVersion: '1.2.3-vector' });
    expect(hello.parts[1]!.state).toBe(OTA_STATE.UNDEFINED);
    expect(await probe.send({ type: 'CONFIRM' })).toMatchObject([{ status: STATUS.NO_PENDING }]);
    expect(await probe.send({ type: 'ROLLBACK' })).toMatchObject([{ status: STATUS.NO_PENDING }]);
  });
});

describe('target slot (SPEC §6.1)', () => {
  it('never offers the slot already set to boot: from factory with ota_0 pending boot, the target is ota_1', async () => {
    const flash = createFlashImage();
    const dev = new SimDevice({ flash, key: testKey, clock: new FakeClock() });
    const probe = new Probe(dev);
    await probe.send(beginMsg(image));
    await sendAll(probe, image);
    await probe.send({ type: 'END', flags: 0 }); // no reboot: factory runs, ota_0 is set to boot
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h).toMatchObject({ running: 0, boot: 1, target: 2 });
  });

  it('with two OTA slots, one running and the other set to boot, no update is possible (BAD_STATE)', async () => {
    const { probe, hello } = await installed({ rollback: false }); // running ota_0
    expect(hello.target).toBe(2);
    await probe.send(beginMsg(image, 2)); // FRESH; same version needs ALLOW_DOWNGRADE
    await probe.send(beginMsg(image, 3));
    await sendAll(probe, image);
    expect(await probe.send({ type: 'END', flags: 0 })).toMatchObject([{ status: STATUS.OK, boot: 2 }]);
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h).toMatchObject({ running: 1, boot: 2, target: 0xff });
    expect(await probe.send(beginMsg(image, 3))).toMatchObject([{ type: 'BEGIN_ACK', status: STATUS.BAD_STATE }]);
  });
});
