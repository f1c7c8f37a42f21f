/**
 * The fault matrix's invariant checker (scripts/faults/flash-check.ts, flash-monitor.ts) must be
 * able to fail: a flash whose otadata selects a partial image, a written running slot, a failed
 * push that moved the boot slot, a write into the selected slot while it happens. Its otadata
 * reading is checked against bytes written by ESP-IDF's own tools (test/fixtures).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createFlashImage, type Flash } from '../../src/device-sim/index.js';
import { Otadata, OTA_STATE } from '../../src/device-sim/otadata.js';
import { bootView, checkFlash, romCrc32, snapshot } from '../../scripts/faults/flash-check.js';
import { FlashMonitor, TornPower } from '../../scripts/faults/flash-monitor.js';
import { fixture, makeImage } from '../device-sim/helpers.js';

const OTA0 = 0x110000;
const OTA1 = 0x210000;
const OTADATA = 0xd000;
const { plain } = makeImage({ version: '2.0.0', size: 20 * 1024 });

function bytes(f: Flash): Buffer {
  return f.view(0, f.size);
}

/** Writes `data` into ota_0 and sets otadata to boot it (as a device would, or a buggy one). */
function install(f: Flash, data: Uint8Array): void {
  f.erase(OTA0, Math.ceil(data.length / 0x1000) * 0x1000);
  f.program(OTA0, data);
  new Otadata(f, OTADATA).setBoot(0, 2, OTA_STATE.UNDEFINED);
}

describe('flash-check: reading what boots', () => {
  it('reads otadata written by ESP-IDF (ota_1 selected, seq 2) and the ROM CRC of its entries', () => {
    const f = createFlashImage();
    f.program(OTADATA, fixture('otadata_ota1_new.bin'));
    const v = bootView(bytes(f));
    expect(v.boot?.label).toBe('ota_1');
    expect(v.otadata!.map((e) => [e.seq, e.crcOk])).toEqual([[1, true], [2, true]]);
    expect(romCrc32(Buffer.from([1, 0, 0, 0]))).toBe(0x4743989a);
  });

  it('a fresh factory flash boots factory and passes', () => {
    const f = createFlashImage();
    const before = snapshot(bytes(f));
    expect(before.boot).toBe('factory');
    expect(checkFlash(bytes(f), before, plain, false)).toMatchObject({ unverifiedBoot: false, slotChanged: false, newBoots: false, problems: [] });
  });

  it('flags a partial image set to boot', () => {
    const f = createFlashImage();
    const before = snapshot(bytes(f));
    install(f, plain.subarray(0, plain.length - 4096));
    const r = checkFlash(bytes(f), before, plain);
    expect(r.unverifiedBoot).toBe(true);
    expect(r.problems.join()).toMatch(/ota_0 is set to boot .* holds neither the previous image nor the pushed plaintext/);
  });

  it('flags an image that differs in one byte from the pushed plaintext', () => {
    const f = createFlashImage();
    const before = snapshot(bytes(f));
    const bad = Buffer.from(plain);
    bad[1000]! ^= 1;
    install(f, bad);
    expect(checkFlash(bytes(f), before, plain).unverifiedBoot).toBe(true);
  });

  it('accepts exactly the pushed plaintext set to boot; a claimed success without it is a false success', () => {
    const f = createFlashImage();
    const before = snapshot(bytes(f));
    expect(checkFlash(bytes(f), before, plain, true)).toMatchObject({ falseSuccess: true });
    install(f, plain);
    expect(checkFlash(bytes(f), before, plain, true)).toMatchObject({ unverifiedBoot: false, slotChanged: false, newBoots: true, falseSuccess: false });
  });

  it('flags a written running slot, and a failed bad-image push that moved the boot slot', () => {
    const f = createFlashImage();
    const before = snapshot(bytes(f));
    f.program(0x10000 + 0x800, Buffer.from([0])); // one byte of the factory app
    const r = checkFlash(bytes(f), before, plain);
    expect(r.slotChanged).toBe(true);
    expect(r.unverifiedBoot).toBe(true);

    const g = createFlashImage();
    const b2 = snapshot(bytes(g));
    install(g, plain);
    expect(checkFlash(bytes(g), b2, undefined, false)).toMatchObject({ slotChanged: true, unverifiedBoot: true });
  });
});

describe('flash-monitor: at the moment of every write', () => {
  it('flags a write into the running slot and into the slot otadata selects', () => {
    const f = createFlashImage();
    const m = new FlashMonitor(f, snapshot(bytes(f)), plain, () => {});
    f.erase(OTA1, 0x1000); // the update slot: fine
    expect(m.slotChanges).toBe(0);
    f.program(0x10000 + 0x900, Buffer.from([0]));
    expect(m.slotChanges).toBe(1);
    expect(m.violations[0]).toMatch(/in factory, the slot that was running/);

    const g = createFlashImage();
    const n = new FlashMonitor(g, snapshot(bytes(g)), plain, () => {});
    install(g, plain); // ota_0 written while nothing selects it, then selected: fine
    expect(n.slotChanges + n.unverifiedBoot).toBe(0);
    g.erase(OTA0, 0x1000);
    expect(n.slotChanges).toBe(1);
    expect(n.violations[0]).toMatch(/in ota_0, the slot otadata selects/);
  });

  it('flags an otadata write that selects a partial image', () => {
    const f = createFlashImage();
    const m = new FlashMonitor(f, snapshot(bytes(f)), plain, () => {});
    install(f, plain.subarray(0, 8192));
    expect(m.unverifiedBoot).toBe(1);
  });

  it('cuts the power at the chosen operation: a torn erase leaves the rest of the range as it was', () => {
    const f = createFlashImage();
    let cuts = 0;
    const m = new FlashMonitor(f, snapshot(bytes(f)), plain, () => { cuts++; });
    f.program(OTA1, Buffer.alloc(0x2000, 0x11));
    m.arm({ at: 0, mode: 'partial', fraction: 0.25, kind: 'erase' });
    expect(() => f.erase(OTA1, 0x2000)).toThrow(TornPower);
    expect(cuts).toBe(1);
    expect(f.read(OTA1, 0x800).every((b) => b === 0xff)).toBe(true);
    expect(f.read(OTA1 + 0x800, 0x1800).every((b) => b === 0x11)).toBe(true);
    expect(m.tornAt).toMatchObject({ mode: 'partial' });
  });
});

// The fixture above must be the ESP-IDF file, not something this checker wrote.
it('otadata fixture is the 8 KiB file from the shared vectors', () => {
  expect(readFileSync(new URL('../fixtures/otadata_ota1_new.bin', import.meta.url)).length).toBe(8192);
});
