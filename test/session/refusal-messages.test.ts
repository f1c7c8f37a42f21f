/**
 * Early refusals (SPEC §4.6) carry what the image wants in `detail`, so the host can name both
 * sides: the simulated device's checks produce the details, and the host's messages use them
 * (with the device's side from HELLO_ACK). A device that sends detail 0 still gets a usable message.
 */
import { describe, expect, it } from 'vitest';
import { checkAppPrefix, type EarlyCheckContext } from '../../src/device-sim/early-checks.js';
import { buildAppImage } from '../../src/image/index.js';
import { STATUS } from '../../src/protocol/index.js';
import { deviceStatusError } from '../../src/session/status-errors.js';

const device: EarlyCheckContext = { chipId: 0, chipRev: 300, antiRollback: false, efuseSecureVersion: 0, runningVersion: '1.2.3', allowDowngrade: false };
const refusal = (o: Parameters<typeof buildAppImage>[0], c: Partial<EarlyCheckContext> = {}) => {
  const r = checkAppPrefix(buildAppImage(o), { ...device, ...c });
  if (r.ok) throw new Error('accepted');
  return { status: r.status, detail: r.detail };
};
const ctx = { imageName: 'app.enc', runningVersion: '1.2.3', chipName: 'ESP32', chipRev: 300 };

describe('early refusals: detail on the wire and the message it makes', () => {
  it('WRONG_CHIP carries the image chip id and names both chips', () => {
    const r = refusal({ version: '2.0.0', chipId: 5 });
    expect(r).toEqual({ status: STATUS.WRONG_CHIP, detail: 5 });
    expect(deviceStatusError(r.status, ctx, r.detail).message).toBe('app.enc was built for ESP32-C3; the device is an ESP32');
  });

  it('CHIP_REV carries min + (max << 16) and names the range and the device revision', () => {
    const r = refusal({ version: '2.0.0', minChipRevFull: 100, maxChipRevFull: 199 });
    expect(r).toEqual({ status: STATUS.CHIP_REV, detail: 100 + (199 << 16) });
    expect(deviceStatusError(r.status, ctx, r.detail).message).toBe('app.enc needs chip revision v1.0..v1.99; the device is v3.0');
    const open = refusal({ version: '2.0.0', minChipRevFull: 301, maxChipRevFull: 0xffff });
    expect(open.detail).toBe(301 + 0xffff * 65536);
    expect(deviceStatusError(open.status, ctx, open.detail).message).toBe('app.enc needs chip revision v3.1 or later; the device is v3.0');
  });

  it('DOWNGRADE says whether the image is the same version (1) or older (2)', () => {
    const same = refusal({ version: '1.2.3' });
    expect(same).toEqual({ status: STATUS.DOWNGRADE, detail: 1 });
    expect(deviceStatusError(same.status, ctx, same.detail).message).toBe('the device already runs 1.2.3, the same version as app.enc; pass --allow-downgrade to install it again');
    const older = refusal({ version: '1.2.0' });
    expect(older).toEqual({ status: STATUS.DOWNGRADE, detail: 2 });
    expect(deviceStatusError(older.status, ctx, older.detail).message).toBe('app.enc is older than the 1.2.3 the device runs; pass --allow-downgrade to install it anyway');
    expect(checkAppPrefix(buildAppImage({ version: '1.2.0' }), { ...device, allowDowngrade: true }).ok).toBe(true);
  });

  it('a detail of 0 (or none) still gives a message that says what to do', () => {
    expect(deviceStatusError(STATUS.DOWNGRADE, ctx, 0).message).toBe('the device runs 1.2.3 and app.enc is not newer; pass --allow-downgrade to install it anyway');
    expect(deviceStatusError(STATUS.CHIP_REV, ctx, 0).message).toBe("app.enc does not support this chip's revision; the device is v3.0");
    // chip id 0 is the ESP32 itself: a device that is an ESP32 cannot have refused an ESP32 image for its chip
    expect(deviceStatusError(STATUS.WRONG_CHIP, ctx, 0).message).toBe('app.enc was built for another chip; the device is an ESP32');
  });
});
