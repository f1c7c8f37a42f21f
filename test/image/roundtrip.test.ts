/**
 * encrypt -> decrypt round trips for both schemes, and files made by our encrypt checked by the
 * test's independent reference decryptor (written from the format description, node:crypto only).
 */
import { createECDH, generateKeyPairSync, pbkdf2Sync, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildAppImage,
  decryptImage,
  ENC_HEADER_SIZE,
  encryptImage,
  guessScheme,
  loadDecryptionKey,
  loadEncryptionKey,
  parseEncryptedHeader,
  type DecryptionKey,
  type EncryptionKey,
} from '../../src/image/index.js';
import { fixture } from './fixtures.js';
import { referenceDecrypt, type ReferenceKey } from './reference-decryptor.js';

interface SchemeKeys {
  name: 'rsa' | 'ecies';
  enc: EncryptionKey;
  dec: DecryptionKey;
  ref: ReferenceKey;
}

const schemes: SchemeKeys[] = [];
beforeAll(() => {
  schemes.push({
    name: 'rsa',
    enc: loadEncryptionKey(fixture('rsa3072_public.pem')),
    dec: loadDecryptionKey(fixture('rsa3072_private.pem')),
    ref: { rsaPrivatePem: fixture('rsa3072_private.pem') },
  });
  schemes.push({
    name: 'ecies',
    enc: loadEncryptionKey(fixture('ecies_device_pub_key.pem')),
    dec: loadDecryptionKey(fixture('ecies_device_hmac_key.bin'), { hmac: true }),
    ref: { eciesHmacKey: fixture('ecies_device_hmac_key.bin') },
  });
});

const SIZES = [0, 1, 15, 16, 17, 4096 + 3, 3 * 1024 * 1024 + 7];

describe.each(['rsa', 'ecies'] as const)('%s round trip', (scheme) => {
  const keys = (): SchemeKeys => schemes.find((s) => s.name === scheme)!;

  for (const size of SIZES) {
    it(`size ${size}: our decrypt and the reference decryptor both give the plaintext back`, () => {
      const plain = randomBytes(size);
      const enc = encryptImage(plain, keys().enc);
      expect(enc.length).toBe(ENC_HEADER_SIZE + size);
      const h = parseEncryptedHeader(enc);
      expect(h.binSize).toBe(size);
      expect(h.raw.subarray(424).every((b) => b === 0)).toBe(true); // reserved bytes zero, as the generator writes
      expect(decryptImage(enc, keys().dec).equals(plain)).toBe(true);
      expect(referenceDecrypt(enc, keys().ref).equals(plain)).toBe(true);
    });
  }

  it('every file gets a fresh AES key and IV', () => {
    const plain = fixture('app_esp32.bin');
    const a = encryptImage(plain, keys().enc);
    const b = encryptImage(plain, keys().enc);
    expect(a.subarray(4, 424).equals(b.subarray(4, 424))).toBe(false);
    expect(a.subarray(512).equals(b.subarray(512))).toBe(false);
  });

  it('the header layout lets inspect guess the scheme', () => {
    expect(guessScheme(parseEncryptedHeader(encryptImage(Buffer.alloc(32), keys().enc)))).toBe(scheme);
  });
});

describe('keys accepted for encryption', () => {
  it('a private PEM works as the key (its public half is used), as the generator allows', () => {
    const app = fixture('app_esp32.bin');
    for (const [pem, ref] of [
      ['rsa3072_private.pem', { rsaPrivatePem: fixture('rsa3072_private.pem') }],
      ['espressif_example_rsa_private.pem', { rsaPrivatePem: fixture('espressif_example_rsa_private.pem') }],
      ['ecies_device_priv_derived.pem', { eciesHmacKey: fixture('ecies_device_hmac_key.bin') }],
    ] as const) {
      const k = loadEncryptionKey(fixture(pem));
      expect(k.description).toMatch(/public half of a private PEM/);
      expect(referenceDecrypt(encryptImage(app, k), ref).equals(app)).toBe(true);
    }
  });

  it('Espressif\'s example ECIES public key is the PBKDF2-derived key of its HMAC key: files made for it open with the HMAC key', () => {
    const app = buildAppImage({ version: 'ecies-example' });
    const enc = encryptImage(app, loadEncryptionKey(fixture('espressif_example_ecc_public.pem')));
    const hmac = fixture('espressif_example_ecc_device_hmac_key.bin');
    expect(decryptImage(enc, loadDecryptionKey(hmac, { hmac: true })).equals(app)).toBe(true);
    expect(referenceDecrypt(enc, { eciesHmacKey: hmac }).equals(app)).toBe(true);
  });

  it('PKCS#1 ("RSA PUBLIC KEY") and SEC1 ("EC PRIVATE KEY") PEMs work too', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const rsaPub1 = Buffer.from(rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }));
    const rsaPriv1 = Buffer.from(rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }));
    expect(rsaPub1.toString()).toMatch(/BEGIN RSA PUBLIC KEY/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ecSec1 = Buffer.from(ec.privateKey.export({ type: 'sec1', format: 'pem' }));
    expect(ecSec1.toString()).toMatch(/BEGIN EC PRIVATE KEY/);
    const plain = randomBytes(1000);
    expect(decryptImage(encryptImage(plain, loadEncryptionKey(rsaPub1)), loadDecryptionKey(rsaPriv1)).equals(plain)).toBe(true);
    expect(decryptImage(encryptImage(plain, loadEncryptionKey(ecSec1)), loadDecryptionKey(ecSec1)).equals(plain)).toBe(true);
  });

  it('ECIES with an injected random source: ephemeral point and salt land where the format says', () => {
    const scalar = Buffer.alloc(32, 0x11);
    const salt = Buffer.alloc(32, 0x22);
    const iv = Buffer.alloc(16, 0x33);
    const draws = [scalar, salt, iv];
    const enc = encryptImage(Buffer.from('hello'), loadEncryptionKey(fixture('ecies_device_pub_key.pem')), {
      random: () => draws.shift()!,
    });
    const eph = createECDH('prime256v1');
    eph.setPrivateKey(scalar);
    expect(enc.subarray(4, 68).equals(eph.getPublicKey().subarray(1))).toBe(true);
    expect(enc.subarray(68, 100).equals(salt)).toBe(true);
    expect(enc.subarray(100, 388).every((b) => b === 0)).toBe(true);
    expect(enc.subarray(388, 404).equals(iv)).toBe(true);
    expect(enc.readUInt32LE(404)).toBe(5);
    // And the device side (scalar from the HMAC key) opens it.
    const devScalar = pbkdf2Sync(
      fixture('ecies_device_hmac_key.bin'),
      Buffer.from('0e2160642dae76d33448e43d7720123d9f3b1eceb88e573a4e8f7fb94ff0c869', 'hex'),
      2048,
      32,
      'sha256',
    );
    expect(referenceDecrypt(enc, { eciesScalar: devScalar }).toString()).toBe('hello');
  });
});
