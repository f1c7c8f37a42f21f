/**
 * The bench image: a format-valid ESP32 app of a chosen size, encrypted for the simulated device's
 * TEST key, so that every tool moves the same incompressible bytes and the simulated device can
 * decrypt, verify and boot them. The total file size is exact (header + ciphertext), which also
 * keeps XMODEM from padding the last block.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAppImage, ENC_HEADER_SIZE, encryptImage, loadEncryptionKey } from '../../src/image/index.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The simulated device's key pair (a published TEST KEY, see assets/test-keys/README.md). */
export const SIM_KEY = join(ROOT, 'assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pem');
export const SIM_PUBLIC_KEY = join(ROOT, 'assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pub.pem');

export interface BenchImage {
  /** The encrypted file. */
  path: string;
  bytes: number;
  sha256: string;
  /** The app inside (what the device must end up with in flash). */
  app: Buffer;
  version: string;
}

/**
 * `reuse`: take `dir/bench-<totalBytes>.enc` as it is when it exists (the app is rebuilt from the
 * seed to check against), so that runs of two builds push the very same bytes: the encryption
 * draws a new AES key, IV and RSA padding every time.
 */
export function makeBenchImage(dir: string, totalBytes: number, seed = 1, reuse = false): BenchImage {
  const version = `9.${seed}.${totalBytes}`;
  const want = totalBytes - ENC_HEADER_SIZE;
  let app = buildAppImage({ version, projectName: 'ota_uart_bench', size: want, seed });
  // The builder lands within 16 bytes below the request; pad the request until it is exact.
  for (let extra = 16; app.length < want && extra <= 64; extra += 16) {
    app = buildAppImage({ version, projectName: 'ota_uart_bench', size: want + extra, seed });
  }
  if (app.length !== want) throw new Error(`cannot build an app of exactly ${want} bytes (got ${app.length})`);
  const path = join(dir, `bench-${totalBytes}.enc`);
  const enc = reuse && existsSync(path) ? readFileSync(path) : encryptImage(app, loadEncryptionKey(readFileSync(SIM_PUBLIC_KEY)));
  writeFileSync(path, enc);
  return { path, bytes: enc.length, sha256: sha256(enc), app, version };
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
