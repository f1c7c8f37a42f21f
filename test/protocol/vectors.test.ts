/**
 * Our codec against protocol/vectors (SPEC §9): CRC, COBS both ways, every valid frame decoded to
 * its fields and encoded back byte for byte, every split of every frame, every malformed input
 * with its frames and counters. Also: the committed files are exactly what the generator makes.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder, LAYOUTS, MSG, PART_LAYOUT, cobsDecode, cobsEncode, crc32, decodeMessage, encodeData, encodeMessage,
  frameBody, type Field, type Frame, type Message, type MsgName,
} from '../../src/protocol/index.js';
import { generateVectors } from '../../scripts/vectors/index.js';
import { hexArg, kvArgs, one, parseLines, parseRecords, readVec, vectorsDir, type VecLine } from './vec-file.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const show = (f: Frame): string => `${f.ver}/${f.type}/${hex(f.payload)}`;
const frameOfBody = (b: Uint8Array): Frame => ({ ver: b[0]!, type: b[1]!, payload: b.slice(2, b.length - 4) });

describe('vector files', () => {
  it('are exactly what scripts/gen-vectors.ts generates (regenerate with --write and review the diff)', () => {
    const generated = generateVectors();
    const onDisk = [
      ...readdirSync(vectorsDir).filter((f) => f.endsWith('.vec')),
      ...readdirSync(new URL('sessions/', vectorsDir)).filter((f) => f.endsWith('.vec')).map((f) => `sessions/${f}`),
    ].sort();
    expect(onDisk).toEqual(Object.keys(generated).sort());
    for (const [name, text] of Object.entries(generated)) expect(readVec(name), name).toBe(text);
  });
});

describe('crc.vec', () => {
  const lines = parseLines(readVec('crc.vec'));
  it('has cases', () => expect(lines.length).toBeGreaterThan(20));
  it.each(lines.map((l) => [l.n, l] as const))('line %i', (_n, l) => {
    expect(l.kw).toBe('crc');
    expect(crc32(hexArg(l.args[0])).toString(16).padStart(8, '0')).toBe(l.args[1]);
  });
});

describe('cobs.vec', () => {
  const lines = parseLines(readVec('cobs.vec'));
  it('has every kind of case', () => expect(new Set(lines.map((l) => l.kw))).toEqual(new Set(['cobs', 'cobs_decode', 'cobs_bad'])));
  it.each(lines.map((l) => [l.n, l.kw, l] as const))('line %i (%s)', (_n, kw, l) => {
    if (kw === 'cobs') {
      const body = hexArg(l.args[0]);
      expect(hex(cobsEncode(body))).toBe(hex(hexArg(l.args[1])));
      expect(hex(cobsDecode(hexArg(l.args[1]))!)).toBe(hex(body));
    } else if (kw === 'cobs_decode') {
      expect(hex(cobsDecode(hexArg(l.args[0]))!)).toBe(hex(hexArg(l.args[1])));
    } else {
      expect(kw).toBe('cobs_bad');
      expect(cobsDecode(hexArg(l.args[0]))).toBeNull();
    }
  });
});

/** The Message a frame record describes, built from its `field` lines through our layout table. */
function messageOf(name: string, code: number, fields: VecLine[]): Message {
  const byName = new Map(fields.map((l) => [l.args[0]!, l.rest.slice(l.args[0]!.length + 1)]));
  const seen: string[] = [];
  const take = (wire: string): string => {
    const v = byName.get(wire);
    if (v === undefined) throw new Error(`no field ${wire}`);
    seen.push(wire);
    return v;
  };
  const read = (f: Field, prefix: string, obj: Record<string, unknown>): void => {
    const v = take(prefix + f.wire);
    switch (f.kind.t) {
      case 'u8': case 'u16': case 'u32': obj[f.key] = Number(v); break;
      case 'bool': obj[f.key] = v !== '0'; break;
      case 'reserved': expect(v).toBe('0'); break;
      case 'magic': expect(v).toBe(`"${f.kind.value}"`); break;
      case 'char': expect(v).toMatch(/^".*"$/); obj[f.key] = v.slice(1, -1); break;
      case 'bytes': case 'rest': obj[f.key] = hexArg(v); break;
      case 'parts': {
        obj[f.key] = Array.from({ length: Number(v) }, (_, i) => {
          const part: Record<string, unknown> = {};
          for (const pf of PART_LAYOUT) read(pf, `parts[${i}].`, part);
          return part;
        });
        break;
      }
    }
  };
  let m: Record<string, unknown>;
  if (name === 'REPLY') {
    m = { type: 'REPLY', code, status: Number(take('status')) };
  } else {
    expect(MSG[name as MsgName], `${name} is a SPEC message`).toBe(code);
    m = { type: name };
    for (const f of LAYOUTS[name as MsgName]) read(f, '', m);
  }
  expect(seen, 'field lines are the layout, in order').toEqual(fields.map((l) => l.args[0]));
  return m as unknown as Message;
}

describe('frames.vec', () => {
  const recs = parseRecords(readVec('frames.vec'), 'frame');
  const frames = recs.map((r) => {
    const [name, code] = one(r, 'msg').args;
    return {
      label: r.head.args[0]!,
      name: name!,
      code: parseInt(code!, 16),
      fields: r.body.filter((l) => l.kw === 'field'),
      body: hexArg(one(r, 'body').args[0]),
      wire: hexArg(one(r, 'wire').args[0]),
    };
  });

  it('covers every message type of SPEC §4 and the short reply', () => {
    expect(new Set(frames.map((f) => f.name))).toEqual(new Set([...Object.keys(MSG), 'REPLY']));
  });

  it.each(frames.map((f) => [f.label, f] as const))('%s: body, CRC, COBS, fields, encode', (_l, f) => {
    const n = f.body.length;
    expect(f.body[0]).toBe(1);
    expect(f.body[1]).toBe(f.code);
    expect(crc32(f.body.subarray(0, n - 4))).toBe(Buffer.from(f.body.subarray(n - 4)).readUInt32LE(0));
    expect(hex(f.wire)).toBe(`00${hex(cobsEncode(f.body))}00`);
    expect(hex(cobsDecode(f.wire.subarray(1, -1))!)).toBe(hex(f.body));
    const frame = frameOfBody(f.body);
    expect(hex(frameBody(frame.type, frame.payload))).toBe(hex(f.body));

    const d = new FrameDecoder();
    const got = d.push(f.wire);
    expect(got.map(show)).toEqual([show(frame)]);
    const want = messageOf(f.name, f.code, f.fields);
    expect(decodeMessage(got[0]!)).toEqual(want);
    expect(hex(encodeMessage(want))).toBe(hex(f.wire));
    if (want.type === 'DATA') expect(hex(encodeData(want.offset, want.data))).toBe(hex(f.wire));
  });

  it.each(frames.map((f) => [f.label, f] as const))('%s: decodes the same when split at every byte boundary, and byte by byte', (_l, f) => {
    const expected = [show(frameOfBody(f.body))];
    for (let k = 0; k <= f.wire.length; k++) {
      const d = new FrameDecoder();
      const got = [...d.push(f.wire.subarray(0, k)), ...d.push(f.wire.subarray(k))];
      expect(got.map(show), `split at ${k}`).toEqual(expected);
      expect(d.counters.frames + d.counters.noiseBytes + d.pendingBytes, `split at ${k}`).toBe(1);
    }
    const d = new FrameDecoder();
    const got = Array.from(f.wire).flatMap((b) => d.push(Uint8Array.of(b)));
    expect(got.map(show)).toEqual(expected);
  });
});

const COUNTERS: [string, (d: FrameDecoder) => number][] = [
  ['frames', (d) => d.counters.frames],
  ['noise_bytes', (d) => d.counters.noiseBytes],
  ['too_long', (d) => d.counters.tooLong],
  ['bad_cobs', (d) => d.counters.badCobs],
  ['too_short', (d) => d.counters.tooShort],
  ['bad_crc', (d) => d.counters.badCrc],
  ['bad_version', (d) => d.counters.badVersion],
  ['pending', (d) => d.pendingBytes],
];

describe('malformed.vec', () => {
  const cases = parseRecords(readVec('malformed.vec'), 'case').map((r) => ({
    name: r.head.args[0]!,
    maxFrame: Number(one(r, 'max_frame').args[0]),
    input: Buffer.concat(r.body.filter((l) => l.kw === 'wire').map((l) => hexArg(l.args[0]))),
    good: r.body.filter((l) => l.kw === 'frame' || l.kw === 'badver').map((l) => ({ ver1: l.kw === 'frame', body: hexArg(l.args[0]) })),
    expect: kvArgs(one(r, 'expect').args),
  }));
  const run = (maxFrame: number, chunks: Uint8Array[], versions?: 'any') => {
    const d = new FrameDecoder({ maxFrame, versions });
    const frames = chunks.flatMap((c) => d.push(c)).map(show);
    return { d, frames, counters: Object.fromEntries(COUNTERS.map(([k, get]) => [k, get(d)])) };
  };

  it('has the counters of SPEC §2.3 in order on every expect line', () => {
    for (const c of cases) expect(Object.keys(c.expect)).toEqual(COUNTERS.map(([k]) => k));
    expect(cases.length).toBeGreaterThan(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const want = c.good.filter((g) => g.ver1).map((g) => show(frameOfBody(g.body)));
    const whole = run(c.maxFrame, [c.input]);
    expect(whole.frames).toEqual(want);
    expect(whole.counters).toEqual(c.expect);
    // Split across pushes: at every boundary for short inputs, at 300 seeded boundaries otherwise.
    const cuts = c.input.length <= 3000 ? Array.from({ length: c.input.length + 1 }, (_, k) => k)
      : Array.from({ length: 300 }, (_, k) => (k * 7919 + 13) % (c.input.length + 1));
    for (const k of cuts) {
      const s = run(c.maxFrame, [c.input.subarray(0, k), c.input.subarray(k)]);
      expect(s.frames, `split at ${k}`).toEqual(want);
      expect(s.counters, `split at ${k}`).toEqual(c.expect);
    }
    // SPEC §9.5: a case whose candidates are all <= M bytes gives the same result at max_frame M.
    const longestRun = Math.max(...Buffer.from(c.input).toString('latin1').split('\0').map((r) => r.length));
    for (const m of [640, 1040, 4112]) {
      if (m !== c.maxFrame && longestRun <= Math.min(m, c.maxFrame)) expect(run(m, [c.input]).counters, `at max_frame ${m}`).toEqual(c.expect);
    }
    const bytes = run(c.maxFrame, Array.from(c.input, (b) => Uint8Array.of(b)));
    expect(bytes.counters).toEqual(c.expect);
    // A device's decoder passes every version up (SPEC §2.4): badver frames are then delivered.
    const any = run(c.maxFrame, [c.input], 'any');
    expect(any.frames).toEqual(c.good.map((g) => show(frameOfBody(g.body))));
    const badverBytes = c.good.filter((g) => !g.ver1).reduce((n, g) => n + cobsEncode(g.body).length, 0);
    expect(any.counters).toEqual({
      ...c.expect, frames: c.expect.frames! + c.expect.bad_version!, bad_version: 0, noise_bytes: c.expect.noise_bytes! - badverBytes,
    });
  });
});

