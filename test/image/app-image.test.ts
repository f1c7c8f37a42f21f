/**
 * ESP app image verification (esp-formats.md §3): each failure kind gives INVALID_APP_IMAGE naming
 * its check and offset. Mutated images get their checksum and SHA-256 recomputed by the test's own
 * code, so each case fails only the check under test.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import {
  buildAppImage,
  checkAppImage,
  chipName,
  parseAppHeader,
  parseChip,
  revText,
  verifyAppImage,
  type VerifyOptions,
} from '../../src/image/index.js';
import { fixture } from './fixtures.js';

/** Recomputes checksum and appended SHA-256 of a single-file image, from the format description. */
function reseal(img: Buffer): Buffer {
  let off = 24;
  let sum = 0xef;
  for (let i = 0; i < img[1]!; i++) {
    const len = img.readUInt32LE(off + 4);
    for (let j = off + 8; j < off + 8 + len; j++) sum ^= img[j]!;
    off += 8 + len;
  }
  const csumAt = (off + 1 + 15) - ((off + 1 + 15) % 16) - 1;
  const out = Buffer.alloc(csumAt + 1 + 32);
  img.copy(out, 0, 0, off);
  out[csumAt] = sum;
  createHash('sha256').update(out.subarray(0, csumAt + 1)).digest().copy(out, csumAt + 1);
  return out;
}

function failure(img: Uint8Array, opts: VerifyOptions = {}): { check: string; offset: number; message: string } {
  try {
    verifyAppImage(img, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(OtaError);
    const err = e as OtaError;
    expect(err.code).toBe('INVALID_APP_IMAGE');
    return { check: String(err.details.check), offset: Number(err.details.offset), message: err.message };
  }
  throw new Error('image unexpectedly verified');
}

const base = (): Buffer => Buffer.from(fixture('app_esp32.bin'));

describe('app image: valid images', () => {
  it('the vector verifies and its fields read as esptool reports them', () => {
    const v = verifyAppImage(fixture('app_esp32.bin'));
    expect(v).toMatchObject({ chipId: 0, chipName: 'ESP32', segmentCount: 2, hashAppended: true, checksum: 0x63, trailingBytes: 0 });
    expect(v.sha256).toBe('a084607f4a2256223631a8b42a116dac4987c290c90b763a7ea340b6ef6bce5c');
    expect(v.minChipRevFull).toBe(0);
    expect(v.maxChipRevFull).toBe(399);
    expect(v.desc).toMatchObject({
      version: '1.2.3-vector',
      projectName: 'esp_ota_vectors',
      secureVersion: 1,
      idfVer: 'v5.4.1',
      date: 'Jan  1 2026',
      time: '12:00:00',
      elfSha256: '1259f24e207865e7c723993a67c8f87502197f8cb860766d45525529b5eade5b',
      mmuPageSizeLog2: 16,
      spiFlashMode: 3,
    });
    expect(v.segments.map((s) => [s.offset, s.loadAddr, s.dataLen])).toEqual([
      [24, 0x3f400020, 0x400],
      [24 + 8 + 0x400, 0x40080000, 0x800],
    ]);
  });

  it('buildAppImage() with defaults is the vector byte for byte (so generated images follow the same recipe)', () => {
    expect(buildAppImage({ version: '1.2.3-vector' }).equals(fixture('app_esp32.bin'))).toBe(true);
  });

  it('generated images of several sizes and chips verify', () => {
    for (const [size, chipId] of [[2000, 0], [100_000, 5], [3 * 1024 * 1024, 9]] as const) {
      const img = buildAppImage({ version: 'x', size, chipId, seed: size });
      const v = verifyAppImage(img, { chipId });
      expect(v.chipId).toBe(chipId);
      expect(img.length).toBeLessThanOrEqual(size);
    }
  });

  it('bytes after the image (e.g. a signature sector or erased flash) are allowed and counted', () => {
    const v = verifyAppImage(Buffer.concat([base(), Buffer.alloc(4096, 0xff)]));
    expect(v.trailingBytes).toBe(4096);
    expect(v.imageLength).toBe(3152);
  });

  it('hash_appended = 0: no SHA-256 expected', () => {
    const img = base();
    img[23] = 0;
    const v = verifyAppImage(img.subarray(0, img.length - 32));
    expect(v.hashAppended).toBe(false);
  });

  it('chip revision range: inside passes, max 0 and 0xFFFF mean "no maximum"', () => {
    const img = buildAppImage({ version: 'r', minChipRevFull: 100, maxChipRevFull: 301 });
    for (const rev of [100, 300, 301]) expect(() => verifyAppImage(img, { chipId: 0, chipRevFull: rev })).not.toThrow();
    for (const max of [0, 0xffff]) {
      expect(() => verifyAppImage(buildAppImage({ version: 'r', maxChipRevFull: max }), { chipRevFull: 9999 })).not.toThrow();
    }
  });
});

describe('app image: each failure kind names its check and offset', () => {
  it('magic', () => {
    const img = base();
    img[0] = 0xe8;
    expect(failure(img)).toMatchObject({ check: 'magic', offset: 0 });
  });

  it('segment count: 0 and more than 16', () => {
    for (const n of [0, 17, 255]) {
      const img = base();
      img[1] = n;
      expect(failure(img)).toMatchObject({ check: 'segment_count', offset: 1 });
    }
  });

  it('segment length not a multiple of 4, or >= 16 MiB', () => {
    for (const len of [0x401, 0x402, 0x403, 0x1000000]) {
      const img = base();
      img.writeUInt32LE(len, 28);
      expect(failure(img)).toMatchObject({ check: 'segment_length', offset: 28 });
    }
    const img = base();
    img.writeUInt32LE(0x7ff, 24 + 8 + 0x400 + 4); // second segment
    expect(failure(img)).toMatchObject({ check: 'segment_length', offset: 24 + 8 + 0x400 + 4 });
  });

  it('segment 0 shorter than the 256-byte app description', () => {
    // One segment of 252 bytes holding a valid-looking description start.
    const img = base();
    img[1] = 1;
    img.writeUInt32LE(252, 28);
    const f = failure(reseal(img));
    expect(f).toMatchObject({ check: 'segment0_size', offset: 28 });
    expect(f.message).toMatch(/segment 0 is 252 bytes/);
  });

  it('flash-mapped segment not aligned with its file offset modulo 64 KiB', () => {
    const img = base();
    img.writeUInt32LE(0x3f400000, 24); // DROM; data sits at file offset 0x20
    expect(failure(reseal(img))).toMatchObject({ check: 'segment_alignment', offset: 24 });
  });

  it('app description magic', () => {
    const img = base();
    img[0x20] = 0x33;
    const f = failure(reseal(img));
    expect(f).toMatchObject({ check: 'app_desc_magic', offset: 0x20 });
    expect(f.message).toMatch(/0xabcd5433/);
  });

  it('checksum (vector with a flipped data byte) and SHA-256 (vector with a flipped hash byte)', () => {
    const c = failure(fixture('app_esp32.bad_checksum_and_sha.bin'));
    expect(c).toMatchObject({ check: 'checksum', offset: 3119 });
    expect(c.message).toMatch(/0x63, calculated 0x9c/); // as esptool reports
    expect(failure(fixture('app_esp32.bad_sha.bin'))).toMatchObject({ check: 'sha256', offset: 3120 });
    const img = base();
    img[5] = img[5]! ^ 1; // header byte: not in the checksum, but in the SHA-256
    expect(failure(img)).toMatchObject({ check: 'sha256', offset: 3120 });
  });

  it('chip id, with both chip names in the message', () => {
    const f = failure(base(), { chipId: 5 });
    expect(f).toMatchObject({ check: 'chip_id', offset: 12 });
    expect(f.message).toMatch(/built for ESP32, device is ESP32-C3/);
    expect(failure(buildAppImage({ version: 'c3', chipId: 5 }), { chipId: 0 }).check).toBe('chip_id');
  });

  it('chip revision below the minimum or above the maximum', () => {
    const img = buildAppImage({ version: 'r', minChipRevFull: 100, maxChipRevFull: 301 });
    const lo = failure(img, { chipRevFull: 99 });
    expect(lo).toMatchObject({ check: 'min_chip_rev', offset: 15 });
    expect(lo.message).toMatch(/>= v1\.0, device is v0\.99/);
    const hi = failure(img, { chipRevFull: 302 });
    expect(hi).toMatchObject({ check: 'max_chip_rev', offset: 17 });
    expect(hi.message).toMatch(/<= v3\.1, device is v3\.2/);
  });

  it('truncated anywhere: one check name, offset = where the data ends', () => {
    const img = base();
    for (const n of [10, 24, 30, 100, 24 + 8 + 0x400 + 4, 2000, 3118, 3119, 3130, 3151]) {
      expect(failure(img.subarray(0, n)), `${n} bytes`).toMatchObject({ check: 'truncated', offset: n });
    }
  });

  it('partition too small', () => {
    expect(failure(base(), { partitionSize: 3000 })).toMatchObject({ check: 'partition_size' });
  });

  it('checkAppImage reports the same without throwing', () => {
    const r = checkAppImage(fixture('app_esp32.bad_sha.bin'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.check, r.offset]).toEqual(['sha256', 3120]);
    expect(checkAppImage(base()).ok).toBe(true);
  });

  it('parseAppHeader reads the description from the first 288 bytes and checks both magics', () => {
    expect(parseAppHeader(base().subarray(0, 288)).desc.version).toBe('1.2.3-vector');
    expect(() => parseAppHeader(base().subarray(0, 287))).toThrow(/truncated/);
    const img = base();
    img[0x21] = 0;
    expect(() => parseAppHeader(img)).toThrow(/app description magic/);
  });
});

describe('chips', () => {
  it('names every chip id of the fact sheet, pre-release ids, unknown and invalid', () => {
    const table: [number, string][] = [
      [0, 'ESP32'], [2, 'ESP32-S2'], [5, 'ESP32-C3'], [9, 'ESP32-S3'], [12, 'ESP32-C2'], [13, 'ESP32-C6'],
      [16, 'ESP32-H2'], [18, 'ESP32-P4'], [20, 'ESP32-C61'], [23, 'ESP32-C5'], [25, 'ESP32-H21'], [28, 'ESP32-H4'],
      [32, 'ESP32-S31'], [4, 'ESP32-S3-beta2'], [7, 'ESP32-C6-beta'], [10, 'ESP32-H2-beta1'], [14, 'ESP32-H2-beta2'],
      [17, 'ESP32-C5-beta3'], [0xffff, 'invalid (0xffff)'], [99, 'unknown (0x0063)'],
    ];
    for (const [id, name] of table) expect(chipName(id)).toBe(name);
  });

  it('parses chip names and numbers', () => {
    expect(parseChip('esp32c3')).toBe(5);
    expect(parseChip('ESP32-C61')).toBe(20);
    expect(parseChip('esp32')).toBe(0);
    expect(parseChip('0x0c')).toBe(12);
    expect(parseChip('13')).toBe(13);
    expect(parseChip('esp8266')).toBeUndefined();
  });

  it('formats revisions as major.minor', () => {
    expect([revText(0), revText(1), revText(100), revText(301), revText(399)]).toEqual(['v0.0', 'v0.1', 'v1.0', 'v3.1', 'v3.99']);
  });
});
