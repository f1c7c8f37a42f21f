import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Flash } from '../../src/device-sim/flash.js';
import {
  buildPartitionTable,
  parsePartitionTable,
  PartitionTableError,
  TWO_OTA_LAYOUT,
} from '../../src/device-sim/partition-table.js';
import { Otadata, OTA_STATE, otaSeqCrc, encodeOtaEntry } from '../../src/device-sim/otadata.js';
import { createFlashImage, readDeviceState } from '../../src/device-sim/flash-image.js';
import { buildAppImage } from '../../src/image/index.js';

// Copies of the shared vectors (same file names), so the tests need nothing outside the repo.
const V = fileURLToPath(new URL('../fixtures', import.meta.url));

describe('partition table', () => {
  it('is byte-identical to gen_esp32part.py output for partitions_two_ota.csv', () => {
    const ref = readFileSync(`${V}/partition-table_two_ota.bin`);
    expect(buildPartitionTable(TWO_OTA_LAYOUT).equals(ref)).toBe(true);
  });

  it('parses the reference table and checks its MD5', () => {
    const ref = readFileSync(`${V}/partition-table_two_ota.bin`);
    expect(parsePartitionTable(ref)).toEqual(TWO_OTA_LAYOUT);
    const bad = Buffer.from(ref);
    bad[0x14]! ^= 1;
    expect(() => parsePartitionTable(bad)).toThrow(PartitionTableError);
  });
});

describe('otadata', () => {
  it('uses the ESP ROM CRC rule (not plain zlib)', () => {
    expect(otaSeqCrc(1)).toBe(0x4743989a);
    expect(otaSeqCrc(2)).toBe(0x55f63774);
    expect(otaSeqCrc(3)).toBe(0xed4a5011);
  });

  it('reproduces otadata_ota1_new.bin with esp_ota_set_boot_partition(ota_1)', () => {
    const ref = readFileSync(`${V}/otadata_ota1_new.bin`);
    const f = new Flash({ size: 0x10000 });
    const od = new Otadata(f, 0);
    od.write(0, 1, OTA_STATE.VALID); // ota_0 running and confirmed
    od.setBoot(1, 2, OTA_STATE.NEW);
    expect(f.read(0, 0x2000).equals(ref)).toBe(true);
  });

  it('follows the sequence rule: next seq above the active one that selects the slot', () => {
    const f = new Flash({ size: 0x10000 });
    const od = new Otadata(f, 0);
    od.setBoot(0, 2, OTA_STATE.NEW); // both empty -> seq k+1 in entry 0
    expect(od.read()[0]).toMatchObject({ seq: 1, state: OTA_STATE.NEW });
    od.setBoot(1, 2, OTA_STATE.NEW);
    expect(od.read()[1]).toMatchObject({ seq: 2 });
    od.setBoot(0, 2, OTA_STATE.UNDEFINED);
    expect(od.read()[0]).toMatchObject({ seq: 3, state: OTA_STATE.UNDEFINED });
    od.setBoot(0, 2, OTA_STATE.NEW); // already selected: only the state changes
    expect(od.read()).toMatchObject([{ seq: 3, state: OTA_STATE.NEW }, { seq: 2 }]);
  });
});

/** A flash with the factory layout and valid apps in every slot. */
function flashWithApps(): Flash {
  const f = createFlashImage();
  f.program(0x110000, buildAppImage({ version: '2.0.0', secureVersion: 0 }));
  f.program(0x210000, buildAppImage({ version: '3.0.0', secureVersion: 0 }));
  return f;
}

describe('boot selection', () => {
  it('boots the factory app from a fresh factory layout', () => {
    const s = readDeviceState(createFlashImage());
    expect(s.bootLabel).toBe('factory');
    expect(s.parts.map((p) => [p.label, p.valid, p.version, p.state])).toEqual([
      ['factory', true, '1.0.0-factory', 0xff],
      ['ota_0', false, '', 0xff],
      ['ota_1', false, '', 0xff],
    ]);
  });

  it('NEW -> PENDING_VERIFY on boot, PENDING_VERIFY at the next boot -> ABORTED and the previous app', async () => {
    const { DeviceLayout } = await import('../../src/device-sim/layout.js');
    const { runBootloader } = await import('../../src/device-sim/boot.js');
    const f = flashWithApps();
    const layout = new DeviceLayout(f);
    const cfg = { chipId: 0, chipRev: 100, rollback: true, antiRollback: false, efuseSecureVersion: 0 };
    layout.otadata!.write(0, 1, OTA_STATE.VALID);
    layout.otadata!.setBoot(1, 2, OTA_STATE.NEW);
    expect(readDeviceState(f).bootLabel).toBe('ota_1');
    expect(runBootloader(layout, cfg).index).toBe(layout.otaIndex(1));
    expect(layout.slotState(layout.otaIndex(1))).toBe(OTA_STATE.PENDING_VERIFY);
    // Not confirmed: the next reset aborts it and ota_0 runs again.
    expect(readDeviceState(f).bootLabel).toBe('ota_0');
    expect(runBootloader(layout, cfg).index).toBe(layout.otaIndex(0));
    expect(layout.slotState(layout.otaIndex(1))).toBe(OTA_STATE.ABORTED);
  });

  it('without rollback a NEW/UNDEFINED entry just boots', async () => {
    const { DeviceLayout } = await import('../../src/device-sim/layout.js');
    const { runBootloader } = await import('../../src/device-sim/boot.js');
    const f = flashWithApps();
    const layout = new DeviceLayout(f);
    layout.otadata!.setBoot(1, 2, OTA_STATE.UNDEFINED);
    const cfg = { chipId: 0, chipRev: 100, rollback: false, antiRollback: false, efuseSecureVersion: 0 };
    expect(runBootloader(layout, cfg).index).toBe(layout.otaIndex(1));
    expect(runBootloader(layout, cfg).index).toBe(layout.otaIndex(1));
  });

  it('falls back to a lower slot when the selected image does not verify', () => {
    const f = flashWithApps();
    const od = new Otadata(f, 0xd000);
    od.write(0, 1, OTA_STATE.VALID);
    od.setBoot(1, 2, OTA_STATE.VALID);
    f.erase(0x210000, 0x1000); // ota_1 damaged
    f.program(0x210000, Buffer.alloc(16, 0x00));
    expect(readDeviceState(f).bootLabel).toBe('ota_0');
    f.erase(0x110000, 0x1000); // ota_0 damaged too: factory
    expect(readDeviceState(f).bootLabel).toBe('factory');
  });

  it('anti-rollback refuses to boot an app below the eFuse secure_version', () => {
    const f = flashWithApps(); // every app has secure_version 0
    new Otadata(f, 0xd000).setBoot(0, 2, OTA_STATE.VALID);
    expect(readDeviceState(f, { antiRollback: true, efuseSecureVersion: 0 }).bootLabel).toBe('ota_0');
    expect(readDeviceState(f, { antiRollback: true, efuseSecureVersion: 1 }).bootSlot).toBe(-1);
  });

  it('ignores entries with a bad CRC', () => {
    const f = flashWithApps();
    const e = encodeOtaEntry(2, OTA_STATE.VALID);
    e[28]! ^= 1;
    f.program(0xd000, e);
    expect(readDeviceState(f).bootLabel).toBe('factory');
  });
});
