/**
 * A device that resets right after END has switched otadata, before its RESULT leaves. Found by the
 * fault matrix (scripts/faults, rows "cut in otadata write" and "proc: device kill -9"): push()
 * picked the session up again, BEGAN the same image, and the device, now running it, refused it as
 * a DOWNGRADE; the push failed (exit 22) although the update was installed and running, and every
 * later push of it failed the same way, so a factory line would reject a good board.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { connectSim, createFlashImage, readDeviceState, SimDevice } from '../../src/device-sim/index.js';
import { push } from '../../src/session/index.js';
import { drive, makeImage, testKey } from '../device-sim/helpers.js';

const OTADATA = [0xd000, 0xf000] as const;

describe('a reset between the otadata write and RESULT', () => {
  it('push() reports the update as installed (the slot it wrote now boots and verifies)', async () => {
    const clock = new FakeClock();
    const flash = createFlashImage();
    const device = new SimDevice({ flash, key: testKey, clock, flashTiming: 'esp32' });
    const program = flash.program.bind(flash);
    let cut = false;
    flash.program = (addr: number, bytes: Uint8Array): void => {
      program(addr, bytes);
      if (!cut && addr >= OTADATA[0] && addr < OTADATA[1]) {
        cut = true;
        device.powerCycle();
        throw new Error('power cut');
      }
    };
    const open = async () => {
      const c = connectSim(device, { clock });
      await c.host.setBaud(115200);
      return c.host;
    };
    const { enc } = makeImage({ version: '2.0.0', size: 64 * 1024 });
    const r = await drive(clock, push({ image: enc, open, clock, baud: 921600 }));
    expect(cut).toBe(true);
    expect(r.after.boot).toMatchObject({ slot: 'ota_0', version: '2.0.0' });
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });
});
