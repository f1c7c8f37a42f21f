/** The 512-byte header: layout, magic, length rules. */
import { describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import {
  buildEncryptedHeader,
  checkEncryptedFileSize,
  ENC_HEADER_SIZE,
  guessScheme,
  hasEncryptedMagic,
  imageId,
  parseEncryptedHeader,
} from '../../src/image/index.js';
import { fixture } from './fixtures.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as OtaError).code;
  }
  return 'no error';
}

describe('encrypted-image header', () => {
  it('parses the generator\'s header fields at the documented offsets', () => {
    const h = parseEncryptedHeader(fixture('app_esp32.rsa.enc.bin'));
    expect(h.binSize).toBe(3152);
    expect(h.iv.toString('hex')).toBe('9606e45d7998b9de82ce2695a884c094');
    expect(h.authTag.toString('hex')).toBe('67bb56613b5d844a3b5635a66ee2d3e9');
    expect(h.keyBlock.length).toBe(384);
    expect(guessScheme(h)).toBe('rsa');
    expect(guessScheme(parseEncryptedHeader(fixture('app_esp32.ecies.enc.bin')))).toBe('ecies');
    expect(parseEncryptedHeader(fixture('espressif_test_image.rsa.enc.bin')).binSize).toBe(11680);
  });

  it('build then parse gives the fields back, magic cf b6 88 07, reserved bytes zero', () => {
    const f = { keyBlock: Buffer.alloc(384, 7), iv: Buffer.alloc(16, 8), binSize: 0x01020304, authTag: Buffer.alloc(16, 9) };
    const raw = buildEncryptedHeader(f);
    expect(raw.subarray(0, 4).toString('hex')).toBe('cfb68807');
    expect(raw.subarray(404, 408).toString('hex')).toBe('04030201'); // little-endian
    expect(raw.subarray(424).every((b) => b === 0)).toBe(true);
    const h = parseEncryptedHeader(raw);
    expect(h.keyBlock.equals(f.keyBlock) && h.iv.equals(f.iv) && h.authTag.equals(f.authTag)).toBe(true);
    expect(h.binSize).toBe(f.binSize);
  });

  it('refuses wrong field sizes when building', () => {
    expect(() => buildEncryptedHeader({ keyBlock: Buffer.alloc(383), iv: Buffer.alloc(16), binSize: 0, authTag: Buffer.alloc(16) })).toThrow(TypeError);
    expect(() => buildEncryptedHeader({ keyBlock: Buffer.alloc(384), iv: Buffer.alloc(12), binSize: 0, authTag: Buffer.alloc(16) })).toThrow(TypeError);
    expect(() => buildEncryptedHeader({ keyBlock: Buffer.alloc(384), iv: Buffer.alloc(16), binSize: -1, authTag: Buffer.alloc(16) })).toThrow(TypeError);
  });

  it('bad magic (here: the byte-swapped vector) is NOT_ENCRYPTED_IMAGE, as are files shorter than the magic', () => {
    expect(hasEncryptedMagic(fixture('app_esp32.rsa.enc.bad_magic.bin'))).toBe(false);
    expect(codeOf(() => parseEncryptedHeader(fixture('app_esp32.rsa.enc.bad_magic.bin')))).toBe('NOT_ENCRYPTED_IMAGE');
    expect(codeOf(() => parseEncryptedHeader(fixture('app_esp32.bin')))).toBe('NOT_ENCRYPTED_IMAGE');
    expect(codeOf(() => parseEncryptedHeader(Buffer.from([0xcf, 0xb6])))).toBe('NOT_ENCRYPTED_IMAGE');
  });

  it('right magic but the file ends inside the header: IMAGE_TRUNCATED', () => {
    const f = fixture('app_esp32.rsa.enc.bin');
    for (const n of [4, 100, 388, 511]) expect(codeOf(() => parseEncryptedHeader(f.subarray(0, n))), `${n} bytes`).toBe('IMAGE_TRUNCATED');
  });

  it('the file must be exactly 512 + bin_size bytes', () => {
    const f = fixture('app_esp32.rsa.enc.bin');
    const h = parseEncryptedHeader(f);
    expect(() => checkEncryptedFileSize(f.length, h)).not.toThrow();
    expect(codeOf(() => checkEncryptedFileSize(f.length - 1, h))).toBe('IMAGE_TRUNCATED');
    expect(codeOf(() => checkEncryptedFileSize(ENC_HEADER_SIZE, h))).toBe('IMAGE_TRUNCATED');
    // Extra bytes: the device would decrypt them as ciphertext and fail.
    expect(codeOf(() => checkEncryptedFileSize(f.length + 1, h))).toBe('NOT_ENCRYPTED_IMAGE');
  });

  it('image id is the SHA-256 of the 512 header bytes', () => {
    const f = fixture('app_esp32.rsa.enc.bin');
    expect(imageId(f).toString('hex')).toBe(imageId(f.subarray(0, 512)).toString('hex'));
    expect(imageId(f).equals(imageId(fixture('app_esp32.rsa.enc.tampered_tag.bin')))).toBe(false);
    expect(imageId(f).equals(imageId(fixture('app_esp32.rsa.enc.tampered_ct.bin')))).toBe(true); // ciphertext not covered
  });
});
