/**
 * One update session in the device's RAM (SPEC §4.4-§4.6): the image it is for, the decryptor,
 * where the host is on the slot grid, what arrived out of order, the credit granted, plaintext not
 * yet written, and the early app checks. The device drives it (sim-device.ts, data-phase.ts); this
 * module only keeps the books, so every rule of §4.5 is in one place.
 */
import { createHash, type Hash } from 'node:crypto';
import type { AppInfo, EncryptedHeader } from '../image/index.js';
import { APP_PREFIX_SIZE } from '../image/index.js';
import { creditChunks, MAX_SACK_CHUNKS } from '../protocol/index.js';
import { checkAppPrefix, type EarlyCheckContext, type EarlyCheckResult } from './early-checks.js';
import type { GcmStream } from './gcm-stream.js';
import type { Partition } from './partition-table.js';
import type { SlotWriter } from './slot-writer.js';

/** A DATA frame as a whole (§4.5 rules 1-3): old news, refused, or chunks to take one by one. */
export type FrameVerdict = 'duplicate' | 'bad' | 'chunks';
/** One chunk of an accepted frame (rules 4-6). */
export type ChunkVerdict = 'consume' | 'store' | 'duplicate';

export interface OtaSessionInit {
  imageId: Buffer;
  header: EncryptedHeader;
  total: number;
  chunk: number;
  next: number;
  target: number;
  part: Partition;
  /** Absent for a new session until its key is unwrapped (after BEGIN_ACK, SPEC §4.4 step 5). */
  gcm?: GcmStream;
  writer: SlotWriter;
  allowDowngrade: boolean;
  /** Plaintext already decrypted before `next` (up to 288 bytes), for the early checks. */
  prefix?: Uint8Array;
  /**
   * The header's 512 bytes, for a session that starts at 512: the file digest (SPEC §4.2 bit6)
   * then runs over every byte. Absent for a session resumed from the durable record.
   */
  rawHeader?: Uint8Array;
}

export class OtaSession {
  readonly imageId: Buffer;
  readonly header: EncryptedHeader;
  readonly total: number;
  readonly target: number;
  readonly part: Partition;
  readonly writer: SlotWriter;
  allowDowngrade: boolean;
  chunk: number;
  /** Origin of the slot grid: DATA offsets are start + k * chunk. */
  start: number;
  /** Cumulative acknowledgement: every byte before it was decrypted. */
  next: number;
  creditEnd: number;
  /** Non-IRAM devices: where the next flash work happens (credit never goes beyond it). */
  flashPoint: number;
  /** The app passed the early checks (set once 288 plaintext bytes exist). */
  app: AppInfo | undefined;
  /** Plaintext bytes the durable record last claimed for this session (SPEC §7). */
  recorded: number;
  private prefix: Buffer;
  private decryptor: GcmStream | undefined;
  private readonly fileHash: Hash | undefined;
  private readonly held = new Map<number, Uint8Array>();
  private pending: Uint8Array[] = [];
  private pendingLen = 0;

  constructor(i: OtaSessionInit) {
    this.imageId = i.imageId;
    this.header = i.header;
    this.total = i.total;
    this.chunk = i.chunk;
    this.start = i.next;
    this.next = i.next;
    this.creditEnd = i.next;
    this.flashPoint = i.next;
    this.target = i.target;
    this.part = i.part;
    this.decryptor = i.gcm;
    this.writer = i.writer;
    this.recorded = i.writer.written;
    this.allowDowngrade = i.allowDowngrade;
    this.prefix = Buffer.from(i.prefix ?? new Uint8Array(0));
    this.fileHash = i.rawHeader && createHash('sha256').update(i.rawHeader);
  }

  /** SHA-256 of the whole file (SPEC §4.2 bit6), once every byte went through; undefined after a resume from flash. */
  fileDigest(): Buffer | undefined {
    return this.next === this.total ? this.fileHash?.digest() : undefined;
  }

  /** The AES-GCM state; DATA is only consumed once the key is unwrapped, so it exists by then. */
  get gcm(): GcmStream {
    if (!this.decryptor) throw new Error('session used before its key was unwrapped');
    return this.decryptor;
  }

  /** The key of a new session, unwrapped after its BEGIN_ACK. */
  keyed(gcm: GcmStream): void {
    this.decryptor = gcm;
  }

  /** A new BEGIN for this session (resume): new grid from `next`, out-of-order chunks forgotten. */
  restart(chunk: number, allowDowngrade: boolean): void {
    this.chunk = chunk;
    this.start = this.next;
    this.creditEnd = this.next;
    this.flashPoint = this.next;
    this.allowDowngrade = allowDowngrade;
    this.held.clear();
  }

  /**
   * How a DATA(offset, n bytes) frame is treated as a whole (SPEC §4.5 rules 1-3). With
   * `multiChunk` (HELLO_ACK bit5) it may carry m >= 1 chunks: n = min(m * chunk, total - offset).
   */
  classify(offset: number, n: number, multiChunk: boolean): FrameVerdict {
    // Below next_offset first: after a resume the grid moved, and old frames still arrive.
    if (offset < this.next) return 'duplicate';
    if ((offset - this.start) % this.chunk !== 0) return 'bad';
    if (offset >= this.total || n === 0 || offset + n > this.total || offset + n > this.creditEnd) return 'bad';
    const ok = multiChunk
      ? n % this.chunk === 0 || offset + n === this.total
      : n === Math.min(this.chunk, this.total - offset);
    return ok ? 'chunks' : 'bad';
  }

  /** One chunk of an accepted frame (rules 4-6): it may have been consumed by the run its predecessor completed. */
  chunkVerdict(offset: number): ChunkVerdict {
    if (offset < this.next || this.held.has(offset)) return 'duplicate';
    return offset === this.next ? 'consume' : 'store';
  }

  store(offset: number, data: Uint8Array): void {
    this.held.set(offset, data.slice());
  }

  /** True if no chunk is held in [from, to). */
  noneHeldIn(from: number, to: number): boolean {
    if (this.held.size === 0) return true;
    for (let o = from; o < to; o += this.chunk) if (this.held.has(o)) return false;
    return true;
  }

  /** The chunk held out of order at `next`, if any (removed). */
  takeHeldAtNext(): Uint8Array | undefined {
    const d = this.held.get(this.next);
    if (d) this.held.delete(this.next);
    return d;
  }

  /**
   * Decrypts the chunk at `next` and keeps the plaintext for writing. Runs the early checks when
   * the 288-byte prefix completes (or the image ends first); a failure is returned, not thrown.
   */
  /** `ctx` is asked for only while the early checks are still to run (the first 288 bytes). */
  consume(data: Uint8Array, ctx: () => EarlyCheckContext): EarlyCheckResult | undefined {
    const plain = this.gcm.decrypt(data);
    this.fileHash?.update(data);
    this.next += data.length;
    this.pending.push(plain);
    this.pendingLen += plain.length;
    if (this.app) return undefined;
    if (this.prefix.length < APP_PREFIX_SIZE) {
      this.prefix = Buffer.concat([this.prefix, plain.subarray(0, APP_PREFIX_SIZE - this.prefix.length)]);
    }
    if (this.prefix.length < APP_PREFIX_SIZE && this.next < this.total) return undefined;
    return this.check(ctx());
  }

  /** Runs (or re-runs, on resume) the early checks if the prefix is complete. */
  check(ctx: EarlyCheckContext): EarlyCheckResult | undefined {
    if (this.prefix.length < APP_PREFIX_SIZE && this.next < this.total) return undefined;
    const r = checkAppPrefix(this.prefix, { ...ctx, allowDowngrade: this.allowDowngrade });
    if (r.ok) this.app = r.app;
    return r;
  }

  get pendingBytes(): number {
    return this.pendingLen;
  }

  /** Plaintext decrypted but not yet written (cleared). */
  takePending(): Uint8Array {
    const out = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingLen = 0;
    return out;
  }

  /** ACK.sack: bit i set = chunk at next + (i + 1) * chunk is held. */
  sack(): number {
    let s = 0;
    for (let i = 0; i < MAX_SACK_CHUNKS; i++) if (this.held.has(this.next + (i + 1) * this.chunk)) s |= 1 << i;
    return s >>> 0;
  }

  /** Chunks of credit the device grants beyond next_offset: min(window, 64 chunks), at least one. */
  windowChunks(window: number): number {
    return creditChunks(window, this.chunk);
  }

  /**
   * Grants credit (never less than before). IRAM-safe UART: a full window beyond next_offset.
   * Otherwise only up to the next flash point, and a new flash point only once the previous batch
   * has been written (pendingBytes is 0), so no granted byte can arrive during flash work.
   */
  grant(window: number, iramUart: boolean): void {
    const span = this.windowChunks(window) * this.chunk;
    if (iramUart) {
      this.creditEnd = Math.max(this.creditEnd, Math.min(this.total, this.next + span));
      return;
    }
    if (this.next >= this.flashPoint && this.pendingLen === 0) this.flashPoint = Math.min(this.total, this.next + span);
    this.creditEnd = Math.max(this.creditEnd, this.flashPoint);
  }
}
