import { describe, expect, it } from 'vitest';
import { AppState } from '../../src/device-sim/app-state.js';
import { SECTOR_SIZE } from '../../src/device-sim/flash.js';
import { createFlashImage, DEFAULT_BOOT_CONFIG } from '../../src/device-sim/flash-image.js';
import { TWO_OTA_LAYOUT } from '../../src/device-sim/partition-table.js';
import { OTA_STATE } from '../../src/device-sim/otadata.js';
import { buildAppImage } from '../../src/image/index.js';

const factory = TWO_OTA_LAYOUT.find((p) => p.label === 'factory')!;

describe('AppState.nextBoot', () => {
  // HELLO, BEGIN and END each ask what would boot; the dry run verifies the whole boot image.
  it('keeps its answer while no erase or program has touched the flash, and recomputes after one', () => {
    const flash = createFlashImage();
    const apps = new AppState(flash, () => DEFAULT_BOOT_CONFIG);
    const first = apps.nextBoot();
    expect(apps.apps[first]?.label).toBe('factory');

    // Damage the factory app behind the flash model's back: no erase/program, so no new generation.
    flash.view(factory.offset, 1)[0] = 0; // no longer the 0xE9 image magic
    expect(apps.nextBoot()).toBe(first);

    // Any real flash operation (here: an erase elsewhere) makes the next question verify again.
    flash.erase(factory.offset + factory.size - SECTOR_SIZE, SECTOR_SIZE);
    expect(apps.nextBoot()).toBe(-1);
  });

  it('starts with the answer of a boot that wrote nothing, and verifies afresh after one that wrote otadata', () => {
    const flash = createFlashImage();
    const apps = new AppState(flash, () => DEFAULT_BOOT_CONFIG);
    flash.view(factory.offset, 1)[0] = 0; // damaged behind the model's back: only a verify notices
    expect(apps.apps[apps.nextBoot()]?.label).toBe('factory'); // the boot's own verdict, not re-verified

    const rb = { ...DEFAULT_BOOT_CONFIG, rollback: true };
    const fresh = createFlashImage();
    const ota0 = TWO_OTA_LAYOUT.find((p) => p.label === 'ota_0')!;
    fresh.program(ota0.offset, buildAppImage({ version: '2.0.0' }));
    const k = new AppState(fresh, () => rb).apps.findIndex((p) => p.label === 'ota_0');
    new AppState(fresh, () => rb).layout.otadata!.setBoot(0, 2, OTA_STATE.NEW);
    const booted = new AppState(fresh, () => rb); // NEW -> PENDING_VERIFY: the boot wrote otadata
    expect(booted.running).toBe(k);
    // Not confirmed: a dry run now aborts it, so the next boot is the factory app again.
    expect(booted.apps[booted.nextBoot()]?.label).toBe('factory');
  });

  it('recomputes when the boot configuration changes', () => {
    const flash = createFlashImage();
    const cfg = { ...DEFAULT_BOOT_CONFIG, antiRollback: true, efuseSecureVersion: 0 };
    const apps = new AppState(flash, () => cfg);
    expect(apps.apps[apps.nextBoot()]?.label).toBe('factory');
    cfg.efuseSecureVersion = 1; // the factory app has secure_version 0: anti-rollback refuses it
    expect(apps.nextBoot()).toBe(-1);
  });

  it('recomputes after invalidate()', () => {
    const flash = createFlashImage();
    const apps = new AppState(flash, () => DEFAULT_BOOT_CONFIG);
    expect(apps.nextBoot()).toBeGreaterThanOrEqual(0);
    flash.view(factory.offset, 1)[0] = 0; // no longer the 0xE9 image magic
    apps.invalidate();
    expect(apps.nextBoot()).toBe(-1);
  });

  // END verifies the new image, writes otadata and asks what boots: it passes the slot it verified.
  it('takes a slot the caller has just verified as verified, and verifies every other slot', () => {
    const flash = createFlashImage();
    const apps = new AppState(flash, () => DEFAULT_BOOT_CONFIG);
    const f = apps.nextBoot();
    const app = { valid: true, version: '1.0.0-factory', projectName: 'p', secureVersion: 0 };
    flash.view(factory.offset, 1)[0] = 0; // damaged behind the model's back: only a verify notices
    apps.invalidate();
    expect(apps.nextBoot({ index: f, app })).toBe(f);
    apps.invalidate();
    expect(apps.nextBoot()).toBe(-1); // without the hint the damage is found
  });

  it('still applies anti-rollback to a slot passed as verified', () => {
    const flash = createFlashImage();
    const cfg = { ...DEFAULT_BOOT_CONFIG, antiRollback: true, efuseSecureVersion: 1 };
    const apps = new AppState(flash, () => cfg);
    const f = apps.apps.findIndex((p) => p.label === 'factory');
    expect(apps.nextBoot({ index: f, app: { valid: true, version: 'x', projectName: 'p', secureVersion: 0 } })).toBe(-1);
    apps.invalidate();
    expect(apps.nextBoot({ index: f, app: { valid: true, version: 'x', projectName: 'p', secureVersion: 1 } })).toBe(f);
  });
});
