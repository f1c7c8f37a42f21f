/**
 * Recovering the AES-256 key from the header's key block (esp-formats.md §1.2, §1.3, §1.6).
 *
 * RSA: Node 20 refuses PKCS#1 v1.5 private decryption (Marvin mitigation), so we decrypt raw
 * (RSA_NO_PADDING) and check the padding ourselves without data-dependent branches. ECIES:
 * ECDH x-coordinate with the header's ephemeral point, then HKDF-SHA256. Any failure is the same
 * WRONG_KEY error so the caller cannot tell padding errors from wrong keys (and never crashes).
 */
import { constants, createECDH, hkdfSync, privateDecrypt } from 'node:crypto';
import { OtaError } from '../errors.js';
import { ECIES_POINT_SIZE, ECIES_SALT_SIZE, KEY_BLOCK_SIZE, type EncryptedHeader } from './encrypted-header.js';
import type { DecryptionKey } from './keys.js';

export const AES_KEY_SIZE = 32;
export const HKDF_INFO = Buffer.from('_esp_enc_img_ecc', 'ascii');

function wrongKey(cause?: unknown): OtaError {
  return new OtaError('WRONG_KEY', 'wrong key or corrupt header: the AES key could not be recovered', {
    cause,
    details: { check: 'key_unwrap', offset: 4 },
  });
}

/**
 * Strips EM = 00 02 PS(>=8 non-zero) 00 K(32). The wrapped key is always exactly 32 bytes, so the
 * separator must sit at a fixed index; we OR every mismatch into one flag instead of branching.
 */
export function unpadPkcs1v15Key(em: Uint8Array): Buffer | undefined {
  if (em.length !== KEY_BLOCK_SIZE) return undefined;
  const sep = KEY_BLOCK_SIZE - AES_KEY_SIZE - 1;
  let bad = em[0]! | (em[1]! ^ 0x02) | em[sep]!;
  // (b - 1) >>> 31 is 1 exactly when b == 0 (bytes are 0..255): arithmetic, no comparison or branch.
  for (let i = 2; i < sep; i++) bad |= (em[i]! - 1) >>> 31;
  // Only the final verdict is revealed; it is WRONG_KEY either way, whatever byte was off.
  return bad === 0 ? Buffer.from(em.subarray(sep + 1)) : undefined;
}

function unwrapRsa(keyBlock: Buffer, key: DecryptionKey): Buffer {
  let em: Buffer;
  try {
    em = privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, keyBlock);
  } catch (e) {
    throw wrongKey(e); // e.g. block >= modulus: garbage or another key
  }
  const aesKey = unpadPkcs1v15Key(em);
  em.fill(0);
  if (!aesKey) throw wrongKey();
  return aesKey;
}

/** Raw big-endian private scalar of a P-256 KeyObject. */
function ecScalar(key: DecryptionKey): Buffer {
  const jwk = key.privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw wrongKey();
  return Buffer.from(jwk.d, 'base64url');
}

function unwrapEcies(keyBlock: Buffer, key: DecryptionKey): Buffer {
  const point = Buffer.concat([Buffer.from([0x04]), keyBlock.subarray(0, ECIES_POINT_SIZE)]);
  const salt = keyBlock.subarray(ECIES_POINT_SIZE, ECIES_POINT_SIZE + ECIES_SALT_SIZE);
  let shared: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(ecScalar(key));
    shared = ecdh.computeSecret(point); // throws for a point not on the curve
  } catch (e) {
    throw wrongKey(e);
  }
  return Buffer.from(hkdfSync('sha256', shared, salt, HKDF_INFO, AES_KEY_SIZE));
}

export function unwrapAesKey(header: Pick<EncryptedHeader, 'keyBlock'>, key: DecryptionKey): Buffer {
  if (header.keyBlock.length !== KEY_BLOCK_SIZE) throw wrongKey();
  return key.scheme === 'rsa' ? unwrapRsa(header.keyBlock, key) : unwrapEcies(header.keyBlock, key);
}
