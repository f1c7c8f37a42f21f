/**
 * Streaming decryption with the device's semantics (esp-formats.md §1.4):
 * - magic checked as soon as 4 bytes arrived, key unwrapped as soon as the key block (byte 388) is in;
 * - plaintext released in multiples of 16 bytes (up to 15 held back); the push that completes
 *   bin_size releases the rest, as the device's final `decrypt_data` call does;
 * - `finish()` checks the GCM tag. Nothing released before `finish()` returned is authenticated.
 * Any chunking of the same input yields the same bytes and the same error.
 */
import { createDecipheriv, type DecipherGCM } from 'node:crypto';
import { OtaError } from '../errors.js';
import {
  AUTH_TAG_OFFSET,
  checkEncryptedFileSize,
  ENC_HEADER_SIZE,
  hasEncryptedMagic,
  KEY_BLOCK_OFFSET,
  KEY_BLOCK_SIZE,
  parseEncryptedHeader,
  type EncryptedHeader,
} from './encrypted-header.js';
import type { DecryptionKey } from './keys.js';
import { unwrapAesKey } from './unwrap.js';

const EMPTY = Buffer.alloc(0);
const KEY_BLOCK_END = KEY_BLOCK_OFFSET + KEY_BLOCK_SIZE;

export class StreamingDecryptor {
  private readonly key: DecryptionKey;
  private readonly headerBuf = Buffer.alloc(ENC_HEADER_SIZE);
  private headerLen = 0;
  private aesKey: Buffer | undefined;
  private hdr: EncryptedHeader | undefined;
  private decipher: DecipherGCM | undefined;
  private dataLen = 0;
  /** Plaintext held back so that releases stay multiples of 16 bytes. */
  private readonly pending = Buffer.alloc(16);
  private pendingLen = 0;
  private failed: OtaError | undefined;
  private finished = false;

  constructor(key: DecryptionKey) {
    this.key = key;
  }

  /** The parsed header once 512 bytes were pushed. */
  get header(): EncryptedHeader | undefined {
    return this.hdr;
  }

  /** Bytes accepted so far, header included. */
  get consumed(): number {
    return this.headerLen + this.dataLen;
  }

  /** True once exactly 512 + bin_size bytes were pushed. */
  get complete(): boolean {
    return this.hdr !== undefined && this.dataLen === this.hdr.binSize;
  }

  push(chunk: Uint8Array): Buffer {
    this.ensureUsable();
    try {
      return this.pushInner(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** Verifies the tag; returns plaintext still held back (empty when the last push completed the image). */
  finish(): Buffer {
    this.ensureUsable();
    this.finished = true;
    try {
      if (!this.hdr || !this.decipher || this.dataLen < this.hdr.binSize) {
        const expected = this.hdr ? ENC_HEADER_SIZE + this.hdr.binSize : ENC_HEADER_SIZE;
        throw new OtaError('IMAGE_TRUNCATED', `encrypted image is incomplete: got ${this.consumed} of ${expected} bytes`, {
          details: { check: 'length', expected, actual: this.consumed },
        });
      }
      const rest = this.takePending();
      this.decipher.setAuthTag(this.hdr.authTag);
      try {
        this.decipher.final();
      } catch (e) {
        // ECIES cannot tell a wrong device key before the tag (any key yields some AES key); RSA can.
        const why = this.key.scheme === 'ecies' ? 'image corrupted or modified, or not made for this device key' : 'image corrupted or modified';
        throw new OtaError('AUTH_FAILED', `authentication failed: GCM tag mismatch (${why})`, {
          cause: e,
          details: { check: 'auth_tag', offset: AUTH_TAG_OFFSET },
        });
      }
      return rest;
    } catch (e) {
      throw this.fail(e);
    } finally {
      this.wipe();
    }
  }

  private pushInner(chunk: Buffer): Buffer {
    let off = 0;
    if (this.headerLen < ENC_HEADER_SIZE) {
      const n = Math.min(chunk.length, ENC_HEADER_SIZE - this.headerLen);
      const before = this.headerLen;
      chunk.copy(this.headerBuf, before, 0, n);
      this.headerLen += n;
      off = n;
      if (before < 4 && this.headerLen >= 4 && !hasEncryptedMagic(this.headerBuf)) {
        parseEncryptedHeader(this.headerBuf); // throws NOT_ENCRYPTED_IMAGE naming the magic
      }
      if (before < KEY_BLOCK_END && this.headerLen >= KEY_BLOCK_END) {
        this.aesKey = unwrapAesKey({ keyBlock: this.headerBuf.subarray(KEY_BLOCK_OFFSET, KEY_BLOCK_END) }, this.key);
      }
      if (this.headerLen < ENC_HEADER_SIZE) return EMPTY;
      this.hdr = parseEncryptedHeader(this.headerBuf);
      this.decipher = createDecipheriv('aes-256-gcm', this.aesKey!, this.hdr.iv, { authTagLength: 16 });
      this.aesKey!.fill(0); // the decipher holds its own copy; keep ours no longer than needed
    }
    const hdr = this.hdr!;
    const data = chunk.subarray(off);
    if (data.length === 0) return EMPTY;
    if (this.dataLen + data.length > hdr.binSize) {
      checkEncryptedFileSize(ENC_HEADER_SIZE + this.dataLen + data.length, hdr); // throws: extra bytes
    }
    this.dataLen += data.length;
    const plain = this.decipher!.update(data);
    if (this.dataLen === hdr.binSize) return this.joinPending(plain, this.pendingLen + plain.length);
    return this.joinPending(plain, (this.pendingLen + plain.length) & ~15);
  }

  /** Returns `release` bytes of pending||plain and keeps the remainder pending. */
  private joinPending(plain: Buffer, release: number): Buffer {
    if (release === 0) {
      plain.copy(this.pending, this.pendingLen);
      this.pendingLen += plain.length;
      return EMPTY;
    }
    let out: Buffer;
    const fromPlain = release - this.pendingLen;
    if (this.pendingLen === 0) {
      out = plain.subarray(0, release); // no copy on the common large-chunk path
    } else {
      out = Buffer.allocUnsafe(release);
      this.pending.copy(out, 0, 0, this.pendingLen);
      plain.copy(out, this.pendingLen, 0, fromPlain);
    }
    this.pendingLen = plain.copy(this.pending, 0, fromPlain);
    return out;
  }

  private takePending(): Buffer {
    const rest = Buffer.from(this.pending.subarray(0, this.pendingLen));
    this.pendingLen = 0;
    return rest;
  }

  private ensureUsable(): void {
    if (this.failed) throw this.failed;
    if (this.finished) throw new TypeError('StreamingDecryptor: finish() was already called');
  }

  private fail(e: unknown): OtaError {
    const err =
      e instanceof OtaError ? e : new OtaError('INTERNAL', `decryption failed: ${(e as Error).message}`, { cause: e });
    this.failed = err;
    this.wipe();
    return err;
  }

  private wipe(): void {
    this.aesKey?.fill(0);
    this.pending.fill(0);
  }
}

/** One-shot decryption of a whole file; returns plaintext only if the length and tag check out. */
export function decryptImage(file: Uint8Array, key: DecryptionKey): Buffer {
  const header = parseEncryptedHeader(file);
  checkEncryptedFileSize(file.length, header);
  const d = new StreamingDecryptor(key);
  const body = d.push(file);
  const rest = d.finish();
  return rest.length === 0 ? body : Buffer.concat([body, rest]);
}
