/** Access to test/fixtures/image (copies of the shared vectors; TEST KEYS ONLY, see test/fixtures/README.md). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/image/', import.meta.url));

export function fixturePath(name: string): string {
  return `${FIXTURE_DIR}${name}`;
}

export function fixture(name: string): Buffer {
  return readFileSync(fixturePath(name));
}

/** Generator-made (or Espressif-shipped) encrypted files, the key that opens them and the plaintext. */
export interface PositiveVector {
  file: string;
  key: string;
  /** The key file is a raw 32-byte HMAC key (--hmac-key), not a PEM. */
  hmac?: boolean;
  plain: string;
}

export const POSITIVE_VECTORS: readonly PositiveVector[] = [
  { file: 'app_esp32.rsa.enc.bin', key: 'rsa3072_private.pem', plain: 'app_esp32.bin' },
  { file: 'app_esp32.example_rsa.enc.bin', key: 'espressif_example_rsa_private.pem', plain: 'app_esp32.bin' },
  { file: 'random_5003.rsa.enc.bin', key: 'rsa3072_private.pem', plain: 'random_5003.bin' },
  { file: 'app_esp32.ecies.enc.bin', key: 'ecies_device_hmac_key.bin', hmac: true, plain: 'app_esp32.bin' },
  { file: 'app_esp32.ecies.enc.bin', key: 'ecies_device_priv_derived.pem', plain: 'app_esp32.bin' },
  { file: 'espressif_test_image.rsa.enc.bin', key: 'espressif_test_rsa_private_key.pem', plain: 'espressif_test_image.rsa.dec.bin' },
  {
    file: 'espressif_test_image_ecc.ecies.enc.bin',
    key: 'espressif_test_mock_ecc_private_derived.pem',
    plain: 'espressif_test_image_ecc.ecies.dec.bin',
  },
];
