import crcPkg from 'crc/crc32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cobsEncodeInto } from '../../src/protocol/cobs.js';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength, crc32 } from '../../src/protocol/index.js';
import { concat, hex, unhex } from './arbitraries.js';

const seq = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('crc32', () => {
  it('has the CRC-32/ISO-HDLC check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('agrees with the crc package (an independent implementation) at every length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(crc32(b)).toBe((crcPkg as unknown as (x: Uint8Array) => number)(b) >>> 0);
      }),
    );
  });

  it('continues from a seed', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        expect(crc32(b, crc32(a))).toBe(crc32(concat([a, b])));
      }),
    );
  });
});

describe('cobs', () => {
  // Examples from the Wikipedia COBS article (which follows Cheshire & Baker).
  const examples: [string, Uint8Array, string][] = [
    ['00', unhex('00'), '0101'],
    ['00 00', unhex('0000'), '010101'],
    ['00 11 00', unhex('001100'), '01021101'],
    ['11 22 00 33', unhex('11220033'), '0311220233'],
    ['11 22 33 44', unhex('11223344'), '0511223344'],
    ['11 00 00 00', unhex('11000000'), '0211010101'],
    ['01..FE', seq(1, 254), 'ff' + hex(seq(1, 254))],
    ['00..FE', seq(0, 254), '01ff' + hex(seq(1, 254))],
    ['01..FF', seq(1, 255), 'ff' + hex(seq(1, 254)) + '02ff'],
    ['02..FF 00', concat([seq(2, 255), unhex('00')]), 'ff' + hex(seq(2, 255)) + '0101'],
    ['03..FF 00 01', concat([seq(3, 255), unhex('0001')]), 'fe' + hex(seq(3, 255)) + '0201'],
  ];
  it.each(examples)('encodes %s as on Wikipedia', (_name, body, enc) => {
    expect(hex(cobsEncode(body))).toBe(enc);
    expect(hex(cobsDecode(unhex(enc))!)).toBe(hex(body));
  });

  it('encodes the empty body as 01', () => {
    expect(hex(cobsEncode(new Uint8Array(0)))).toBe('01');
    expect(cobsDecode(unhex('01'))).toEqual(new Uint8Array(0));
  });

  it('accepts the non-canonical trailing 01 after a full block', () => {
    expect(hex(cobsDecode(unhex('ff' + hex(seq(1, 254)) + '01'))!)).toBe(hex(seq(1, 254)));
  });

  it.each([
    ['empty', ''],
    ['code points past the end', '0511'],
    ['zero inside', '031100'],
    ['zero code', '00'],
  ])('rejects %s', (_n, enc) => {
    expect(cobsDecode(unhex(enc))).toBeNull();
  });

  // The textbook byte-at-a-time encoder, as an independent oracle for the run-copying one.
  function referenceEncode(body: Uint8Array): number[] {
    const out: number[] = [0];
    let codePos = 0;
    let code = 1;
    for (let i = 0; i < body.length; i++) {
      if (body[i] === 0) {
        out[codePos] = code;
        codePos = out.push(0) - 1;
        code = 1;
        continue;
      }
      out.push(body[i]!);
      if (++code === 0xff) {
        out[codePos] = code;
        code = 1;
        if (i === body.length - 1) return out;
        codePos = out.push(0) - 1;
      }
    }
    out[codePos] = code;
    return out;
  }

  it('encodes exactly like the byte-at-a-time encoder, however the body is split into parts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.integer({ min: 0, max: 3 }), fc.array(fc.nat(), { maxLength: 4 }), (b, density, cuts) => {
        // density 0: zero-free (0xFF blocks, runs cut by parts); 3: a zero every few bytes.
        const body = density === 3 ? b.map((x) => x & 7) : density === 0 ? b.map((x) => x | 1) : b;
        const at = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((x, y) => x - y);
        const parts = [0, ...at].map((s, k) => body.subarray(s, k < at.length ? at[k] : body.length));
        const out = new Uint8Array(cobsMaxEncodedLength(body.length) + 3).fill(0xaa);
        const end = cobsEncodeInto(parts, out, 3);
        expect([...out.subarray(3, end)]).toEqual(referenceEncode(body));
      }),
    );
  });

  it('round-trips, never emits 0x00, and stays within the SPEC bound', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (b, sparse) => {
        const body = sparse ? b : b.map((x) => x | 1); // long zero-free runs exercise 0xFF blocks
        const enc = cobsEncode(body);
        expect(enc.includes(0)).toBe(false);
        expect(enc.length).toBeLessThanOrEqual(cobsMaxEncodedLength(body.length));
        expect(cobsDecode(enc)).toEqual(body);
      }),
    );
  });
});
