/**
 * An independent decryptor for esp_encrypted_img files, written for the tests straight from the
 * format description (esp-formats.md §1.2, §1.3) with node:crypto primitives only. It shares no
 * code with src/image on purpose: if both agree on files made by our encrypt, the format is right,
 * not merely self-consistent. Deliberately plain (no streaming, no constant-time care).
 */
import {
  constants,
  createDecipheriv,
  createECDH,
  createPrivateKey,
  hkdfSync,
  pbkdf2Sync,
  privateDecrypt,
} from 'node:crypto';

export type ReferenceKey =
  | { rsaPrivatePem: Buffer }
  | { eciesScalar: Buffer }
  | { eciesHmacKey: Buffer };

export function referenceDecrypt(file: Buffer, key: ReferenceKey): Buffer {
  if (file.length < 512) throw new Error('shorter than the 512-byte header');
  if (!file.subarray(0, 4).equals(Buffer.from([0xcf, 0xb6, 0x88, 0x07]))) throw new Error('bad magic');
  const iv = file.subarray(388, 404);
  const binSize = file.readUInt32LE(404);
  const tag = file.subarray(408, 424);
  if (file.length !== 512 + binSize) throw new Error(`length ${file.length} != 512 + ${binSize}`);

  let aesKey: Buffer;
  if ('rsaPrivatePem' in key) {
    // Textbook RSA, then PKCS#1 v1.5 type 2: 00 02 PS (>= 8 non-zero bytes) 00 M, and M is 32 bytes.
    const em = privateDecrypt({ key: createPrivateKey(key.rsaPrivatePem), padding: constants.RSA_NO_PADDING }, file.subarray(4, 388));
    if (em[0] !== 0 || em[1] !== 2) throw new Error('bad PKCS#1 v1.5 block type');
    const zero = em.indexOf(0, 2);
    if (zero < 10) throw new Error('bad PKCS#1 v1.5 padding');
    aesKey = em.subarray(zero + 1);
    if (aesKey.length !== 32) throw new Error(`wrapped key is ${aesKey.length} bytes`);
  } else {
    const scalar =
      'eciesScalar' in key
        ? key.eciesScalar
        : pbkdf2Sync(key.eciesHmacKey, Buffer.from('0e2160642dae76d33448e43d7720123d9f3b1eceb88e573a4e8f7fb94ff0c869', 'hex'), 2048, 32, 'sha256');
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(scalar);
    const shared = ecdh.computeSecret(Buffer.concat([Buffer.from([4]), file.subarray(4, 68)]));
    aesKey = Buffer.from(hkdfSync('sha256', shared, file.subarray(68, 100), Buffer.from('_esp_enc_img_ecc'), 32));
  }
  const d = createDecipheriv('aes-256-gcm', aesKey, iv);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(file.subarray(512)), d.final()]);
}
