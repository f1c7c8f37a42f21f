/**
 * Message codec (SPEC §4): typed Message <-> frame payload, driven by the layout table in
 * message-layouts.ts. Depends on frame.ts and constants.ts; pure.
 *
 * Decoding follows SPEC §4: a payload shorter than its type requires is malformed (null); longer
 * payloads are accepted and the extra bytes ignored; DATA takes every byte after its offset.
 */
import { DATA_OVERHEAD, MAX_PARTS, MSG, REPLY_BIT, type MsgName } from './constants.js';
import { encodeFrame, encodeFrameParts, type Frame } from './frame.js';
import { LAYOUTS, PART_LAYOUT, PART_SIZE, minPayload, type Field } from './message-layouts.js';
import type { Message } from './message-types.js';

const NAMES: ReadonlyMap<number, MsgName> = new Map(
  (Object.entries(MSG) as [MsgName, number][]).map(([name, code]) => [code, name]),
);
const MIN_PAYLOAD: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(LAYOUTS).map(([name, fields]) => [name, minPayload(fields)]),
);
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8');

/** Name of a message type code, or undefined for a type this protocol version does not define. */
export function messageName(type: number): MsgName | undefined {
  return NAMES.get(type);
}

/** Smallest valid payload length of a message type (SPEC §4), undefined for unknown types. */
export function minPayloadLength(type: number): number | undefined {
  const name = NAMES.get(type);
  return name === undefined ? undefined : MIN_PAYLOAD[name];
}

/** A UTF-16 surrogate without its partner: `u` mode matches only unpaired ones. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * UTF-8 bytes of `s` for a char[n] field: at most n bytes, cut back to a whole character so the
 * field always decodes to a prefix of `s`. Decoding stops at the first NUL. A string holding an
 * unpaired surrogate has no UTF-8 form (TextEncoder would silently put U+FFFD on the wire, and the
 * peer would see a different string), so it is refused like any other out-of-range field.
 */
export function encodeChars(s: string, n: number): Uint8Array {
  if (LONE_SURROGATE.test(s)) throw new TypeError(`string ${JSON.stringify(s)} is not well-formed UTF-16 (unpaired surrogate)`);
  const b = utf8.encode(s);
  if (b.length <= n) return b;
  let end = n;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // b[end] is a continuation byte: back off
  return b.subarray(0, end);
}

function decodeChars(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return fromUtf8.decode(nul < 0 ? b : b.subarray(0, nul));
}

function checkUint(v: unknown, bits: 8 | 16 | 32, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** bits - 1) {
    throw new TypeError(`"${name}" must be an integer in [0, ${2 ** bits - 1}], got ${String(v)}`);
  }
  return v;
}

function writeFields(fields: readonly Field[], obj: Record<string, unknown>, dv: DataView, out: Uint8Array, pos: number): number {
  for (const { key, kind } of fields) {
    const v = obj[key];
    switch (kind.t) {
      case 'u8': out[pos] = checkUint(v, 8, key); pos += 1; break;
      case 'u16': dv.setUint16(pos, checkUint(v, 16, key), true); pos += 2; break;
      case 'u32': dv.setUint32(pos, checkUint(v, 32, key), true); pos += 4; break;
      case 'bool': out[pos] = v ? 1 : 0; pos += 1; break;
      case 'reserved': out[pos] = 0; pos += 1; break;
      case 'magic': out.set(utf8.encode(kind.value), pos); pos += kind.value.length; break;
      case 'char':
        if (typeof v !== 'string') throw new TypeError(`"${key}" must be a string`);
        out.set(encodeChars(v, kind.n), pos); // the rest stays NUL: the array is zero-filled
        pos += kind.n;
        break;
      case 'bytes':
        if (!(v instanceof Uint8Array) || v.length !== kind.n) throw new TypeError(`"${key}" must be ${kind.n} bytes`);
        out.set(v, pos);
        pos += kind.n;
        break;
      case 'rest':
        if (!(v instanceof Uint8Array)) throw new TypeError(`"${key}" must be a Uint8Array`);
        out.set(v, pos);
        pos += v.length;
        break;
      case 'parts': {
        if (!Array.isArray(v) || v.length > MAX_PARTS) throw new TypeError(`"parts" must be an array of at most ${MAX_PARTS}`);
        out[pos++] = v.length;
        for (const part of v as Record<string, unknown>[]) pos = writeFields(PART_LAYOUT, part, dv, out, pos);
        break;
      }
    }
  }
  return pos;
}

/** Frame type code and payload bytes of a message. Throws TypeError on out-of-range fields. */
export function messageToPayload(m: Message): { code: number; payload: Uint8Array } {
  if (m.type === 'REPLY') {
    if ((checkUint(m.code, 8, 'code') & REPLY_BIT) === 0) throw new TypeError('"code" must be a reply type (>= 0x80)');
    return { code: m.code, payload: Uint8Array.of(checkUint(m.status, 8, 'status')) };
  }
  const fields = LAYOUTS[m.type];
  let size = MIN_PAYLOAD[m.type]!;
  if (m.type === 'DATA') size += m.data.length;
  if (m.type === 'HELLO_ACK') size += PART_SIZE * m.parts.length;
  const payload = new Uint8Array(size);
  writeFields(fields, m as unknown as Record<string, unknown>, new DataView(payload.buffer), payload, 0);
  return { code: MSG[m.type], payload };
}

/** Wire bytes (00 COBS(body) 00) of a message. Throws TypeError on out-of-range fields. */
export function encodeMessage(m: Message): Uint8Array {
  if (m.type === 'DATA') return encodeData(m.offset, m.data);
  const { code, payload } = messageToPayload(m);
  return encodeFrame(code, payload);
}

/** Fast path for the bulk of the traffic: wire bytes of DATA(offset, data) without building a payload. */
export function encodeData(offset: number, data: Uint8Array): Uint8Array {
  const off = new Uint8Array(DATA_OVERHEAD);
  new DataView(off.buffer).setUint32(0, checkUint(offset, 32, 'offset'), true);
  return encodeFrameParts(MSG.DATA, [off, data]);
}

function readFields(fields: readonly Field[], p: Uint8Array, dv: DataView, pos: number, obj: Record<string, unknown>): number | null {
  for (const { key, kind } of fields) {
    switch (kind.t) {
      case 'u8': obj[key] = p[pos]; pos += 1; break;
      case 'u16': obj[key] = dv.getUint16(pos, true); pos += 2; break;
      case 'u32': obj[key] = dv.getUint32(pos, true); pos += 4; break;
      case 'bool': obj[key] = p[pos] !== 0; pos += 1; break;
      case 'reserved': pos += 1; break;
      case 'magic':
        if (decodeChars(p.subarray(pos, pos + kind.value.length)) !== kind.value) return null;
        pos += kind.value.length;
        break;
      case 'char': obj[key] = decodeChars(p.subarray(pos, pos + kind.n)); pos += kind.n; break;
      case 'bytes': obj[key] = p.slice(pos, pos + kind.n); pos += kind.n; break;
      case 'rest': obj[key] = p.subarray(pos); pos = p.length; break;
      case 'parts': {
        const n = p[pos]!;
        pos += 1;
        if (n > MAX_PARTS || p.length < pos + n * PART_SIZE) return null;
        const parts: Record<string, unknown>[] = [];
        for (let i = 0; i < n; i++) {
          const part: Record<string, unknown> = {};
          pos = readFields(PART_LAYOUT, p, dv, pos, part)!;
          parts.push(part);
        }
        obj[key] = parts;
        break;
      }
    }
  }
  return pos;
}

/**
 * Typed message of a frame whose CRC checked, or null when the payload is malformed for its type
 * (shorter than required, wrong HELLO magic, more than MAX_PARTS partitions) or the type is an
 * unknown request type. A reply type (>= 0x80) that is unknown, or too short for its layout but
 * holding a status byte, decodes as `{ type: 'REPLY', code, status }` (SPEC §4.9).
 */
export function decodeMessage(f: Frame): Message | null {
  const p = f.payload;
  const name = NAMES.get(f.type);
  if (name !== undefined && p.length >= MIN_PAYLOAD[name]!) {
    const obj: Record<string, unknown> = { type: name };
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    if (readFields(LAYOUTS[name], p, dv, 0, obj) !== null) return obj as unknown as Message;
    return null;
  }
  if ((f.type & REPLY_BIT) !== 0 && p.length >= 1) return { type: 'REPLY', code: f.type, status: p[0]! };
  return null;
}
