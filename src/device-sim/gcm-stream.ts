/**
 * AES-256-GCM decryption whose state can be rebuilt after a power cut (SPEC §7).
 *
 * Node cannot serialise a Decipher's internal state, so the device never uses one. Instead:
 * - keystream: an aes-256-gcm *encryptor* (same key and IV) fed zeros; plaintext = C xor keystream;
 * - authenticator: a second encryptor fed that plaintext; its output is the ciphertext again and its
 *   GHASH runs over exactly the bytes the real decryptor would authenticate, so its final tag must
 *   equal the header's tag.
 * After a reset both are rebuilt by feeding the plaintext already in flash (and as many zeros):
 * counter and GHASH end up exactly where they were. No AAD (esp_encrypted_img uses none).
 */
import { createCipheriv, timingSafeEqual, type CipherGCM } from 'node:crypto';

const ZEROS = Buffer.alloc(64 * 1024);

export class GcmStream {
  private readonly ks: CipherGCM;
  private readonly auth: CipherGCM;
  private pos = 0;
  /** Set when an authenticator output did not reproduce the ciphertext (cannot happen unless state diverged). */
  private diverged = false;

  constructor(aesKey: Uint8Array, iv: Uint8Array) {
    this.ks = createCipheriv('aes-256-gcm', aesKey, iv, { authTagLength: 16 });
    this.auth = createCipheriv('aes-256-gcm', aesKey, iv, { authTagLength: 16 });
  }

  /** Ciphertext bytes processed so far (= plaintext bytes produced or replayed). */
  get position(): number {
    return this.pos;
  }

  /**
   * Rebuilds the state from plaintext that was produced earlier (read back from flash). Must be
   * called before any `decrypt`; may be called repeatedly with consecutive pieces.
   */
  replay(plain: Uint8Array): void {
    this.keystream(plain.length);
    this.auth.update(plain);
    this.pos += plain.length;
  }

  /** Decrypts the next ciphertext bytes (any length). */
  decrypt(cipher: Uint8Array): Buffer {
    const ks = this.keystream(cipher.length);
    const plain = Buffer.allocUnsafe(cipher.length);
    for (let i = 0; i < cipher.length; i++) plain[i] = cipher[i]! ^ ks[i]!;
    const again = this.auth.update(plain);
    if (!again.equals(cipher)) this.diverged = true;
    this.pos += cipher.length;
    return plain;
  }

  /** True if the final tag equals `tag` (constant-time compare). Ends the stream. */
  verify(tag: Uint8Array): boolean {
    this.ks.final();
    this.auth.final();
    const got = this.auth.getAuthTag();
    return !this.diverged && got.length === tag.length && timingSafeEqual(got, tag);
  }

  private keystream(n: number): Buffer {
    if (n <= ZEROS.length) return this.ks.update(ZEROS.subarray(0, n));
    const parts: Buffer[] = [];
    for (let done = 0; done < n; done += ZEROS.length) parts.push(this.ks.update(ZEROS.subarray(0, Math.min(ZEROS.length, n - done))));
    return Buffer.concat(parts);
  }
}
