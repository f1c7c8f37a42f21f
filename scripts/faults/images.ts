/**
 * The images a fault-matrix run pushes, all made fresh from the TEST KEYS in the repository:
 * the update (version 2.0.0) and an older one installed first on the "updated" base flash, and
 * the bad images with the code each must be refused with (and the CLI exit status of that code).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAppImage, encryptImage, loadDecryptionKey, loadEncryptionKey, type DecryptionKey } from '../../src/image/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The shared vectors' RSA-3072 TEST KEY (test/fixtures copy): the device key of every trial. */
export const DEVICE_KEY_PATH = join(ROOT, 'test', 'fixtures', 'rsa3072_private.pem');
const DEVICE_PUB_PATH = join(ROOT, 'test', 'fixtures', 'rsa3072_public.pem');
/** Another TEST KEY: images encrypted for it must be refused with WRONG_KEY. */
const OTHER_PUB_PATH = join(ROOT, 'assets', 'test-keys', 'demo-device-rsa3072.TEST-KEY-ONLY.pub.pem');

export interface TestImage {
  name: string;
  enc: Buffer;
  /** The plaintext app the device must end up with (undefined for bad images). */
  plain?: Buffer;
  /** The OtaError code a push must end with (bad images). */
  code?: string;
  /** The CLI exit status of `code`. */
  exit?: number;
}

export interface ImageSet {
  deviceKey: DecryptionKey;
  /** The update every fault row pushes. */
  update: TestImage;
  /** Installed into ota_0 on the "updated" base flash before the trials (so the update goes to ota_1). */
  older: TestImage;
  bad: TestImage[];
}

export function makeImages(sizeBytes: number): ImageSet {
  const pub = loadEncryptionKey(readFileSync(DEVICE_PUB_PATH));
  const other = loadEncryptionKey(readFileSync(OTHER_PUB_PATH));
  const app = (version: string, extra: Partial<Parameters<typeof buildAppImage>[0]> = {}): Buffer =>
    buildAppImage({ version, size: sizeBytes, seed: 7, projectName: 'faults', ...extra });
  const plain = app('2.0.0');
  const enc = encryptImage(plain, pub);
  const olderPlain = app('1.5.0', { seed: 5 });

  const tampered = Buffer.from(enc);
  tampered[512 + Math.floor((enc.length - 512) * 0.6)]! ^= 0x40; // a flipped bit deep in the ciphertext
  const bad: TestImage[] = [
    { name: 'tampered', enc: tampered, code: 'AUTH_FAILED', exit: 6 },
    { name: 'truncated', enc: enc.subarray(0, enc.length - 1000), code: 'IMAGE_TRUNCATED', exit: 4 },
    { name: 'wrong key', enc: encryptImage(plain, other), code: 'WRONG_KEY', exit: 5 },
    { name: 'wrong chip', enc: encryptImage(app('3.0.0', { chipId: 5 }), pub), code: 'WRONG_CHIP', exit: 21 },
    { name: 'downgrade', enc: encryptImage(app('0.9.0'), pub), code: 'DOWNGRADE', exit: 22 },
    // The two-OTA layout's slots are 1 MiB.
    { name: 'too large', enc: encryptImage(buildAppImage({ version: '4.0.0', size: 0x100000 + 64 * 1024 }), pub), code: 'IMAGE_TOO_LARGE', exit: 20 },
  ];
  return {
    deviceKey: loadDecryptionKey(readFileSync(DEVICE_KEY_PATH)),
    update: { name: 'update 2.0.0', enc, plain },
    older: { name: 'older 1.5.0', enc: encryptImage(olderPlain, pub), plain: olderPlain },
    bad,
  };
}
