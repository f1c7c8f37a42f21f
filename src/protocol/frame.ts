/**
 * Frame encoding (SPEC §2.1, §2.2): `wire = 00 COBS(ver type payload crc32le) 00`.
 * Depends on cobs.ts and crc32.ts; pure. The matching receiver is decoder.ts.
 */
import { cobsEncodeInto, cobsMaxEncodedLength, freshBytes } from './cobs.js';
import { MAX_FRAME_ABS, PROTO_VERSION } from './constants.js';
import { crc32 } from './crc32.js';

/** A frame whose CRC checked. `payload` is owned by the frame (never a view of a reused buffer). */
export interface Frame {
  ver: number;
  type: number;
  payload: Uint8Array;
}

/**
 * Wire bytes of one frame, built from payload pieces that are concatenated (so a DATA frame's
 * offset and file chunk need not be copied into one payload first). The result is a view on an
 * array sized for the worst case; it starts and ends with 0x00. Throws TypeError when the body
 * would exceed MAX_FRAME_ABS.
 */
export function encodeFrameParts(type: number, parts: readonly Uint8Array[], ver = PROTO_VERSION): Uint8Array {
  const head = Uint8Array.of(ver & 0xff, type & 0xff);
  let c = crc32(head);
  let n = 2 + 4;
  for (const p of parts) {
    c = crc32(p, c);
    n += p.length;
  }
  // No receiver accepts a longer body (SPEC §2.1): refuse here instead of sending a frame that
  // every device drops as too_long and the host then retries forever.
  if (n > MAX_FRAME_ABS) throw new TypeError(`frame body of ${n} bytes exceeds MAX_FRAME_ABS (${MAX_FRAME_ABS})`);
  const tail = Uint8Array.of(c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24);
  const out = freshBytes(cobsMaxEncodedLength(n) + 2); // every byte up to `end` is written below
  out[0] = 0;
  const end = cobsEncodeInto([head, ...parts, tail], out, 1);
  out[end] = 0;
  return out.subarray(0, end + 1);
}

/**
 * Wire bytes `00 COBS(body) 00` of a frame with this type and payload. `ver` defaults to the
 * version this host speaks; tests pass others to build wrong-version frames. Pure.
 */
export function encodeFrame(type: number, payload: Uint8Array, ver = PROTO_VERSION): Uint8Array {
  return encodeFrameParts(type, [payload], ver);
}

/** The unstuffed body `ver type payload crc32le` of a frame (for vectors and tests). */
export function frameBody(type: number, payload: Uint8Array, ver = PROTO_VERSION): Uint8Array {
  const body = new Uint8Array(payload.length + 6);
  body[0] = ver & 0xff;
  body[1] = type & 0xff;
  body.set(payload, 2);
  const c = crc32(body.subarray(0, payload.length + 2));
  new DataView(body.buffer).setUint32(payload.length + 2, c, true);
  return body;
}
