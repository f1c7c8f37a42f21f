/**
 * The 512-byte header of an Espressif `esp_encrypted_img` file (esp-formats.md §1.2, §1.3).
 *
 * The header does not name its scheme: bytes 4..388 are an RSA-3072 ciphertext or an ECIES
 * ephemeral point + salt, and only the key decides which. Everything here is pure byte work.
 */
import { createHash } from 'node:crypto';
import { OtaError } from '../errors.js';

export const ENC_HEADER_SIZE = 512;
/** u32 little-endian at offset 0 (bytes cf b6 88 07), the same for both schemes. */
export const ENC_MAGIC = 0x0788b6cf;
export const KEY_BLOCK_OFFSET = 4;
export const KEY_BLOCK_SIZE = 384;
export const IV_OFFSET = 388;
export const IV_SIZE = 16;
export const BIN_SIZE_OFFSET = 404;
export const AUTH_TAG_OFFSET = 408;
export const AUTH_TAG_SIZE = 16;
/** ECIES layout inside the key block: raw X||Y of the ephemeral point, then the HKDF salt. */
export const ECIES_POINT_SIZE = 64;
export const ECIES_SALT_SIZE = 32;

export interface EncryptedHeader {
  /** The 512 header bytes (a copy, safe to keep). */
  raw: Buffer;
  /** Bytes 4..388: RSA-wrapped AES key, or ECIES point (64) + salt (32) + zeros. */
  keyBlock: Buffer;
  iv: Buffer;
  binSize: number;
  authTag: Buffer;
}

export interface BuildHeaderFields {
  keyBlock: Uint8Array;
  iv: Uint8Array;
  binSize: number;
  authTag: Uint8Array;
}

/** True if the first four bytes are the encrypted-image magic (needs only 4 bytes). */
export function hasEncryptedMagic(buf: Uint8Array): boolean {
  return buf.length >= 4 && Buffer.from(buf.buffer, buf.byteOffset, 4).readUInt32LE(0) === ENC_MAGIC;
}

export function parseEncryptedHeader(buf: Uint8Array): EncryptedHeader {
  if (buf.length >= 4 && !hasEncryptedMagic(buf)) {
    const got = Buffer.from(buf.subarray(0, 4)).toString('hex');
    throw new OtaError('NOT_ENCRYPTED_IMAGE', `not an encrypted image: magic is ${got}, expected cfb68807`, {
      details: { check: 'magic', offset: 0 },
    });
  }
  if (buf.length < 4) {
    throw new OtaError('NOT_ENCRYPTED_IMAGE', `not an encrypted image: only ${buf.length} bytes, no magic`, {
      details: { check: 'magic', offset: 0 },
    });
  }
  if (buf.length < ENC_HEADER_SIZE) {
    // The magic is right, so this is an encrypted image that ends inside its own header.
    throw new OtaError(
      'IMAGE_TRUNCATED',
      `encrypted image is truncated: ${buf.length} bytes, ends inside the ${ENC_HEADER_SIZE}-byte header`,
      { details: { check: 'length', expected: ENC_HEADER_SIZE, actual: buf.length } },
    );
  }
  const raw = Buffer.from(buf.subarray(0, ENC_HEADER_SIZE)); // copy: callers may reuse their buffer
  return {
    raw,
    keyBlock: raw.subarray(KEY_BLOCK_OFFSET, KEY_BLOCK_OFFSET + KEY_BLOCK_SIZE),
    iv: raw.subarray(IV_OFFSET, IV_OFFSET + IV_SIZE),
    binSize: raw.readUInt32LE(BIN_SIZE_OFFSET),
    authTag: raw.subarray(AUTH_TAG_OFFSET, AUTH_TAG_OFFSET + AUTH_TAG_SIZE),
  };
}

export function buildEncryptedHeader(f: BuildHeaderFields): Buffer {
  if (f.keyBlock.length !== KEY_BLOCK_SIZE) throw new TypeError(`"keyBlock" must be ${KEY_BLOCK_SIZE} bytes`);
  if (f.iv.length !== IV_SIZE) throw new TypeError(`"iv" must be ${IV_SIZE} bytes`);
  if (f.authTag.length !== AUTH_TAG_SIZE) throw new TypeError(`"authTag" must be ${AUTH_TAG_SIZE} bytes`);
  if (!Number.isInteger(f.binSize) || f.binSize < 0 || f.binSize > 0xffffffff) {
    throw new TypeError('"binSize" must be an integer in 0..0xFFFFFFFF');
  }
  const h = Buffer.alloc(ENC_HEADER_SIZE); // reserved bytes 424..512 stay zero, as the generator writes
  h.writeUInt32LE(ENC_MAGIC, 0);
  h.set(f.keyBlock, KEY_BLOCK_OFFSET);
  h.set(f.iv, IV_OFFSET);
  h.writeUInt32LE(f.binSize, BIN_SIZE_OFFSET);
  h.set(f.authTag, AUTH_TAG_OFFSET);
  return h;
}

/** SHA-256 of the 512 header bytes: identifies one encrypted image (fresh IV/key per encryption). */
export function imageId(header512: Uint8Array): Buffer {
  if (header512.length < ENC_HEADER_SIZE) throw new TypeError(`"header512" must be at least ${ENC_HEADER_SIZE} bytes`);
  return createHash('sha256').update(header512.subarray(0, ENC_HEADER_SIZE)).digest();
}

/** The file must be exactly 512 + bin_size bytes: the device treats extra bytes as ciphertext and fails. */
export function checkEncryptedFileSize(fileLen: number, header: EncryptedHeader): void {
  const expected = ENC_HEADER_SIZE + header.binSize;
  if (fileLen < expected) {
    throw new OtaError(
      'IMAGE_TRUNCATED',
      `encrypted image is truncated: ${fileLen} bytes, header says ${expected} (512 + bin_size ${header.binSize})`,
      { details: { check: 'length', expected, actual: fileLen } },
    );
  }
  if (fileLen > expected) {
    throw new OtaError(
      'NOT_ENCRYPTED_IMAGE',
      `encrypted image has ${fileLen - expected} extra bytes after 512 + bin_size (${expected}); the device would reject it`,
      { details: { check: 'length', expected, actual: fileLen } },
    );
  }
}

/**
 * Best guess of the scheme from the header alone. The ECIES layout leaves bytes 100..388 zero;
 * an RSA ciphertext there is effectively never all zero. Only a hint for `inspect`.
 */
export function guessScheme(header: EncryptedHeader): 'rsa' | 'ecies' {
  const tail = header.keyBlock.subarray(ECIES_POINT_SIZE + ECIES_SALT_SIZE);
  return tail.every((b) => b === 0) ? 'ecies' : 'rsa';
}
