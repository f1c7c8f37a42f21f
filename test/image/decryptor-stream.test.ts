/**
 * The streaming decryptor has the device's semantics: any chunking gives the same bytes and the
 * same error; plaintext comes out in multiples of 16 until the push that completes bin_size;
 * magic and key are checked as soon as their bytes arrived; the tag only at finish().
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import { encryptImage, loadDecryptionKey, loadEncryptionKey, StreamingDecryptor, type DecryptionKey } from '../../src/image/index.js';
import { fixture } from './fixtures.js';

const RSA = loadDecryptionKey(fixture('rsa3072_private.pem'));
const ECIES = loadDecryptionKey(fixture('ecies_device_hmac_key.bin'), { hmac: true });

interface Run {
  out: Buffer;
  error?: string;
  /** Total bytes pushed when the error was thrown. */
  errorAt?: number;
}

/**
 * Feeds `file` in chunks cycling through `sizes`, checking the release rule after every push:
 * before the image is complete each push releases a multiple of 16 bytes, and the released total
 * lags the ciphertext received by at most 15 bytes.
 */
function run(file: Buffer, key: DecryptionKey, sizes: readonly number[]): Run {
  const d = new StreamingDecryptor(key);
  const parts: Buffer[] = [];
  let pos = 0;
  let released = 0;
  let i = 0;
  try {
    while (pos < file.length) {
      const n = sizes[i++ % sizes.length]!;
      const chunk = file.subarray(pos, pos + n);
      pos += chunk.length;
      const out = d.push(chunk);
      released += out.length;
      parts.push(Buffer.from(out)); // copy: the caller may not rely on released buffers staying untouched
      const data = Math.max(0, pos - 512);
      const ok = d.complete ? released === data : out.length % 16 === 0 && released <= data && data - released < 16;
      // One plain comparison per push (expect() per byte would dominate the 1-byte runs).
      if (!ok) throw new Error(`release rule broken at ${pos}: released ${released} of ${data}, this push ${out.length}`);
    }
    const rest = d.finish();
    parts.push(rest);
    return { out: Buffer.concat(parts) };
  } catch (e) {
    if (!(e instanceof OtaError)) throw e;
    return { out: Buffer.concat(parts), error: e.code, errorAt: pos };
  }
}

const sizesArb = fc.oneof(
  fc.constant([1]),
  fc.constant([16]),
  fc.constantFrom([3], [7], [13], [15], [17], [333], [511], [513], [4095]),
  fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 12 }).map((a) => (a.some((n) => n > 0) ? a : [...a, 1])),
);

describe('StreamingDecryptor', () => {
  const app = fixture('app_esp32.bin');
  const rsaFile = fixture('app_esp32.rsa.enc.bin');
  const eciesFile = fixture('app_esp32.ecies.enc.bin');
  const odd = encryptImage(fixture('random_5003.bin'), loadEncryptionKey(fixture('ecies_device_pub_key.pem'))); // 5003: not a multiple of 16

  it('1-byte, 16-byte and odd chunkings give the exact plaintext (RSA and ECIES vectors)', () => {
    for (const sizes of [[1], [16], [7], [17], [1000, 3, 29]]) {
      expect(run(rsaFile, RSA, sizes).out.equals(app)).toBe(true);
      expect(run(eciesFile, ECIES, sizes).out.equals(app)).toBe(true);
    }
  });

  it('property: any chunking gives identical bytes and releases in multiples of 16', () => {
    const plainOdd = fixture('random_5003.bin');
    fc.assert(
      fc.property(sizesArb, (sizes) => {
        expect(run(rsaFile, RSA, sizes)).toEqual({ out: app });
        expect(run(odd, ECIES, sizes)).toEqual({ out: plainOdd });
      }),
      { numRuns: 60 },
    );
  });

  it('property: a tampered file fails at finish() with AUTH_FAILED for every chunking, after releasing everything', () => {
    const tampered = fixture('app_esp32.rsa.enc.tampered_ct.bin');
    fc.assert(
      fc.property(sizesArb, (sizes) => {
        const r = run(tampered, RSA, sizes);
        expect(r.error).toBe('AUTH_FAILED');
        expect(r.errorAt).toBe(tampered.length);
        expect(r.out.length).toBe(app.length); // released but never trusted: the tag decides
      }),
      { numRuns: 30 },
    );
  });

  it('property: bad magic fails on the push that brings byte 4, a wrong key on the push that brings byte 388', () => {
    const badMagic = fixture('app_esp32.rsa.enc.bad_magic.bin');
    const wrongKey = loadDecryptionKey(fixture('espressif_example_rsa_private.pem'));
    fc.assert(
      fc.property(sizesArb, (sizes) => {
        const m = run(badMagic, RSA, sizes);
        expect(m.error).toBe('NOT_ENCRYPTED_IMAGE');
        expect(m.errorAt! >= 4 && m.errorAt! - 4 < Math.max(...sizes)).toBe(true);
        const k = run(rsaFile, wrongKey, sizes);
        expect(k.error).toBe('WRONG_KEY');
        expect(k.errorAt! >= 388 && k.errorAt! - 388 < Math.max(...sizes)).toBe(true);
        expect(k.out.length).toBe(0);
      }),
      { numRuns: 30 },
    );
  });

  it('truncated input: IMAGE_TRUNCATED at finish(); extra bytes: refused on push', () => {
    expect(run(fixture('app_esp32.rsa.enc.truncated.bin'), RSA, [100]).error).toBe('IMAGE_TRUNCATED');
    expect(run(rsaFile.subarray(0, 300), RSA, [100]).error).toBe('IMAGE_TRUNCATED');
    const extra = Buffer.concat([rsaFile, Buffer.from([0])]);
    const r = run(extra, RSA, [rsaFile.length, 1]);
    expect(r.error).toBe('NOT_ENCRYPTED_IMAGE');
    expect(r.out.equals(app)).toBe(true);
  });

  it('an empty image (bin_size 0) completes with the header and verifies', () => {
    const empty = encryptImage(Buffer.alloc(0), loadEncryptionKey(fixture('rsa3072_public.pem')));
    const d = new StreamingDecryptor(RSA);
    expect(d.push(empty).length).toBe(0);
    expect(d.complete).toBe(true);
    expect(d.finish().length).toBe(0);
  });

  it('after an error it keeps failing the same way; after finish() it refuses more input', () => {
    const d = new StreamingDecryptor(RSA);
    expect(() => d.push(fixture('app_esp32.rsa.enc.bad_magic.bin'))).toThrow(OtaError);
    try {
      d.push(Buffer.alloc(1));
      expect.unreachable();
    } catch (e) {
      expect((e as OtaError).code).toBe('NOT_ENCRYPTED_IMAGE');
    }
    const ok = new StreamingDecryptor(RSA);
    ok.push(rsaFile);
    ok.finish();
    expect(() => ok.push(Buffer.alloc(1))).toThrow(TypeError);
  });

  it('exposes header, consumed and complete while streaming', () => {
    const d = new StreamingDecryptor(ECIES);
    d.push(eciesFile.subarray(0, 511));
    expect(d.header).toBeUndefined();
    d.push(eciesFile.subarray(511, 600));
    expect(d.header?.binSize).toBe(3152);
    expect(d.consumed).toBe(600);
    expect(d.complete).toBe(false);
    d.push(eciesFile.subarray(600));
    expect(d.complete).toBe(true);
    d.finish();
  });
});
