/**
 * The app image checksum (esp-formats.md §3: 0xEF XOR every segment data byte) is computed with
 * 32-bit words over the aligned middle of each segment. These tests hold it to a byte-at-a-time
 * oracle at every alignment a view into flash or a file can have.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import { verifyAppImage, xorBytes } from '../../src/image/index.js';
import { fixture } from './fixtures.js';

function oracle(b: Uint8Array, start: number, end: number): number {
  let x = 0;
  for (let j = start; j < end; j++) x ^= b[j]!;
  return x;
}

describe('app image checksum', () => {
  it('xorBytes equals the byte-at-a-time XOR for any buffer offset, start and end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(7), fc.nat(300), fc.nat(300), (bytes, shift, a, b) => {
        const backing = new Uint8Array(bytes.length + 8);
        backing.set(bytes, shift);
        const view = backing.subarray(shift, shift + bytes.length);
        const start = Math.min(a, b, bytes.length);
        const end = Math.min(Math.max(a, b), bytes.length);
        expect(xorBytes(view, start, end)).toBe(oracle(view, start, end));
      }),
      { numRuns: 2000 },
    );
  });

  it('a 1 MiB run with one changed byte anywhere changes the XOR', () => {
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 131) & 0xff);
    const want = oracle(big, 0, big.length);
    expect(xorBytes(big, 0, big.length)).toBe(want);
    for (const at of [0, 1, 2, 3, 4, 65_537, big.length - 1]) {
      big[at]! ^= 0x40;
      expect(xorBytes(big, 0, big.length)).toBe(want ^ 0x40);
      big[at]! ^= 0x40;
    }
  });

  it('the vector verifies from a view at every alignment, and a flipped segment byte fails its checksum at each', () => {
    const app = fixture('app_esp32.bin');
    for (let shift = 0; shift < 4; shift++) {
      const backing = new Uint8Array(app.length + 4);
      backing.set(app, shift);
      const view = backing.subarray(shift, shift + app.length);
      expect(verifyAppImage(view).checksum).toBe(0x63);
      view[2000 + shift]! ^= 1; // a data byte of segment 1 (data at 1064..3112), at a different word lane each time
      let err: unknown;
      try {
        verifyAppImage(view);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OtaError);
      expect((err as OtaError).details).toMatchObject({ check: 'checksum', offset: 3119 });
    }
  });
});
