/** Key loading (both schemes, every PEM flavour, clean BAD_KEY errors) and AES-key recovery. */
import { constants, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import {
  decryptImage,
  deriveEciesScalar,
  eciesKeyFromScalar,
  encryptImage,
  KEY_BLOCK_SIZE,
  loadDecryptionKey,
  loadEncryptionKey,
  unpadPkcs1v15Key,
  unwrapAesKey,
} from '../../src/image/index.js';
import { fixture } from './fixtures.js';

function errorOf(fn: () => unknown): OtaError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OtaError);
    return e as OtaError;
  }
  throw new Error('expected an OtaError');
}

describe('loading keys', () => {
  it('names the scheme from the key: RSA PKCS#8 and PKCS#1 PEMs, EC PEM, HMAC key', () => {
    expect(loadDecryptionKey(fixture('rsa3072_private.pem')).scheme).toBe('rsa'); // PKCS#8
    expect(loadDecryptionKey(fixture('espressif_example_rsa_private.pem')).scheme).toBe('rsa'); // PKCS#1
    expect(fixture('espressif_example_rsa_private.pem').toString()).toMatch(/BEGIN RSA PRIVATE KEY/);
    expect(loadDecryptionKey(fixture('ecies_device_priv_derived.pem')).scheme).toBe('ecies');
    expect(loadDecryptionKey(fixture('ecies_device_hmac_key.bin'), { hmac: true }).scheme).toBe('ecies');
    expect(loadEncryptionKey(fixture('rsa3072_public.pem')).scheme).toBe('rsa');
    expect(loadEncryptionKey(fixture('ecies_device_pub_key.pem')).scheme).toBe('ecies');
  });

  it('derives the documented device scalar from the HMAC key (PBKDF2-HMAC-SHA256, 2048 rounds)', () => {
    expect(deriveEciesScalar(fixture('ecies_device_hmac_key.bin')).toString('hex')).toBe(
      '240888fcaab51867a2b3ad94fb076cd4e806ec23d0b594bfa9cea33beab00e5e',
    );
    // Its public half is the generator's device_pub_key.pem.
    const fromHmac = loadDecryptionKey(fixture('ecies_device_hmac_key.bin'), { hmac: true });
    const spki = (k: Parameters<typeof createPublicKey>[0]): string =>
      createPublicKey(k).export({ type: 'spki', format: 'der' }).toString('hex');
    expect(spki(fromHmac.privateKey)).toBe(spki(fixture('ecies_device_pub_key.pem')));
    const example = loadDecryptionKey(fixture('espressif_example_ecc_device_hmac_key.bin'), { hmac: true });
    expect(spki(example.privateKey)).toBe(spki(fixture('espressif_example_ecc_public.pem')));
  });

  const bad: [string, () => unknown, RegExp][] = [
    ['HMAC key of 31 bytes', () => loadDecryptionKey(randomBytes(31), { hmac: true }), /exactly 32 bytes, got 31/],
    ['HMAC key of 33 bytes (e.g. trailing newline)', () => loadDecryptionKey(randomBytes(33), { hmac: true }), /exactly 32 bytes, got 33/],
    ['PEM given as HMAC key', () => loadDecryptionKey(fixture('rsa3072_private.pem'), { hmac: true }), /got a PEM file/],
    ['public PEM for decryption', () => loadDecryptionKey(fixture('rsa3072_public.pem')), /public key; decryption needs the private key/],
    ['garbage that is not a PEM', () => loadDecryptionKey(randomBytes(100)), /not a PEM key and not a 32-byte HMAC key/],
    ['HMAC key for encryption', () => loadEncryptionKey(fixture('ecies_device_hmac_key.bin')), /device HMAC key; encryption needs the device public key/],
    ['broken PEM', () => loadEncryptionKey(Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')), /cannot parse/],
  ];
  for (const [what, fn, msg] of bad) {
    it(`BAD_KEY: ${what}`, () => {
      const e = errorOf(fn);
      expect(e.code).toBe('BAD_KEY');
      expect(e.message).toMatch(msg);
    });
  }

  it('BAD_KEY for RSA sizes other than 3072 and curves other than P-256', () => {
    const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const ed = generateKeyPairSync('ed25519');
    const pem = (k: { export(o: object): string | Buffer }, type: string): Buffer => Buffer.from(k.export({ type, format: 'pem' }));
    expect(errorOf(() => loadDecryptionKey(pem(rsa2048.privateKey, 'pkcs8'))).message).toMatch(/2048-bit.*RSA-3072/);
    expect(errorOf(() => loadEncryptionKey(pem(rsa2048.publicKey, 'spki'))).code).toBe('BAD_KEY');
    expect(errorOf(() => loadEncryptionKey(pem(p384.publicKey, 'spki'))).message).toMatch(/secp384r1.*P-256/);
    expect(errorOf(() => loadDecryptionKey(pem(ed.privateKey, 'pkcs8'))).message).toMatch(/unsupported key type ed25519/);
  });

  it('eciesKeyFromScalar refuses 0 and values >= the group order', () => {
    expect(errorOf(() => eciesKeyFromScalar(Buffer.alloc(32))).code).toBe('BAD_KEY');
    expect(errorOf(() => eciesKeyFromScalar(Buffer.alloc(32, 0xff))).code).toBe('BAD_KEY');
  });
});

describe('PKCS#1 v1.5 unpadding of the RSA key block', () => {
  /** A well-formed EM: 00 02 PS(non-zero) 00 K. */
  function em(keyLen = 32): Buffer {
    const b = Buffer.alloc(KEY_BLOCK_SIZE);
    b[1] = 2;
    const ps = KEY_BLOCK_SIZE - 3 - keyLen;
    for (let i = 0; i < ps; i++) b[2 + i] = 1 + (i % 255);
    randomBytes(keyLen).copy(b, KEY_BLOCK_SIZE - keyLen);
    return b;
  }

  it('returns the 32-byte key of a well-formed block', () => {
    const b = em();
    expect(unpadPkcs1v15Key(b)?.equals(b.subarray(KEY_BLOCK_SIZE - 32))).toBe(true);
  });

  it('the key may itself contain zero bytes', () => {
    const b = em();
    b.fill(0, KEY_BLOCK_SIZE - 32);
    expect(unpadPkcs1v15Key(b)?.equals(Buffer.alloc(32))).toBe(true);
  });

  it('rejects a wrong first byte, block type 1 or 0, a missing separator, a zero anywhere in PS', () => {
    const cases: [string, (b: Buffer) => void][] = [
      ['first byte 01', (b) => (b[0] = 1)],
      ['block type 01', (b) => (b[1] = 1)],
      ['block type 00', (b) => (b[1] = 0)],
      ['separator non-zero', (b) => (b[KEY_BLOCK_SIZE - 33] = 7)],
    ];
    for (const pos of [2, 3, 9, 10, 100, KEY_BLOCK_SIZE - 34]) cases.push([`zero in PS at ${pos}`, (b) => (b[pos] = 0)]);
    for (const [what, edit] of cases) {
      const b = em();
      edit(b);
      expect(unpadPkcs1v15Key(b), what).toBeUndefined();
    }
  });

  it('requires exactly 32 key bytes: 16-, 31-, 33- and 48-byte payloads are rejected', () => {
    for (const n of [16, 31, 33, 48]) expect(unpadPkcs1v15Key(em(n)), `${n} bytes`).toBeUndefined();
  });

  it('rejects blocks of the wrong length', () => {
    expect(unpadPkcs1v15Key(em().subarray(1))).toBeUndefined();
  });
});

describe('AES key recovery errors are WRONG_KEY, never a crash', () => {
  const rsaKey = (): ReturnType<typeof loadDecryptionKey> => loadDecryptionKey(fixture('rsa3072_private.pem'));

  it('RSA: a payload that is not 32 bytes (wrapped by a correct PKCS#1 v1.5 encryption) is WRONG_KEY', () => {
    const pub = createPublicKey(fixture('rsa3072_public.pem'));
    for (const n of [16, 24, 48]) {
      const keyBlock = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, randomBytes(n));
      expect(errorOf(() => unwrapAesKey({ keyBlock }, rsaKey())).code).toBe('WRONG_KEY');
    }
    const ok = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, Buffer.alloc(32, 9));
    expect(unwrapAesKey({ keyBlock: ok }, rsaKey()).equals(Buffer.alloc(32, 9))).toBe(true);
  });

  it('RSA: an OAEP-wrapped key (what WebCrypto would make) is WRONG_KEY', () => {
    const keyBlock = publicEncrypt({ key: createPublicKey(fixture('rsa3072_public.pem')) }, randomBytes(32)); // OAEP default
    expect(errorOf(() => unwrapAesKey({ keyBlock }, rsaKey())).code).toBe('WRONG_KEY');
  });

  it('RSA: a key block >= the modulus (OpenSSL refuses it) is WRONG_KEY', () => {
    expect(errorOf(() => unwrapAesKey({ keyBlock: Buffer.alloc(KEY_BLOCK_SIZE, 0xff) }, rsaKey())).code).toBe('WRONG_KEY');
  });

  it('ECIES: an ephemeral point that is not on the curve is WRONG_KEY', () => {
    const k = loadDecryptionKey(fixture('ecies_device_hmac_key.bin'), { hmac: true });
    expect(errorOf(() => unwrapAesKey({ keyBlock: Buffer.alloc(KEY_BLOCK_SIZE) }, k)).code).toBe('WRONG_KEY');
    const off = Buffer.alloc(KEY_BLOCK_SIZE);
    fixture('app_esp32.ecies.enc.bin').copy(off, 0, 4, 388);
    off[40] = off[40]! ^ 1; // flip a bit of Y
    expect(errorOf(() => unwrapAesKey({ keyBlock: off }, k)).code).toBe('WRONG_KEY');
  });

  it('a key block of the wrong size is WRONG_KEY', () => {
    expect(errorOf(() => unwrapAesKey({ keyBlock: Buffer.alloc(10) }, rsaKey())).code).toBe('WRONG_KEY');
  });

  it('random key blocks: always a clean WRONG_KEY or AUTH_FAILED, for both schemes', () => {
    const plain = Buffer.from('payload');
    const schemes = [
      [loadEncryptionKey(fixture('rsa3072_public.pem')), rsaKey()],
      [loadEncryptionKey(fixture('ecies_device_pub_key.pem')), loadDecryptionKey(fixture('ecies_device_hmac_key.bin'), { hmac: true })],
    ] as const;
    for (const [enc, dec] of schemes) {
      for (let i = 0; i < 20; i++) {
        const file = encryptImage(plain, enc);
        randomBytes(KEY_BLOCK_SIZE).copy(file, 4);
        expect(['WRONG_KEY', 'AUTH_FAILED']).toContain(errorOf(() => decryptImage(file, dec)).code);
      }
    }
  });
});
