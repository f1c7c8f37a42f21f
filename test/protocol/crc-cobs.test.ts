import crcPkg from 'crc/crc32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
