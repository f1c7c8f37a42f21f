/**
 * Producing `esp_encrypted_img` files exactly as Espressif's generator does (esp-formats.md §1.5):
 * fresh AES-256 key and 16-byte IV per file, AES-256-GCM without AAD, the tag in the header.
 */
import { constants, createCipheriv, createECDH, hkdfSync, publicEncrypt, randomBytes } from 'node:crypto';
import { AES_KEY_SIZE, HKDF_INFO } from './unwrap.js';
import {
  buildEncryptedHeader,
  ECIES_POINT_SIZE,
  ECIES_SALT_SIZE,
  ENC_HEADER_SIZE,
  IV_SIZE,
  KEY_BLOCK_SIZE,
} from './encrypted-header.js';
import type { EncryptionKey } from './keys.js';

/** Plaintext slice per cipher.update() call (see encryptImage). */
const ENCRYPT_SLICE = 1024 * 1024;

export interface EncryptOptions {
  /** Source of randomness; tests may pass a deterministic one. Default: crypto.randomBytes. */
  random?: (n: number) => Buffer;
}

/** Device public point as 04||X||Y. */
function rawPublicPoint(key: EncryptionKey): Buffer {
  const jwk = key.publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new TypeError('EC public key without x/y');
  return Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

export function encryptImage(plain: Uint8Array, key: EncryptionKey, opts: EncryptOptions = {}): Buffer {
  if (plain.length > 0xffffffff) throw new TypeError('"plain" is larger than bin_size can express (4 GiB)');
  const random = opts.random ?? randomBytes;
  const keyBlock = Buffer.alloc(KEY_BLOCK_SIZE);
  let aesKey: Buffer;
  if (key.scheme === 'rsa') {
    aesKey = random(AES_KEY_SIZE);
    // OpenSSL draws the PKCS#1 v1.5 padding itself; the device accepts only RSAES-PKCS1-v1_5, not OAEP.
    keyBlock.set(publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_PADDING }, aesKey));
  } else {
    const eph = createECDH('prime256v1');
    eph.setPrivateKey(ephemeralScalar(random));
    const shared = eph.computeSecret(rawPublicPoint(key));
    const salt = random(ECIES_SALT_SIZE);
    aesKey = Buffer.from(hkdfSync('sha256', shared, salt, HKDF_INFO, AES_KEY_SIZE));
    keyBlock.set(eph.getPublicKey().subarray(1), 0); // X||Y without the 04 prefix
    keyBlock.set(salt, ECIES_POINT_SIZE);
  }
  const iv = random(IV_SIZE);
  const cipher = createCipheriv('aes-256-gcm', aesKey, iv, { authTagLength: 16 });
  const out = Buffer.allocUnsafe(ENC_HEADER_SIZE + plain.length);
  // update() cannot write into `out`, so encrypt in slices: a whole-input update() would allocate
  // a second full-size buffer, and touching fresh pages costs as much as AES-GCM itself
  // (scripts/bench-image.mjs: cold runs ~1.4x slower that way).
  let n = ENC_HEADER_SIZE;
  for (let off = 0; off < plain.length; off += ENCRYPT_SLICE) {
    n += cipher.update(plain.subarray(off, off + ENCRYPT_SLICE)).copy(out, n);
  }
  n += cipher.final().copy(out, n);
  aesKey.fill(0);
  const header = buildEncryptedHeader({ keyBlock, iv, binSize: plain.length, authTag: cipher.getAuthTag() });
  header.copy(out, 0);
  return out.subarray(0, n);
}

/** A valid P-256 scalar from the random source (retry on the ~2^-32 chance of an out-of-range value). */
function ephemeralScalar(random: (n: number) => Buffer): Buffer {
  for (;;) {
    const s = random(32);
    try {
      createECDH('prime256v1').setPrivateKey(s);
      return s;
    } catch {
      // out of range: draw again
    }
  }
}
