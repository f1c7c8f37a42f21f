/**
 * The shared reference vectors (made by Espressif's generator, or shipped by Espressif): every
 * positive one decrypts to the exact plaintext, every negative one fails with its own error code.
 */
import { describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import {
  decryptImage,
  eciesKeyFromScalar,
  encryptImage,
  loadDecryptionKey,
  loadEncryptionKey,
  parseEncryptedHeader,
  StreamingDecryptor,
  type DecryptionKey,
} from '../../src/image/index.js';
import { fixture, POSITIVE_VECTORS } from './fixtures.js';
import { referenceDecrypt } from './reference-decryptor.js';

function key(name: string, hmac = false): DecryptionKey {
  return loadDecryptionKey(fixture(name), { hmac });
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OtaError);
    return (e as OtaError).code;
  }
  return 'no error';
}

describe('generator-made vectors decrypt to the exact plaintext', () => {
  for (const v of POSITIVE_VECTORS) {
    it(`${v.file} with ${v.key}`, () => {
      const out = decryptImage(fixture(v.file), key(v.key, v.hmac));
      expect(out.equals(fixture(v.plain))).toBe(true);
    });
  }

  it('Espressif test image (ECIES) with the test app\'s mocked device scalar', () => {
    const k = eciesKeyFromScalar(fixture('espressif_test_mock_ecc_scalar.bin'));
    const out = decryptImage(fixture('espressif_test_image_ecc.ecies.enc.bin'), k);
    expect(out.toString('latin1')).toBe('test file\n');
  });

  it('a 32-byte key given without --hmac-key is taken as the HMAC key', () => {
    const out = decryptImage(fixture('app_esp32.ecies.enc.bin'), loadDecryptionKey(fixture('ecies_device_hmac_key.bin')));
    expect(out.equals(fixture('app_esp32.bin'))).toBe(true);
  });

  it('the test\'s own reference decryptor agrees on every vector (so it can judge our encrypt)', () => {
    const ref = (file: string, k: Parameters<typeof referenceDecrypt>[1]): Buffer => referenceDecrypt(fixture(file), k);
    expect(ref('app_esp32.rsa.enc.bin', { rsaPrivatePem: fixture('rsa3072_private.pem') }).equals(fixture('app_esp32.bin'))).toBe(true);
    expect(ref('app_esp32.ecies.enc.bin', { eciesHmacKey: fixture('ecies_device_hmac_key.bin') }).equals(fixture('app_esp32.bin'))).toBe(true);
    expect(
      ref('espressif_test_image_ecc.ecies.enc.bin', { eciesScalar: fixture('espressif_test_mock_ecc_scalar.bin') }).toString(),
    ).toBe('test file\n');
    expect(() => ref('app_esp32.rsa.enc.tampered_ct.bin', { rsaPrivatePem: fixture('rsa3072_private.pem') })).toThrow();
  });
});

describe('negative vectors: each its own error', () => {
  const rsa = (): DecryptionKey => key('rsa3072_private.pem');
  const cases: [string, () => DecryptionKey, string][] = [
    ['app_esp32.rsa.enc.tampered_ct.bin', rsa, 'AUTH_FAILED'],
    ['app_esp32.rsa.enc.tampered_tag.bin', rsa, 'AUTH_FAILED'],
    ['app_esp32.rsa.enc.bad_magic.bin', rsa, 'NOT_ENCRYPTED_IMAGE'],
    ['app_esp32.rsa.enc.truncated.bin', rsa, 'IMAGE_TRUNCATED'],
    ['app_esp32.rsa.enc.bin', () => key('espressif_example_rsa_private.pem'), 'WRONG_KEY'],
    ['app_esp32.ecies.enc.bin', rsa, 'WRONG_KEY'],
    ['app_esp32.rsa.enc.bin', () => key('ecies_device_hmac_key.bin', true), 'WRONG_KEY'],
    // ECIES cannot detect a wrong device key before the tag: any scalar gives some AES key.
    ['app_esp32.ecies.enc.bin', () => key('espressif_example_ecc_device_hmac_key.bin', true), 'AUTH_FAILED'],
  ];
  for (const [file, k, code] of cases) {
    it(`${file} -> ${code} (one-shot and streaming)`, () => {
      const data = fixture(file);
      expect(codeOf(() => decryptImage(data, k()))).toBe(code);
      expect(
        codeOf(() => {
          const d = new StreamingDecryptor(k());
          d.push(data);
          d.finish();
        }),
      ).toBe(code);
    });
  }

  it('wrong key says "wrong key or corrupt header", names the check, and never leaks an OpenSSL error', () => {
    try {
      decryptImage(fixture('app_esp32.rsa.enc.bin'), key('espressif_example_rsa_private.pem'));
      expect.unreachable();
    } catch (e) {
      const err = e as OtaError;
      expect(err.message).toMatch(/^wrong key or corrupt header/);
      expect(err.details).toMatchObject({ check: 'key_unwrap', offset: 4 });
    }
  });

  it('AUTH_FAILED with an ECIES key mentions that the key may be the wrong one', () => {
    try {
      decryptImage(fixture('app_esp32.ecies.enc.bin'), key('espressif_example_ecc_device_hmac_key.bin', true));
      expect.unreachable();
    } catch (e) {
      expect((e as OtaError).message).toMatch(/not made for this device key/);
    }
  });
});

describe('byte compatibility of encrypt with the generator', () => {
  it('with the vector\'s AES key and IV, encrypt reproduces its IV, size, tag and ciphertext exactly', () => {
    const vec = fixture('app_esp32.rsa.enc.bin');
    const draws = [
      Buffer.from('4962a57e668641fd45add90d7f0dd636ab36d1ceab3a3a8566de0f7e5391d800', 'hex'), // AES key
      Buffer.from('9606e45d7998b9de82ce2695a884c094', 'hex'), // IV
    ];
    const random = (n: number): Buffer => {
      const b = draws.shift();
      if (!b || b.length !== n) throw new Error(`unexpected random(${n})`);
      return Buffer.from(b);
    };
    const ours = encryptImage(fixture('app_esp32.bin'), loadEncryptionKey(fixture('rsa3072_public.pem')), { random });
    expect(ours.length).toBe(vec.length);
    expect(ours.subarray(0, 4).equals(vec.subarray(0, 4))).toBe(true); // magic
    expect(ours.subarray(388).equals(vec.subarray(388))).toBe(true); // iv, bin_size, tag, reserved, ciphertext
    expect(parseEncryptedHeader(ours).authTag.toString('hex')).toBe('67bb56613b5d844a3b5635a66ee2d3e9');
    // The key block differs (PKCS#1 v1.5 padding is random) but unwraps to the same key.
    expect(decryptImage(ours, key('rsa3072_private.pem')).equals(fixture('app_esp32.bin'))).toBe(true);
  });
});
