import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder, MSG, STATUS, decodeMessage, encodeChars, encodeData, encodeFrame, encodeMessage, messageName,
  messageToPayload, minPayloadLength, type Frame, type Message,
} from '../../src/protocol/index.js';
import { messageArb, unhex } from './arbitraries.js';

const roundTrip = (m: Message): Message | null => {
  const frames = new FrameDecoder().push(encodeMessage(m));
  expect(frames).toHaveLength(1);
  return decodeMessage(frames[0]!);
};
const f = (type: number, payload: Uint8Array): Frame => ({ ver: 1, type, payload });

describe('messages', () => {
  it('decode(encode(m)) == m for random messages of every type', () => {
    fc.assert(fc.property(messageArb, (m) => { expect(roundTrip(m)).toEqual(m); }), { numRuns: 500 });
  });

  it('encodeData is byte-identical to encodeMessage(DATA)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 2000 }), (offset, data) => {
        expect(encodeData(offset, data)).toEqual(encodeMessage({ type: 'DATA', offset, data }));
      }),
    );
  });

  it('rejects payloads shorter than their type requires, accepts longer ones (except DATA takes all)', () => {
    for (const [name, code] of Object.entries(MSG)) {
      const min = minPayloadLength(code)!;
      const extended = new Uint8Array(min + 3);
      if (name === 'HELLO') extended.set(new TextEncoder().encode('OTAU'));
      const m = decodeMessage(f(code, extended));
      expect(m?.type, name).toBe(name);
      if (min > 0 && code < 0x80) expect(decodeMessage(f(code, extended.subarray(0, min - 1))), name).toBeNull();
    }
    expect(decodeMessage(f(MSG.DATA, unhex('010000')))).toBeNull();
    expect(decodeMessage(f(MSG.DATA, unhex('01000000')))).toEqual({ type: 'DATA', offset: 1, data: new Uint8Array(0) });
  });

  it('decodes a short or unknown reply as REPLY, an unknown request or empty reply as null', () => {
    expect(decodeMessage(f(0x84, Uint8Array.of(STATUS.NO_SESSION)))).toEqual({ type: 'REPLY', code: 0x84, status: STATUS.NO_SESSION });
    expect(decodeMessage(f(0x8b, Uint8Array.of(STATUS.UNSUPPORTED)))).toEqual({ type: 'REPLY', code: 0x8b, status: STATUS.UNSUPPORTED });
    expect(decodeMessage(f(0x86, Uint8Array.of(0)))).toEqual({ type: 'ABORT_ACK', status: 0 });
    expect(decodeMessage(f(0x8b, new Uint8Array(0)))).toBeNull();
    expect(decodeMessage(f(0x0b, new Uint8Array(8)))).toBeNull();
    expect(messageName(0x0b)).toBeUndefined();
    expect(messageName(0x84)).toBe('ACK');
  });

  it('checks the HELLO magic and the partition count', () => {
    expect(decodeMessage(f(MSG.HELLO, unhex('4f54415501 00'.replace(' ', ''))))).toEqual({ type: 'HELLO', hostProto: 1, flags: 0 });
    expect(decodeMessage(f(MSG.HELLO, unhex('4f54414201 00'.replace(' ', ''))))).toBeNull();
    const { payload } = messageToPayload({
      type: 'HELLO_ACK', status: 0, proto: 1, maxFrame: 4112, window: 0, maxBaud: 0, chipId: 0, chipRev: 0, flags: 0,
      efuseSecureVersion: 0, running: 0, boot: 0, target: 0, runVersion: '', runProject: '', runSecureVersion: 0,
      resumeId: new Uint8Array(32), resumeOffset: 0, resumeTotal: 0, parts: [],
    });
    expect(payload.length).toBe(133);
    const tooMany = payload.slice();
    tooMany[132] = 17;
    expect(decodeMessage(f(MSG.HELLO_ACK, tooMany))).toBeNull();
    const missing = payload.slice();
    missing[132] = 1; // one partition announced, none present
    expect(decodeMessage(f(MSG.HELLO_ACK, missing))).toBeNull();
  });

  it('fills char[n] completely without a NUL and truncates at a character boundary', () => {
    const v = 'x'.repeat(32);
    const m = roundTrip({ type: 'RESULT', status: 0, boot: 1, secureVersion: 0, version: v + 'tail', detail: 0 });
    expect(m).toMatchObject({ version: v });
    expect(encodeChars('a'.repeat(31) + 'é', 32)).toEqual(new TextEncoder().encode('a'.repeat(31)));
    expect(decodeMessage(f(MSG.RESULT, concatHex('00', '01', '00000000', '312e3200ff' + '00'.repeat(27), '00000000')))).toMatchObject({ version: '1.2' });
  });

  it('refuses out-of-range fields and bad sizes with TypeError', () => {
    expect(() => encodeMessage({ type: 'PING', nonce: 2 ** 32 })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'ACK', status: 0, nextOffset: -1, creditEnd: 0, sack: 0, busyMs: 0 })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'END', flags: 1.5 })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'BEGIN', flags: 0, chunk: 1024, total: 0, header: new Uint8Array(511) })).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'REPLY', code: 0x04, status: 0x20 })).toThrow(TypeError);
    expect(() => encodeData(0x1_0000_0000, new Uint8Array(16))).toThrow(TypeError);
    // An unpaired surrogate has no UTF-8 form; TextEncoder would put U+FFFD on the wire.
    expect(() => encodeMessage({ type: 'RESULT', status: 0, boot: 0, secureVersion: 0, version: '1.0\ud800', detail: 0 })).toThrow(TypeError);
    expect(() => encodeChars('\udc00x', 32)).toThrow(TypeError);
    expect(encodeChars('\u{10000}', 32)).toEqual(Uint8Array.of(0xf0, 0x90, 0x80, 0x80)); // a pair is fine
  });

  it('uses the frame type codes of SPEC §4', () => {
    expect(encodeMessage({ type: 'ABORT' })).toEqual(encodeFrame(0x06, new Uint8Array(0)));
    expect(encodeMessage({ type: 'REPLY', code: 0x8b, status: 0x20 })).toEqual(encodeFrame(0x8b, Uint8Array.of(0x20)));
  });
});

function concatHex(...parts: string[]): Uint8Array {
  return unhex(parts.join(''));
}
