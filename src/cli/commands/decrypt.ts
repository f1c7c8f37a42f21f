/** `ota-uart decrypt IN --key PRIV.pem | --hmac-key KEY.bin -o OUT`: writes nothing unless the tag verified. */
import type { CommandModule } from 'yargs';
import { OtaError } from '../../errors.js';
import { decryptImage, ENC_HEADER_SIZE, imageId, looksLikeAppImage } from '../../image/index.js';
import { appOneLine, appReport, type AppReport } from '../app-report.js';
import { aboutFile, readInputFile, refuseExisting, writeFileAtomic } from '../io.js';
import { requireKeyArg, withDecryptionKeyOptions, type KeyArgs } from '../keys-arg.js';
import { emit, table } from '../output.js';

export interface DecryptArgs extends KeyArgs {
  input: string;
  output: string;
  force?: boolean;
  json?: boolean;
}

export interface DecryptResult {
  input: string;
  output: string;
  scheme: 'rsa' | 'ecies';
  key: string;
  size: number;
  imageId: string;
  tag: 'verified';
  /** The payload as an app image: its summary and verification, or null for raw data. */
  app: AppReport | null;
}

export function runDecrypt(args: DecryptArgs): DecryptResult {
  if (!args.force) refuseExisting(args.output);
  const key = requireKeyArg(args);
  const file = readInputFile(args.input, 'encrypted image');
  // decryptImage returns only after the length and the GCM tag checked out; only then do we write.
  const plain = aboutFile(args.input, () => decryptImage(file, key));
  writeFileAtomic(args.output, plain, { force: args.force });
  // Informational: the tag proves the file is what the build server encrypted, app or raw data.
  const app = looksLikeAppImage(plain) ? appReport(plain) : null;
  return {
    input: args.input,
    output: args.output,
    scheme: key.scheme,
    key: key.description,
    size: plain.length,
    imageId: imageId(file.subarray(0, ENC_HEADER_SIZE)).toString('hex'),
    tag: 'verified',
    app,
  };
}

export function formatDecrypt(r: DecryptResult): string {
  const appLine = r.app ? appOneLine(r.app) : 'not an ESP app image (raw data)';
  return [
    `decrypted ${r.input} -> ${r.output}`,
    table([
      ['key', r.key],
      ['tag', 'verified (AES-256-GCM)'],
      ['size', `${r.size} bytes`],
      ['app', appLine],
    ], '  '),
  ].join('\n');
}

export const decryptCommand: CommandModule<object, DecryptArgs> = {
  command: 'decrypt <input>',
  describe: 'Decrypt an esp_encrypted_img file (output written only if the GCM tag verifies)',
  builder: (y) =>
    withDecryptionKeyOptions(
      y.positional('input', { type: 'string', demandOption: true, describe: 'encrypted image' })
        .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'plaintext output file' })
        .option('force', { type: 'boolean', default: false, describe: 'replace the output file if it exists' }),
    )
      .check((a) => {
        // An OtaError, not a plain Error: main's fail handler rethrows errors from checks as they are.
        if (a.key === undefined && a['hmac-key'] === undefined) {
          throw new OtaError('USAGE', "give the key: --key PRIVATE.pem or --hmac-key KEY.bin (see 'ota-uart decrypt --help')");
        }
        return true;
      })
      .example('$0 decrypt app.enc.bin --key rsa_priv_key.pem -o app.bin', 'RSA scheme')
      .example('$0 decrypt app.enc.bin --hmac-key device_hmac_key.bin -o app.bin', 'ECIES scheme, with the device HMAC key')
      .example('$0 decrypt app.enc.bin --key ecc_private.pem -o app.bin', 'ECIES scheme, with a P-256 private PEM'),
  handler: (args) => {
    const r = runDecrypt(args);
    emit(args.json, r, () => formatDecrypt(r));
  },
};
