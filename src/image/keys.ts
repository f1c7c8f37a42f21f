/**
 * Loading the keys of both schemes (esp-formats.md §1.2, §1.3).
 *
 * Decryption: RSA-3072 private PEM (PKCS#1 or PKCS#8), EC P-256 private PEM, or the device's
 * 32-byte HMAC key, from which the device derives its P-256 scalar with PBKDF2-HMAC-SHA256.
 * Encryption: RSA/EC public PEM, or a private PEM whose public half is used (as Espressif's
 * generator allows). Every failure is a BAD_KEY naming what was wrong.
 */
import { createECDH, createPrivateKey, createPublicKey, pbkdf2Sync, type KeyObject } from 'node:crypto';
import { OtaError } from '../errors.js';

export type Scheme = 'rsa' | 'ecies';

export interface DecryptionKey {
  scheme: Scheme;
  privateKey: KeyObject;
  description: string;
}

export interface EncryptionKey {
  scheme: Scheme;
  publicKey: KeyObject;
  description: string;
}

export const RSA_BITS = 3072;
export const HMAC_KEY_SIZE = 32;
/** Fixed PBKDF2 salt of the ECIES device key derivation (esp_encrypted_img `pbkdf2_salt`). */
export const PBKDF2_SALT = Buffer.from('0e2160642dae76d33448e43d7720123d9f3b1eceb88e573a4e8f7fb94ff0c869', 'hex');
export const PBKDF2_ITERATIONS = 2048;

function badKey(message: string, cause?: unknown): OtaError {
  return new OtaError('BAD_KEY', message, { cause });
}

function isPem(bytes: Buffer): boolean {
  return bytes.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
}

/** Checks type and size the way the device would fail on them, and names the scheme. */
function classify(key: KeyObject, role: 'private' | 'public'): { scheme: Scheme; description: string } {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits !== RSA_BITS) {
      throw badKey(`RSA key is ${bits ?? '?'}-bit; esp_encrypted_img needs RSA-${RSA_BITS} (384-byte key block)`);
    }
    return { scheme: 'rsa', description: `RSA-${RSA_BITS} ${role} key` };
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') {
      throw badKey(`EC key is on curve ${curve ?? '?'}; esp_encrypted_img ECIES needs P-256 (prime256v1)`);
    }
    return { scheme: 'ecies', description: `EC P-256 ${role} key` };
  }
  throw badKey(`unsupported key type ${type ?? '?'}; expected RSA-3072 or EC P-256`);
}

/** The device's private scalar from its 32-byte HMAC key: PBKDF2-HMAC-SHA256, 2048 iterations. */
export function deriveEciesScalar(hmacKey: Uint8Array): Buffer {
  if (hmacKey.length !== HMAC_KEY_SIZE) {
    throw badKey(`HMAC key must be exactly ${HMAC_KEY_SIZE} bytes, got ${hmacKey.length}`);
  }
  return pbkdf2Sync(hmacKey, PBKDF2_SALT, PBKDF2_ITERATIONS, 32, 'sha256');
}

/** A P-256 private KeyObject from a raw big-endian scalar (e.g. Espressif's mocked test scalar). */
export function eciesKeyFromScalar(scalar: Uint8Array, description = 'EC P-256 private key (raw scalar)'): DecryptionKey {
  let pub: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(scalar); // rejects 0 and values >= the group order
    pub = ecdh.getPublicKey(); // 04 || X || Y
  } catch (e) {
    throw badKey('derived value is not a valid P-256 private key', e);
  }
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  const privateKey = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64(scalar), x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33, 65)) },
    format: 'jwk',
  });
  return { scheme: 'ecies', privateKey, description };
}

export function loadDecryptionKey(bytes: Buffer, opts: { hmac?: boolean } = {}): DecryptionKey {
  const pem = isPem(bytes);
  if (opts.hmac === true || (!pem && bytes.length === HMAC_KEY_SIZE)) {
    if (pem) throw badKey('expected a raw 32-byte HMAC key, got a PEM file (use --key for PEM keys)');
    const key = eciesKeyFromScalar(deriveEciesScalar(bytes), 'ECIES device HMAC key (PBKDF2-derived P-256 key)');
    return key;
  }
  if (!pem) {
    throw badKey(`not a PEM key and not a 32-byte HMAC key (${bytes.length} bytes)`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: bytes, format: 'pem' });
  } catch (e) {
    const isPublic = /-----BEGIN (RSA )?PUBLIC KEY-----/.test(bytes.toString('latin1'));
    throw badKey(
      isPublic
        ? 'this is a public key; decryption needs the private key (or the device HMAC key)'
        : 'cannot parse the PEM private key (encrypted PEMs are not supported)',
      e,
    );
  }
  return { privateKey, ...classify(privateKey, 'private') };
}

export function loadEncryptionKey(bytes: Buffer): EncryptionKey {
  if (!isPem(bytes)) {
    throw badKey(
      bytes.length === HMAC_KEY_SIZE
        ? 'this looks like a device HMAC key; encryption needs the device public key PEM'
        : 'not a PEM key; encryption needs an RSA-3072 or EC P-256 public key PEM',
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: bytes, format: 'pem' }); // a private PEM yields its public half
  } catch (e) {
    throw badKey('cannot parse the PEM key', e);
  }
  const c = classify(publicKey, 'public');
  const fromPrivate = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(bytes.toString('latin1'));
  return { publicKey, scheme: c.scheme, description: fromPrivate ? `${c.description} (public half of a private PEM)` : c.description };
}
