/**
 * End to end: the host's push() against the simulated device over the in-memory UART. A valid image
 * ends with the new version set to boot in the other slot; a tampered one ends with AUTH_FAILED
 * and the flash still booting what it booted before.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../src/clock.js';
import { createFlashImage, createSimLink, readDeviceState } from '../../src/device-sim/index.js';
import { push } from '../../src/session/index.js';
import type { ReportEvent } from '../../src/reporter.js';
import { drive, fixture, makeImage, testKey } from './helpers.js';

const BOOT = { chipRev: 300 };

describe('push() to the simulated device', () => {
  it('installs app_esp32.rsa.enc.bin: 1.2.3-vector set to boot from ota_0, factory untouched', async () => {
    const flash = createFlashImage();
    const factoryBefore = flash.read(0x10000, 0x100000);
    const sim = createSimLink({ flash, key: testKey, clock: systemClock, link: { pace: false } });
    const r = await push({ image: fixture('app_esp32.rsa.enc.bin'), open: async () => sim.host, clock: systemClock });
    expect(r.after.boot).toMatchObject({ slot: 'ota_0', version: '1.2.3-vector', secureVersion: 1 });
    const st = readDeviceState(flash, BOOT);
    expect(st.bootLabel).toBe('ota_0');
    expect(st.parts[1]).toMatchObject({ valid: true, version: '1.2.3-vector' });
    // The slot holds exactly the decrypted app, and the running (factory) slot was never written.
    const plain = fixture('app_esp32.bin');
    expect(flash.read(0x110000, plain.length).equals(plain)).toBe(true);
    expect(flash.read(0x10000, 0x100000).equals(factoryBefore)).toBe(true);
    await sim.close();
  });

  it('writes only the target slot (in 16-byte units), the resume record in nvs and otadata', async () => {
    const flash = createFlashImage();
    const writes: { addr: number; len: number }[] = [];
    const program = flash.program.bind(flash);
    flash.program = (addr, bytes) => { writes.push({ addr, len: bytes.length }); program(addr, bytes); };
    const erase = flash.erase.bind(flash);
    flash.erase = (addr, len) => { writes.push({ addr, len }); erase(addr, len); };
    const app = makeImage({ version: '2.0.0', size: 100 * 1024 + 40 });
    const sim = createSimLink({ flash, key: testKey, clock: systemClock, link: { pace: false } });
    await push({ image: app.enc, open: async () => sim.host, clock: systemClock, chunk: 1008 });
    const inside = (w: { addr: number; len: number }, lo: number, size: number) => w.addr >= lo && w.addr + w.len <= lo + size;
    const slot = writes.filter((w) => inside(w, 0x110000, 0x100000));
    const other = writes.filter((w) => !inside(w, 0x110000, 0x100000));
    expect(other.every((w) => inside(w, 0x9000, 0x1000) || inside(w, 0xd000, 0x2000))).toBe(true); // nvs record, otadata
    const last = slot.at(-1)!;
    expect(slot.slice(0, -1).every((w) => w.addr % 16 === 0 && w.len % 16 === 0)).toBe(true);
    expect(last.addr + last.len).toBe(0x110000 + app.plain.length);
    expect(flash.read(0x110000, app.plain.length).equals(app.plain)).toBe(true);
    await sim.close();
  });

  it('an anti-rollback refusal names the image\'s secure_version and the device\'s counter (SPEC §4.6 detail)', async () => {
    const flash = createFlashImage();
    flash.erase(0x10000, 0x10000); // a factory app with secure_version 2, so an eFuse of 2 still boots
    flash.program(0x10000, makeImage({ version: '1.0.0-factory', secureVersion: 2 }).plain);
    const sim = createSimLink({ flash, key: testKey, clock: systemClock, link: { pace: false }, antiRollback: true, efuseSecureVersion: 2 });
    const img = makeImage({ version: '9.0.0', secureVersion: 1 }).enc;
    const err = await push({ image: img, imageName: 'app.enc', open: async () => sim.host, clock: systemClock }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SECURE_VERSION', details: { detail: 1 } });
    expect((err as Error).message).toContain('image secure_version 1 < device 2');
    expect(readDeviceState(flash, { ...BOOT, antiRollback: true, efuseSecureVersion: 2 }).bootLabel).toBe('factory');
    await sim.close();
  });

  it('refuses a tampered ciphertext with AUTH_FAILED and leaves the boot slot unchanged', async () => {
    const flash = createFlashImage();
    const sim = createSimLink({ flash, key: testKey, clock: systemClock, link: { pace: false } });
    const err = await push({ image: fixture('app_esp32.rsa.enc.tampered_ct.bin'), open: async () => sim.host, clock: systemClock }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AUTH_FAILED' });
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('factory');
    expect(flash.read(0xd000, 0x2000).every((b) => b === 0xff)).toBe(true); // otadata never written
    await sim.close();
  });

  it('runs at 921600 baud on a paced link with ESP32 flash timing (FakeClock)', async () => {
    const clock = new FakeClock();
    const flash = createFlashImage();
    const sim = createSimLink({ flash, key: testKey, clock, flashTiming: 'esp32' });
    const r = await drive(clock, push({ image: fixture('app_esp32.rsa.enc.bin'), open: async () => sim.host, clock, baud: 921600 }));
    expect(r.baud).toBe(921600);
    expect(r.after.boot.version).toBe('1.2.3-vector');
    expect(sim.device.stats.baudSwitches).toBe(2); // to 921600, and back to 115200 at the end
    expect(sim.device.baud).toBe(115200);
    expect(readDeviceState(flash, BOOT).bootLabel).toBe('ota_0');
    await sim.close();
  });

  it('reports the device busy unwrapping the key once, at 512, and then writing (ESP32 timing)', async () => {
    const clock = new FakeClock();
    const sim = createSimLink({ flash: createFlashImage(), key: testKey, clock, flashTiming: 'esp32' });
    const busy: ReportEvent[] = [];
    const reporter = { event: (e: ReportEvent) => { if (e.type === 'busy') busy.push(e); } };
    await drive(clock, push({ image: makeImage({ version: '2.0.0', size: 256 * 1024 }).enc, open: async () => sim.host, clock, reporter }));
    const key = busy.filter((e) => e.type === 'busy' && e.phase === 'key');
    expect(key).toEqual([{ type: 'busy', ms: 250, offset: 512, phase: 'key' }]);
    expect(busy.some((e) => e.type === 'busy' && e.phase === 'write'), 'no flash BUSY at all').toBe(true);
    await sim.close();
  });
});
