import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Flash,
  FlashError,
  FLASH_TIMINGS,
  eraseOps,
  eraseTimeMs,
  flashCeiling,
  programTimeMs,
} from '../../src/device-sim/flash.js';
import { openFlashFile } from '../../src/device-sim/flash-image.js';

describe('NOR flash model', () => {
  it('starts erased, programs only 1->0, and refuses to set bits without an erase', () => {
    const f = new Flash({ size: 0x20000 });
    expect(f.read(0, 4)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    f.program(0x10, Buffer.from([0xf0, 0x0f]));
    f.program(0x10, Buffer.from([0x80, 0x01])); // clearing more bits is allowed
    expect(f.read(0x10, 2)).toEqual(Buffer.from([0x80, 0x01]));
    expect(() => f.program(0x10, Buffer.from([0xff]))).toThrow(FlashError);
    expect(f.read(0x10, 1)[0]).toBe(0x80); // a refused program changes nothing
    f.erase(0, 0x1000);
    expect(f.read(0x10, 2)).toEqual(Buffer.from([0xff, 0xff]));
    f.program(0x10, Buffer.from([0x12]));
    expect(f.read(0x10, 1)[0]).toBe(0x12);
  });

  it('erases only whole aligned sectors, using 64 KiB blocks where aligned', () => {
    const f = new Flash({ size: 0x40000 });
    expect(() => f.erase(0x800, 0x1000)).toThrow(/sector-aligned/);
    expect(() => f.erase(0, 0x800)).toThrow(/sector-aligned/);
    expect(() => f.erase(0x3f000, 0x2000)).toThrow(/outside/);
    expect(eraseOps(0xf000, 0x12000).map((o) => o.len)).toEqual([0x1000, 0x10000, 0x1000]);
    f.erase(0xf000, 0x12000);
    expect(f.counters).toMatchObject({ sectorErases: 2, blockErases: 1 });
  });

  it('times erase and program like the ESP32 datasheet and exposes the throughput ceiling', () => {
    const t = FLASH_TIMINGS.esp32;
    expect(eraseTimeMs(t, 0x10000, 0x11000)).toBe(150 + 45);
    expect(programTimeMs(t, 0, 256)).toBeCloseTo(0.7);
    expect(programTimeMs(t, 255, 2)).toBeCloseTo(1.4); // crosses a page boundary
    // 64 KiB per (150 ms + 256 x 0.7 ms) = ~199 kB/s
    expect(flashCeiling(t)).toBeGreaterThan(198_000);
    expect(flashCeiling(t)).toBeLessThan(200_000);
    expect(flashCeiling(FLASH_TIMINGS.instant)).toBe(Infinity);
  });
});

describe('file-backed flash', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes every completed op through to the file (the power-cut model)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flash-'));
    dirs.push(dir);
    const path = join(dir, 'flash.bin');
    const f = openFlashFile(path, { create: true });
    expect(readFileSync(path).length).toBe(4 * 1024 * 1024);
    f.erase(0x110000, 0x1000);
    f.program(0x110000, Buffer.from('hello'));
    // No close, no flush: the file already holds the bytes, as after a kill -9.
    expect(readFileSync(path).subarray(0x110000, 0x110005).toString()).toBe('hello');
    expect(Buffer.compare(readFileSync(path), f.snapshot())).toBe(0);
    f.close();
    const again = openFlashFile(path);
    expect(again.read(0x110000, 5).toString()).toBe('hello');
    again.close();
  });
});
