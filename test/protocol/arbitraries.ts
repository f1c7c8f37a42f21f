/** fast-check generators for protocol tests: random valid messages of every type. */
import fc from 'fast-check';
import { IMAGE_HEADER_SIZE, MAX_PARTS, type Message, type PartInfo } from '../../src/protocol/index.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
/**
 * Strings that survive a char[n] field: no NUL, at most n UTF-8 bytes. Shortened by whole code
 * points: cutting UTF-16 code units could split a surrogate pair, leaving a string with no UTF-8
 * form (that was the round-trip counterexample: encodeChars now refuses such strings).
 */
const chars = (n: number) =>
  fc.string({ unit: 'grapheme', maxLength: n }).map((s) => {
    const cps = [...s.replace(/\0/g, '')];
    while (new TextEncoder().encode(cps.join('')).length > n) cps.pop();
    return cps.join('');
  });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

const part: fc.Arbitrary<PartInfo> = fc.record({
  subtype: u8, state: u8, valid: fc.boolean(), offset: u32, size: u32, secureVersion: u32, version: chars(32),
});

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('HELLO' as const), hostProto: u8, flags: u8 }),
  fc.record({
    type: fc.constant('HELLO_ACK' as const), status: u8, proto: u8, maxFrame: u16, window: u32, maxBaud: u32,
    chipId: u16, chipRev: u16, flags: u8, efuseSecureVersion: u32, running: u8, boot: u8, target: u8,
    runVersion: chars(32), runProject: chars(32), runSecureVersion: u32, resumeId: bytes(32),
    resumeOffset: u32, resumeTotal: u32, parts: fc.array(part, { maxLength: MAX_PARTS }),
  }),
  fc.record({ type: fc.constant('BAUD' as const), baud: u32 }),
  fc.record({ type: fc.constant('BAUD_ACK' as const), status: u8, baud: u32 }),
  fc.record({ type: fc.constant('BEGIN' as const), flags: u8, chunk: u16, total: u32, header: bytes(IMAGE_HEADER_SIZE) }),
  fc.record({ type: fc.constant('BEGIN_ACK' as const), status: u8, nextOffset: u32, creditEnd: u32, target: u8, detail: u32 }),
  fc.record({ type: fc.constant('DATA' as const), offset: u32, data: fc.uint8Array({ maxLength: 4096 }) }),
  fc.record({ type: fc.constant('ACK' as const), status: u8, nextOffset: u32, creditEnd: u32, sack: u32, busyMs: u16 }),
  fc.record({ type: fc.constant('END' as const), flags: u8 }),
  fc.record({ type: fc.constant('RESULT' as const), status: u8, boot: u8, secureVersion: u32, version: chars(32), detail: u32 }),
  fc.constant({ type: 'ABORT' as const }),
  fc.record({ type: fc.constant('ABORT_ACK' as const), status: u8 }),
  fc.constant({ type: 'CONFIRM' as const }),
  fc.record({ type: fc.constant('CONFIRM_ACK' as const), status: u8, boot: u8 }),
  fc.constant({ type: 'ROLLBACK' as const }),
  fc.record({ type: fc.constant('ROLLBACK_ACK' as const), status: u8, boot: u8 }),
  fc.record({ type: fc.constant('PING' as const), nonce: u32 }),
  fc.record({ type: fc.constant('PONG' as const), status: u8, nonce: u32 }),
  fc.constant({ type: 'REBOOT' as const }),
  fc.record({ type: fc.constant('REBOOT_ACK' as const), status: u8 }),
  // Reply codes the protocol does not define (0x8B..0xFF) keep REPLY unambiguous.
  fc.record({ type: fc.constant('REPLY' as const), code: fc.integer({ min: 0x8b, max: 0xff }), status: u8 }),
);

/** Random frames as (type, payload) pairs, payload up to `max` bytes. */
export const rawFrameArb = (max = 300) => fc.record({ type: u8, payload: fc.uint8Array({ maxLength: max }) });

export const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
