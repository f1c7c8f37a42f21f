/**
 * Reference encoders for the vector generator, written from protocol/SPEC.md and deliberately NOT
 * importing src/protocol: the vectors test checks our codec against these files, so the files must
 * come from a second, independent reading of the SPEC (CRC from the `crc` package, COBS and the
 * message layouts written out again here in the plainest form).
 */
import crcPkg from 'crc/crc32';

/** CRC-32/ISO-HDLC via the `crc` package (byte-at-a-time, an implementation independent of ours). */
export function crc(bytes: Uint8Array): number {
  return bytes.length === 0 ? 0 : (crcPkg as unknown as (b: Uint8Array) => number)(bytes) >>> 0;
}

/**
 * Canonical COBS (SPEC §2.2): split the body at its zeros; every piece becomes blocks of at most
 * 254 data bytes, a full block (code 0xFF) carries no zero; the last piece ends without the extra
 * empty block when it ended with a full block.
 */
export function cobs(body: Uint8Array): Uint8Array {
  const out: number[] = [];
  const pieces: number[][] = [[]];
  for (const b of body) {
    if (b === 0) pieces.push([]);
    else pieces[pieces.length - 1]!.push(b);
  }
  pieces.forEach((piece, idx) => {
    const last = idx === pieces.length - 1;
    let rest = piece;
    let fullBlocks = 0;
    while (rest.length >= 254) {
      out.push(0xff, ...rest.slice(0, 254));
      rest = rest.slice(254);
      fullBlocks++;
    }
    if (last && fullBlocks > 0 && rest.length === 0) return;
    out.push(rest.length + 1, ...rest);
  });
  return Uint8Array.from(out);
}

export const cat = (...parts: (Uint8Array | number[])[]): Uint8Array => {
  const all: number[] = [];
  for (const p of parts) all.push(...p);
  return Uint8Array.from(all);
};

export const le = (v: number, n: 1 | 2 | 4): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  return out;
};

/** Frame body `ver type payload crc32le` (SPEC §2.1). */
export function body(type: number, payload: Uint8Array, ver = 1): Uint8Array {
  const head = cat([ver, type], payload);
  return cat(head, le(crc(head), 4));
}

/** Wire bytes `00 COBS(body) 00` (SPEC §2.2). */
export const wire = (b: Uint8Array): Uint8Array => cat([0], cobs(b), [0]);

export const hex = (b: Uint8Array | number[]): string => (b.length === 0 ? '-' : Buffer.from(b).toString('hex'));
export const unhex = (s: string): Uint8Array => (s === '-' ? new Uint8Array(0) : new Uint8Array(Buffer.from(s, 'hex')));
export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Deterministic xorshift32 byte source, so regenerating the vectors gives the same bytes. */
export function prng(seed: number): (n: number, opts?: { noZero?: boolean }) => Uint8Array {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return (n, opts = {}) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let b = next() & 0xff;
      while (opts.noZero && b === 0) b = next() & 0xff;
      out[i] = b;
    }
    return out;
  };
}

/** COBS_MAX of SPEC §2.2: the most encoded bytes a body of n bytes can need (plus one spare). */
export const cobsMax = (n: number): number => n + Math.ceil(n / 254) + 1;

/** Decoding of one run of non-zero bytes (SPEC §2.2): the body, or null when it is not valid COBS. */
export function uncobs(run: Uint8Array): Uint8Array | null {
  const out: number[] = [];
  let i = 0;
  if (run.length === 0) return null;
  while (i < run.length) {
    const code = run[i++]!;
    if (code === 0 || i + code - 1 > run.length) return null;
    for (let k = 1; k < code; k++) {
      if (run[i] === 0) return null;
      out.push(run[i++]!);
    }
    if (code !== 0xff && i < run.length) out.push(0);
  }
  return Uint8Array.from(out);
}

export interface Counters {
  frames: number; noise_bytes: number; too_long: number; bad_cobs: number; too_short: number; bad_crc: number; bad_version: number; pending: number;
}
export const COUNTER_KEYS: (keyof Counters)[] = ['frames', 'noise_bytes', 'too_long', 'bad_cobs', 'too_short', 'bad_crc', 'bad_version', 'pending'];

/**
 * Reference receiver (SPEC §2.3, in its order of checks) for a whole input: the bodies delivered,
 * the good-CRC bodies of other versions (in stream order, tagged), and the counters.
 */
export function receive(input: Uint8Array, maxFrame: number): { out: { ver1: boolean; body: Uint8Array }[]; c: Counters } {
  const c: Counters = { frames: 0, noise_bytes: 0, too_long: 0, bad_cobs: 0, too_short: 0, bad_crc: 0, bad_version: 0, pending: 0 };
  const out: { ver1: boolean; body: Uint8Array }[] = [];
  const runs: number[][] = [[]];
  for (const b of input) {
    if (b === 0) runs.push([]);
    else runs[runs.length - 1]!.push(b);
  }
  c.pending = runs.pop()!.length;
  for (const r of runs) {
    if (r.length === 0) continue;
    const run = Uint8Array.from(r);
    const b = uncobs(run);
    let why: keyof Counters | null = null;
    if (run.length > cobsMax(maxFrame)) why = 'too_long';
    else if (b === null) why = 'bad_cobs';
    else if (b.length > maxFrame) why = 'too_long';
    else if (b.length < 6) why = 'too_short';
    else if (crc(b.subarray(0, b.length - 4)) !== (b[b.length - 4]! | (b[b.length - 3]! << 8) | (b[b.length - 2]! << 16) | (b[b.length - 1]! << 24)) >>> 0) why = 'bad_crc';
    else if (b[0] !== 1) { why = 'bad_version'; out.push({ ver1: false, body: b }); }
    else { c.frames++; out.push({ ver1: true, body: b }); }
    if (why) { c[why]++; c.noise_bytes += run.length; }
  }
  return { out, c };
}
