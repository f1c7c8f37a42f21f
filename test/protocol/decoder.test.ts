import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder, MAX_FRAME_ABS, cobsEncode, cobsMaxEncodedLength, crc32, encodeFrame, encodeMessage, frameBody,
  type DecoderCounters, type Frame,
} from '../../src/protocol/index.js';
import { concat, rawFrameArb, unhex } from './arbitraries.js';

const zero = (c: Partial<DecoderCounters> = {}): DecoderCounters => ({
  frames: 0, noiseBytes: 0, tooLong: 0, badCobs: 0, tooShort: 0, badCrc: 0, badVersion: 0, ...c,
});
const text = (s: string) => new TextEncoder().encode(s);
const wireOfBody = (body: Uint8Array) => concat([unhex('00'), cobsEncode(body), unhex('00')]);
const show = (f: Frame) => `${f.ver}/${f.type}/${Buffer.from(f.payload).toString('hex')}`;
const frame = (type: number, payload: Uint8Array, ver = 1): Frame => ({ ver, type, payload });

function decodeAll(chunks: Uint8Array[], opts?: ConstructorParameters<typeof FrameDecoder>[0]) {
  const d = new FrameDecoder(opts);
  const frames = chunks.flatMap((c) => d.push(c));
  return { d, frames };
}

const samples: [string, Uint8Array, Frame][] = [
  ['PING', encodeMessage({ type: 'PING', nonce: 0x00010203 }), frame(0x09, unhex('03020100'))],
  ['empty payload', encodeFrame(0x06, new Uint8Array(0)), frame(0x06, new Uint8Array(0))],
  ['DATA 1024 zero bytes', encodeFrame(0x04, new Uint8Array(1028)), frame(0x04, new Uint8Array(1028))],
  ['max body of 0xFF', encodeFrame(0x04, new Uint8Array(MAX_FRAME_ABS - 6).fill(0xff)), frame(0x04, new Uint8Array(MAX_FRAME_ABS - 6).fill(0xff))],
];

describe('FrameDecoder: every split', () => {
  it.each(samples)('%s: split at every byte boundary', (_n, wire, expected) => {
    for (let k = 0; k <= wire.length; k++) {
      const { d, frames } = decodeAll([wire.subarray(0, k), wire.subarray(k)]);
      // Compared as hex: vitest's deep equality on 4 KiB typed arrays x 4000 splits takes ~20 s.
      expect(frames.map(show)).toEqual([show(expected)]);
      expect(d.counters).toEqual(zero({ frames: 1 }));
    }
  });

  it.each(samples)('%s: one byte at a time', (_n, wire, expected) => {
    const { d, frames } = decodeAll(Array.from(wire, (b) => Uint8Array.of(b)));
    expect(frames).toEqual([expected]);
    expect(d.counters).toEqual(zero({ frames: 1 }));
    expect(d.pendingBytes).toBe(0);
  });

  it('keeps a frame pending until its delimiter', () => {
    const wire = encodeMessage({ type: 'PING', nonce: 7 });
    const d = new FrameDecoder();
    expect(d.push(wire.subarray(0, wire.length - 1))).toEqual([]);
    expect(d.pendingBytes).toBe(wire.length - 2);
    expect(d.push(unhex('00'))).toHaveLength(1);
  });
});

describe('FrameDecoder: noise and recovery', () => {
  const ping = encodeMessage({ type: 'PING', nonce: 1 });
  const pingFrame = frame(0x09, unhex('01000000'));

  it('drops a boot log before a frame and counts its bytes as noise', () => {
    const log = text('ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET),boot:0x13\r\n');
    const { d, frames } = decodeAll([log, ping]);
    expect(frames).toEqual([pingFrame]);
    expect(d.counters.noiseBytes).toBe(log.length);
    expect(d.counters.frames).toBe(1);
  });

  it('delivers back-to-back frames sharing one delimiter', () => {
    const { d, frames } = decodeAll([concat([ping, ping.subarray(1), ping.subarray(1)])]);
    expect(frames).toEqual([pingFrame, pingFrame, pingFrame]);
    expect(d.counters).toEqual(zero({ frames: 3 }));
  });

  it('ignores empty frames without counting them', () => {
    const { d, frames } = decodeAll([unhex('000000'), ping, unhex('0000')]);
    expect(frames).toEqual([pingFrame]);
    expect(d.counters).toEqual(zero({ frames: 1 }));
  });

  it('drops an over-long run once, however it is split, and recovers at the next frame', () => {
    const cap = cobsMaxEncodedLength(MAX_FRAME_ABS);
    const junk = new Uint8Array(cap * 3 + 5).fill(0x55);
    const splits: Uint8Array[][] = [
      [junk, ping],
      [junk.subarray(0, 10), junk.subarray(10), ping],
      [...Array.from({ length: 50 }, (_, i) => junk.subarray(i * 300, (i + 1) * 300)), ping],
    ];
    for (const chunks of splits) {
      const { d, frames } = decodeAll(chunks);
      expect(frames).toEqual([pingFrame]);
      expect(d.counters).toEqual(zero({ frames: 1, tooLong: 1, noiseBytes: junk.length }));
    }
  });

  it('decodes a run of exactly COBS_MAX bytes as a candidate (here bad COBS, not too long)', () => {
    const cap = cobsMaxEncodedLength(MAX_FRAME_ABS);
    const { d } = decodeAll([new Uint8Array(cap).fill(0x80), unhex('00')]);
    expect(d.counters).toEqual(zero({ badCobs: 1, noiseBytes: cap }));
  });

  it('drops a body longer than maxFrame even when its encoding fits the buffer', () => {
    const body = frameBody(0x04, new Uint8Array(95).fill(7)); // 101 bytes > maxFrame 100
    const { d, frames } = decodeAll([wireOfBody(body)], { maxFrame: 100 });
    expect(frames).toEqual([]);
    expect(d.counters).toEqual(zero({ tooLong: 1, noiseBytes: cobsEncode(body).length }));
    expect(decodeAll([wireOfBody(frameBody(0x04, new Uint8Array(94).fill(7)))], { maxFrame: 100 }).frames).toHaveLength(1);
  });

  it('classifies bad COBS, too short, bad CRC and wrong version', () => {
    const good = frameBody(0x09, unhex('01000000'));
    const badCrc = good.slice();
    badCrc[3]! ^= 0x40;
    const v2 = frameBody(0x09, unhex('01000000'), 2);
    const cases: [Uint8Array, Partial<DecoderCounters>][] = [
      [unhex('0005112200'), { badCobs: 1, noiseBytes: 3 }],
      [wireOfBody(unhex('0109000000')), { tooShort: 1, noiseBytes: 6 }],
      [wireOfBody(badCrc), { badCrc: 1, noiseBytes: cobsEncode(badCrc).length }],
      [wireOfBody(v2), { badVersion: 1, noiseBytes: cobsEncode(v2).length }],
    ];
    for (const [wire, counters] of cases) {
      const { d, frames } = decodeAll([wire, ping]);
      expect(frames).toEqual([pingFrame]);
      expect(d.counters).toEqual(zero({ frames: 1, ...counters }));
    }
  });

  it('delivers other versions when asked to', () => {
    const v2 = wireOfBody(frameBody(0x01, new Uint8Array(0), 2));
    expect(decodeAll([v2], { versions: [1, 2] }).frames).toEqual([frame(0x01, new Uint8Array(0), 2)]);
    expect(decodeAll([v2], { versions: 'any' }).frames).toHaveLength(1);
  });

  it('checks the CRC over ver and type too', () => {
    const body = frameBody(0x09, unhex('01000000'));
    body[1] = 0x0a; // type changed, CRC kept
    expect(decodeAll([wireOfBody(body)]).d.counters.badCrc).toBe(1);
    expect(crc32(body.subarray(0, 6))).not.toBe(0);
  });

  it('reset() drops a partial frame as noise and keeps counters', () => {
    const d = new FrameDecoder();
    d.push(ping);
    d.push(ping.subarray(0, 5));
    d.reset();
    expect(d.pendingBytes).toBe(0);
    expect(d.counters).toEqual(zero({ frames: 1, noiseBytes: 4 }));
    expect(d.push(ping.subarray(5))).toEqual([]); // the tail alone is garbage
    expect(d.push(ping)).toEqual([pingFrame]);
  });

  it('the encoder refuses a body longer than MAX_FRAME_ABS (no receiver would accept it)', () => {
    expect(encodeFrame(0x04, new Uint8Array(MAX_FRAME_ABS - 6)).length).toBeGreaterThan(MAX_FRAME_ABS);
    expect(() => encodeFrame(0x04, new Uint8Array(MAX_FRAME_ABS - 5))).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'DATA', offset: 0, data: new Uint8Array(4103) })).toThrow(TypeError);
  });

  it('validates maxFrame', () => {
    expect(() => new FrameDecoder({ maxFrame: MAX_FRAME_ABS + 1 })).toThrow(TypeError);
    expect(() => new FrameDecoder({ maxFrame: 5 })).toThrow(TypeError);
  });

  it('owns the payload it returns (the internal buffer is reused)', () => {
    const d = new FrameDecoder();
    const [a] = d.push(encodeFrame(0x04, unhex('aabbccdd')));
    d.push(encodeFrame(0x04, unhex('11223344')));
    expect(a!.payload).toEqual(unhex('aabbccdd'));
  });
});

describe('FrameDecoder: properties', () => {
  const splitAt = (b: Uint8Array, cuts: number[]) => {
    const pts = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
    const out: Uint8Array[] = [];
    let prev = 0;
    for (const p of pts) {
      out.push(b.subarray(prev, p));
      prev = p;
    }
    out.push(b.subarray(prev));
    return out;
  };

  it('garbage + frame + garbage -> exactly that frame, however the bytes are split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6000 }), rawFrameArb(), fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), (pre, f, post, cuts) => {
        const stream = concat([pre, encodeFrame(f.type, f.payload), post]);
        const { frames } = decodeAll(splitAt(stream, cuts));
        expect(frames).toEqual([frame(f.type, f.payload)]);
      }),
    );
  });

  it('counters add up: every byte is a delimiter, part of a delivered frame, noise or pending', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 200 }), rawFrameArb(100)), { maxLength: 10 }), fc.uint8Array({ maxLength: 50 }), fc.array(fc.nat(), { maxLength: 8 }), (items, tail, cuts) => {
        const stream = concat([...items.flatMap(([g, f]) => [g, encodeFrame(f.type, f.payload)]), tail]);
        const { d, frames } = decodeAll(splitAt(stream, cuts), { maxFrame: 120 });
        const c = d.counters;
        const frameBytes = frames.reduce((n, f) => n + cobsEncode(frameBody(f.type, f.payload, f.ver)).length, 0);
        const zeros = stream.reduce((n, b) => n + (b === 0 ? 1 : 0), 0);
        expect(zeros + frameBytes + c.noiseBytes + d.pendingBytes).toBe(stream.length);
        expect(c.frames).toBe(frames.length);
        // Every non-empty candidate (run between delimiters) is delivered or counted exactly once.
        const runs = Buffer.from(stream).toString('latin1').split('\0');
        const candidates = runs.slice(0, -1).filter((r) => r.length > 0).length;
        expect(c.frames + c.tooLong + c.badCobs + c.tooShort + c.badCrc + c.badVersion).toBe(candidates);
        expect(frames).toHaveLength(items.length); // garbage never yields or eats a frame
      }),
    );
  });

  it('random corruption never yields a frame that was not sent, and order is kept', () => {
    const corruption = fc.array(
      fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'drop', 'insert', 'zero'), bit: fc.integer({ min: 0, max: 7 }), byte: fc.integer({ min: 0, max: 255 }) }),
      { minLength: 1, maxLength: 20 },
    );
    fc.assert(
      fc.property(fc.array(rawFrameArb(200), { minLength: 1, maxLength: 12 }), corruption, (sent, edits) => {
        const bytes = Array.from(concat(sent.map((f) => encodeFrame(f.type, f.payload))));
        for (const e of edits) {
          const i = e.at % (bytes.length + 1);
          if (e.kind === 'insert') bytes.splice(i, 0, e.byte);
          else if (i < bytes.length) {
            if (e.kind === 'flip') bytes[i]! ^= 1 << e.bit;
            else if (e.kind === 'zero') bytes[i] = 0;
            else bytes.splice(i, 1);
          }
        }
        const { frames } = decodeAll([Uint8Array.from(bytes)]);
        let j = 0;
        for (const got of frames) {
          while (j < sent.length && !(sent[j]!.type === got.type && Buffer.from(sent[j]!.payload).equals(got.payload))) j++;
          expect(j, `frame type ${got.type} was never sent (or is out of order)`).toBeLessThan(sent.length);
          j++;
        }
      }),
      { numRuns: 300 },
    );
  });
});
