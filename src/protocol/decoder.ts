/**
 * FrameDecoder: the receiving half of SPEC §2, a pure incremental function on bytes.
 * Depends on cobs.ts, crc32.ts, constants.ts. No I/O, timers or logging.
 *
 * One recovery path: every candidate (the bytes between two 0x00 delimiters) either yields a frame
 * or is dropped and counted, and the decoder simply continues with the bytes after the delimiter.
 * Nothing inside a candidate (type, length, offset) is looked at before its CRC has checked.
 * Memory is bounded: one preallocated buffer of COBS_MAX(maxFrame) bytes; an over-long run is
 * discarded up to the next 0x00 instead of growing a buffer (the flaw of a plain DelimiterParser).
 */
import { cobsDecodeInto, cobsMaxEncodedLength, freshBytes } from './cobs.js';
import { MAX_FRAME_ABS, MIN_FRAME_BODY, PROTO_VERSION } from './constants.js';
import { crc32 } from './crc32.js';
import type { Frame } from './frame.js';

/**
 * Drop counters (SPEC §2.3). Each dropped candidate increments exactly one of tooLong, badCobs,
 * tooShort, badCrc, badVersion; empty candidates (two delimiters in a row) are not counted.
 */
export interface DecoderCounters {
  /** Frames delivered (good CRC, accepted version). */
  frames: number;
  /**
   * Non-delimiter bytes that did not end up in a delivered frame: every byte of every dropped
   * candidate, whatever the reason, including the discarded rest of an over-long run. A boot log
   * printed on the UART therefore shows up here byte for byte. Invariant:
   * bytes pushed = 0x00 delimiters + encoded bytes of delivered frames + noiseBytes + pendingBytes.
   */
  noiseBytes: number;
  /** Runs longer than COBS_MAX(maxFrame) before a delimiter, or decoding to more than maxFrame bytes (once per run). */
  tooLong: number;
  /** Candidates that are not valid COBS. */
  badCobs: number;
  /** Decoded bodies shorter than 6 bytes. */
  tooShort: number;
  /** CRC mismatches. */
  badCrc: number;
  /** Good CRC, but a `ver` this decoder does not accept. */
  badVersion: number;
}

export interface FrameDecoderOptions {
  /** Largest frame body (ver..crc) accepted, in bytes. Default and maximum MAX_FRAME_ABS. */
  maxFrame?: number;
  /**
   * Frame versions delivered; others are dropped as badVersion. Default [PROTO_VERSION]. A device
   * that must answer unknown versions with HELLO_ACK (SPEC §2.4) passes 'any' and checks `ver`.
   */
  versions?: readonly number[] | 'any';
}

export function newDecoderCounters(): DecoderCounters {
  return { frames: 0, noiseBytes: 0, tooLong: 0, badCobs: 0, tooShort: 0, badCrc: 0, badVersion: 0 };
}

export class FrameDecoder {
  readonly counters: DecoderCounters = newDecoderCounters();
  readonly maxFrame: number;
  private readonly accept: Uint8Array = new Uint8Array(256);
  /** Holds the pending candidate; also the scratch area every candidate is decoded into. */
  private readonly buf: Uint8Array;
  private len = 0;
  /** True after an over-long run was dropped: ignore bytes until the next delimiter. */
  private discarding = false;

  constructor(opts: FrameDecoderOptions = {}) {
    const maxFrame = opts.maxFrame ?? MAX_FRAME_ABS;
    if (!Number.isInteger(maxFrame) || maxFrame < MIN_FRAME_BODY || maxFrame > MAX_FRAME_ABS) {
      throw new TypeError(`"maxFrame" must be an integer in [${MIN_FRAME_BODY}, ${MAX_FRAME_ABS}]`);
    }
    this.maxFrame = maxFrame;
    this.buf = new Uint8Array(cobsMaxEncodedLength(maxFrame));
    const versions = opts.versions ?? [PROTO_VERSION];
    if (versions === 'any') this.accept.fill(1);
    else for (const v of versions) this.accept[v & 0xff] = 1;
  }

  /** Bytes of an unfinished candidate currently held (waiting for its delimiter). */
  get pendingBytes(): number {
    return this.len;
  }

  /**
   * Feeds received bytes; returns the frames completed by them, in order (often none). Never
   * throws on any input. O(bytes.length): runs between delimiters are copied in bulk.
   */
  push(bytes: Uint8Array): Frame[] {
    const out: Frame[] = [];
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      const z = bytes.indexOf(0, i);
      const runEnd = z < 0 ? n : z;
      if (z >= 0 && this.len === 0 && !this.discarding) {
        // Whole candidate inside this chunk: decode straight from the input, no staging copy.
        if (z - i > this.buf.length) this.dropLong(z - i);
        else if (z > i) this.candidate(bytes, i, z, out);
      } else {
        if (runEnd > i) this.append(bytes, i, runEnd);
        if (z >= 0) this.endOfRun(out);
      }
      if (z < 0) break;
      i = z + 1;
    }
    return out;
  }

  /**
   * Drops any unfinished candidate (its bytes count as noiseBytes), e.g. after a baud change.
   * Counters are kept: they describe the whole life of the link.
   */
  reset(): void {
    this.counters.noiseBytes += this.len;
    this.len = 0;
    this.discarding = false;
  }

  private append(src: Uint8Array, s: number, e: number): void {
    const count = e - s;
    if (this.discarding) {
      this.counters.noiseBytes += count;
    } else if (this.len + count > this.buf.length) {
      this.dropLong(this.len + count);
      this.len = 0;
      this.discarding = true;
    } else {
      this.buf.set(src.subarray(s, e), this.len);
      this.len += count;
    }
  }

  private endOfRun(out: Frame[]): void {
    if (this.discarding) this.discarding = false;
    else if (this.len > 0) this.candidate(this.buf, 0, this.len, out);
    this.len = 0;
  }

  private dropLong(bytes: number): void {
    this.counters.tooLong++;
    this.counters.noiseBytes += bytes;
  }

  /** Decodes and checks one non-empty candidate src[s, e) (no 0x00 inside). */
  private candidate(src: Uint8Array, s: number, e: number, out: Frame[]): void {
    const c = this.counters;
    const body = this.buf;
    // In place when src is buf (COBS decoding never overtakes its read position).
    const n = cobsDecodeInto(src, s, e, body);
    if (n < 0) {
      c.badCobs++;
    } else if (n < MIN_FRAME_BODY) {
      c.tooShort++;
    } else if (n > this.maxFrame) {
      c.tooLong++;
    } else {
      const got = (body[n - 4]! | (body[n - 3]! << 8) | (body[n - 2]! << 16) | (body[n - 1]! << 24)) >>> 0;
      if (crc32(body.subarray(0, n - 4)) !== got) {
        c.badCrc++;
      } else if (this.accept[body[0]!] !== 1) {
        c.badVersion++;
      } else {
        c.frames++;
        const payload = freshBytes(n - 6);
        payload.set(body.subarray(2, n - 4));
        out.push({ ver: body[0]!, type: body[1]!, payload });
        return;
      }
    }
    c.noiseBytes += e - s;
  }
}
