/** The shared `--key` / `--hmac-key` options of decrypt and inspect. */
import type { Argv } from 'yargs';
import { OtaError } from '../errors.js';
import { loadDecryptionKey, type DecryptionKey } from '../image/index.js';
import { aboutFile, readInputFile } from './io.js';

export interface KeyArgs {
  key?: string;
  'hmac-key'?: string;
}

export function withDecryptionKeyOptions<T>(y: Argv<T>): Argv<T & KeyArgs> {
  return y
    .option('key', {
      alias: 'k',
      type: 'string',
      describe: 'private key PEM: RSA-3072 (PKCS#1 or PKCS#8) or EC P-256',
    })
    .option('hmac-key', {
      type: 'string',
      describe: 'the device\'s 32-byte ECIES HMAC key (the eFuse HMAC_UP key)',
    })
    .conflicts('key', 'hmac-key') as Argv<T & KeyArgs>;
}

/** Loads the key named by --key or --hmac-key; undefined if neither was given. */
export function loadKeyArg(args: KeyArgs): DecryptionKey | undefined {
  if (args.key !== undefined) {
    const path = args.key;
    return aboutFile(path, () => loadDecryptionKey(readInputFile(path, 'key file')));
  }
  if (args['hmac-key'] !== undefined) {
    const path = args['hmac-key'];
    return aboutFile(path, () => loadDecryptionKey(readInputFile(path, 'HMAC key file'), { hmac: true }));
  }
  return undefined;
}

export function requireKeyArg(args: KeyArgs): DecryptionKey {
  const key = loadKeyArg(args);
  if (!key) throw new OtaError('USAGE', 'a key is required: --key PRIVATE.pem or --hmac-key DEVICE_HMAC_KEY.bin');
  return key;
}
