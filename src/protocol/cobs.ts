/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker 1999), SPEC §2.2. No dependencies (Node's Buffer pool only).
 *
 * The encoder is the canonical one (as in the paper and Wikipedia): a block that ends with 254
 * non-zero bytes exactly at the end of the input gets no trailing `01` code byte. The decoder also
 * accepts that trailing `01` (some C encoders emit it); it decodes to the same bytes, and the CRC,
 * not the stuffing, is what guards the content.
 */

/**
 * Upper bound of the encoded length of `n` body bytes, as SPEC §2.2 states it:
 * `n + ceil(n / 254) + 1`. Receivers size their buffer with this (COBS_MAX); it is one byte looser
 * than the tight bound on purpose, so that every implementation computes the same number.
 */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / 254) + 1;
}

/**
 * Encodes the concatenation of `parts` into `out` starting at `pos`; returns the end position.
 * `out` must have room for cobsMaxEncodedLength(total length). Writing from parts lets DATA frames
 * be encoded straight from the caller's chunk without first assembling the body.
 *
 * Zero-free runs are found with indexOf and copied with set() (native memchr/memcpy): in firmware
 * data a zero comes about every few hundred bytes, and this runs over every byte a host sends.
 */
export function cobsEncodeInto(parts: readonly Uint8Array[], out: Uint8Array, pos: number): number {
  let remaining = 0;
  for (const p of parts) remaining += p.length;
  let codePos = pos;
  let o = pos + 1;
  let code = 1; // 1 + the data bytes in the current block
  for (const p of parts) {
    const n = p.length;
    let i = 0;
    while (i < n) {
      let z = p.indexOf(0, i);
      if (z < 0) z = n;
      while (i < z) {
        // Up to the end of the run or of the block (254 data bytes), whichever comes first.
        const take = Math.min(z - i, 0xff - code);
        if (take < 16) for (let k = 0; k < take; k++) out[o + k] = p[i + k]!;
        else out.set(p.subarray(i, i + take), o);
        o += take;
        i += take;
        code += take;
        remaining -= take;
        if (code === 0xff) {
          out[codePos] = code;
          code = 1;
          // A full block at the very end needs no further code byte (canonical COBS).
          if (remaining === 0) return o;
          codePos = o++;
        }
      }
      if (z < n) {
        // The zero ends the block: its code byte says where.
        remaining--;
        out[codePos] = code;
        codePos = o++;
        code = 1;
        i = z + 1;
      }
    }
  }
  out[codePos] = code;
  return o;
}

/**
 * `n` bytes of fresh, uninitialised memory (every byte must be written before it is read), as a
 * plain Uint8Array. Taken from Node's pool for small buffers: a `new Uint8Array(1040)` costs a
 * malloc and a finaliser, which was half the time of encoding a 1 KiB DATA frame.
 */
export function freshBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** COBS encoding of `body` (no delimiters). The result contains no 0x00 byte. */
export function cobsEncode(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(body.length));
  return out.slice(0, cobsEncodeInto([body], out, 0));
}

/**
 * Decodes `src[start, end)` into `dst` (which may be `src` itself with the same start: decoding
 * never writes ahead of where it reads). Returns the decoded length, or -1 when the input is not
 * valid COBS: empty, contains 0x00, or a code byte points past the end.
 */
export function cobsDecodeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, dstPos = 0): number {
  if (start >= end) return -1;
  let i = start;
  let o = dstPos;
  while (i < end) {
    const code = src[i++]!;
    if (code === 0) return -1;
    const blockEnd = i + code - 1;
    if (blockEnd > end) return -1;
    while (i < blockEnd) {
      const b = src[i++]!;
      if (b === 0) return -1;
      dst[o++] = b;
    }
    if (code !== 0xff && i < end) dst[o++] = 0;
  }
  return o - dstPos;
}

/** Decodes one COBS-encoded block (no delimiters); null when malformed (see cobsDecodeInto). */
export function cobsDecode(enc: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(enc.length);
  const n = cobsDecodeInto(enc, 0, enc.length, out);
  return n < 0 ? null : out.slice(0, n);
}
