/** `ota-uart encrypt IN --key PUB.pem -o OUT`: make an esp_encrypted_img file on the build server. */
import type { CommandModule } from 'yargs';
import { OtaError } from '../../errors.js';
import {
  checkAppImage,
  ENC_HEADER_SIZE,
  encryptImage,
  hasEncryptedMagic,
  imageId,
  loadEncryptionKey,
} from '../../image/index.js';
import { aboutFile, readInputFile, refuseExisting, writeFileAtomic } from '../io.js';
import { appSummary, type AppSummary } from '../app-report.js';
import { emit, table } from '../output.js';

export interface EncryptArgs {
  input: string;
  key: string;
  output: string;
  raw?: boolean;
  force?: boolean;
  json?: boolean;
}

export interface EncryptResult {
  input: string;
  output: string;
  scheme: 'rsa' | 'ecies';
  key: string;
  plainSize: number;
  encryptedSize: number;
  imageId: string;
  app: AppSummary | null;
}

export function runEncrypt(args: EncryptArgs): EncryptResult {
  if (!args.force) refuseExisting(args.output); // fail before any work
  const plain = readInputFile(args.input, 'input image');
  const key = aboutFile(args.key, () => loadEncryptionKey(readInputFile(args.key, 'key file')));
  let app: AppSummary | null = null;
  if (!args.raw) {
    if (hasEncryptedMagic(plain)) {
      throw new OtaError('INVALID_APP_IMAGE', `${args.input}: is already an encrypted image (magic cfb68807)`, {
        details: { file: args.input, check: 'magic', offset: 0 },
      });
    }
    const check = checkAppImage(plain);
    if (!check.ok) {
      throw new OtaError(
        'INVALID_APP_IMAGE',
        `${args.input}: ${check.error.message}; use --raw to encrypt a data partition image (SPIFFS, LittleFS, NVS)`,
        { details: { file: args.input, ...check.error.details } },
      );
    }
    app = appSummary(check.info);
  }
  const enc = encryptImage(plain, key);
  writeFileAtomic(args.output, enc, { force: args.force });
  return {
    input: args.input,
    output: args.output,
    scheme: key.scheme,
    key: key.description,
    plainSize: plain.length,
    encryptedSize: enc.length,
    imageId: imageId(enc.subarray(0, ENC_HEADER_SIZE)).toString('hex'),
    app,
  };
}

export function formatEncrypt(r: EncryptResult): string {
  return [
    `encrypted ${r.input} -> ${r.output}`,
    table([
      ['scheme', r.scheme === 'rsa' ? 'RSA-3072 key wrap + AES-256-GCM' : 'ECIES P-256 + AES-256-GCM'],
      ['key', r.key],
      ['input', `${r.plainSize} bytes${r.app ? ', ESP app image (verified)' : ' (raw, not checked)'}`],
      ['app', r.app ? `${r.app.projectName} ${r.app.version}, secure_version ${r.app.secureVersion}, ${r.app.chip} ${r.app.chipRevRange}` : undefined],
      ['output', `${r.encryptedSize} bytes (512-byte header + ${r.plainSize})`],
      ['image id', r.imageId],
    ], '  '),
  ].join('\n');
}

export const encryptCommand: CommandModule<object, EncryptArgs> = {
  command: 'encrypt <input>',
  describe: 'Encrypt a firmware image for pre-encrypted OTA (esp_encrypted_img format)',
  builder: (y) =>
    y
      .positional('input', { type: 'string', describe: 'plain ESP app image (.bin), or any file with --raw', demandOption: true })
      .option('key', {
        alias: 'k',
        type: 'string',
        demandOption: true,
        describe: 'device public key PEM: RSA-3072 or EC P-256 (a private PEM works too: its public half is used)',
      })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'encrypted output file' })
      .option('raw', { type: 'boolean', default: false, describe: 'encrypt a non-app file (SPIFFS, LittleFS, NVS image) without checking it' })
      .option('force', { type: 'boolean', default: false, describe: 'replace the output file if it exists' })
      .example('$0 encrypt build/app.bin --key rsa_pub_key.pem -o app.enc.bin', 'RSA scheme (the key decides the scheme)')
      .example('$0 encrypt build/app.bin --key device_pub_key.pem -o app.enc.bin', 'ECIES scheme (device public key)')
      .example('$0 encrypt storage.bin --raw --key rsa_pub_key.pem -o storage.enc.bin', 'a data partition image'),
  handler: (args) => {
    const r = runEncrypt(args);
    emit(args.json, r, () => formatEncrypt(r));
  },
};
