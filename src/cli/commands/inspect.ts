/**
 * `ota-uart inspect FILE [--key K | --hmac-key K] [--json]`: what a file is and whether it is good.
 * Encrypted file: header fields (and, with a key, tag + app verification, all in memory).
 * Plain app image: its fields and verification. The report is printed first; if anything failed,
 * the command then fails with that error, so scripts can rely on the exit status.
 */
import type { CommandModule } from 'yargs';
import { OtaError, toOtaError } from '../../errors.js';
import {
  checkEncryptedFileSize,
  decryptImage,
  ENC_HEADER_SIZE,
  guessScheme,
  hasEncryptedMagic,
  imageId,
  looksLikeAppImage,
  parseEncryptedHeader,
} from '../../image/index.js';
import { appReport, type AppReport } from '../app-report.js';
import { aboutFile, readInputFile } from '../io.js';
import { loadKeyArg, withDecryptionKeyOptions, type KeyArgs } from '../keys-arg.js';
import { emit, table } from '../output.js';

export interface InspectArgs extends KeyArgs {
  file: string;
  json?: boolean;
}

export interface InspectResult {
  file: string;
  size: number;
  kind: 'encrypted' | 'app';
  encrypted?: {
    binSize: number;
    iv: string;
    authTag: string;
    imageId: string;
    /** From the header alone: ECIES leaves key-block bytes 100..388 zero. */
    schemeGuess: 'rsa' | 'ecies';
    length: 'ok' | string;
  };
  decryption?: { key: string; scheme: 'rsa' | 'ecies'; tag: 'verified' | 'failed'; error?: string } | undefined;
  payload?: AppReport | { raw: true } | undefined;
  app?: AppReport | undefined;
  /** The first problem found, if any (also the command's error). */
  problem?: { code: string; message: string } | undefined;
}

export function runInspect(args: InspectArgs): { result: InspectResult; error?: OtaError } {
  const data = readInputFile(args.file, 'file');
  const key = loadKeyArg(args);
  if (hasEncryptedMagic(data)) return inspectEncrypted(args.file, data, key);
  if (looksLikeAppImage(data)) {
    if (key) throw new OtaError('USAGE', `${args.file} is a plain app image, not encrypted; --key/--hmac-key is not needed`);
    const app = appReport(data);
    const result: InspectResult = { file: args.file, size: data.length, kind: 'app', app };
    if (app.verified) return { result };
    const error = new OtaError('INVALID_APP_IMAGE', `${args.file}: ${app.problem ?? 'invalid app image'}`, {
      details: { file: args.file, check: app.check, offset: app.offset },
    });
    return { result: { ...result, problem: { code: error.code, message: error.message } }, error };
  }
  throw new OtaError(
    'NOT_ENCRYPTED_IMAGE',
    `${args.file}: neither an encrypted image (magic cf b6 88 07) nor an ESP app image (magic e9); first bytes ${data.subarray(0, 4).toString('hex')}`,
    { details: { file: args.file, check: 'magic', offset: 0 } },
  );
}

function inspectEncrypted(file: string, data: Buffer, key: ReturnType<typeof loadKeyArg>): { result: InspectResult; error?: OtaError } {
  const header = aboutFile(file, () => parseEncryptedHeader(data));
  let lengthError: OtaError | undefined;
  try {
    aboutFile(file, () => checkEncryptedFileSize(data.length, header));
  } catch (e) {
    lengthError = toOtaError(e);
  }
  const result: InspectResult = {
    file,
    size: data.length,
    kind: 'encrypted',
    encrypted: {
      binSize: header.binSize,
      iv: header.iv.toString('hex'),
      authTag: header.authTag.toString('hex'),
      imageId: imageId(header.raw).toString('hex'),
      schemeGuess: guessScheme(header),
      length: lengthError ? lengthError.message : 'ok',
    },
  };
  let error = lengthError;
  if (key && !lengthError) {
    try {
      const plain = aboutFile(file, () => decryptImage(data, key));
      result.decryption = { key: key.description, scheme: key.scheme, tag: 'verified' };
      result.payload = looksLikeAppImage(plain) ? appReport(plain) : { raw: true };
      if ('verified' in result.payload && !result.payload.verified) {
        error = new OtaError('INVALID_APP_IMAGE', `${file}: decrypted payload: ${result.payload.problem ?? 'invalid app image'}`, {
          details: { file, check: result.payload.check, offset: result.payload.offset },
        });
      }
    } catch (e) {
      error = toOtaError(e);
      result.decryption = { key: key.description, scheme: key.scheme, tag: 'failed', error: error.message };
    }
  }
  if (error) result.problem = { code: error.code, message: error.message };
  return error ? { result, error } : { result };
}

export function formatInspect(r: InspectResult): string {
  const lines: string[] = [];
  if (r.kind === 'app') {
    lines.push(`${r.file}: plain ESP app image, ${r.size} bytes`);
    if (r.app) lines.push(appTable(r.app));
    return lines.join('\n');
  }
  const e = r.encrypted!;
  lines.push(`${r.file}: encrypted image (esp_encrypted_img), ${r.size} bytes`);
  lines.push(
    table([
      ['bin_size', `${e.binSize} bytes`],
      ['length', e.length === 'ok' ? `ok (512 + ${e.binSize})` : e.length],
      ['iv', e.iv],
      ['auth tag', e.authTag],
      ['image id', e.imageId],
      ['scheme', r.decryption ? `${r.decryption.scheme} (from the key)` : `${e.schemeGuess} (guessed from the header; the key decides)`],
    ], '  '),
  );
  if (!r.decryption) {
    if (e.length === 'ok') lines.push('  (give --key or --hmac-key to check the tag and the app inside)');
    return lines.join('\n');
  }
  lines.push(table([['key', r.decryption.key], ['tag', r.decryption.tag === 'verified' ? 'verified' : `FAILED: ${r.decryption.error ?? ''}`]], '  '));
  if (r.payload && 'raw' in r.payload) lines.push('  payload: not an ESP app image (raw data, e.g. a data partition)');
  else if (r.payload) lines.push('  payload: ESP app image', appTable(r.payload));
  return lines.join('\n');
}

function appTable(a: AppReport): string {
  const s = a.app;
  return table([
    ['verification', a.verified ? 'verified (header, segments, checksum, SHA-256)' : `FAILED: ${a.problem ?? ''}`],
    ['version', s?.version],
    ['project', s?.projectName],
    ['secure_version', s?.secureVersion],
    ['chip', s ? `${s.chip} (id ${s.chipId}), revision ${s.chipRevRange}` : undefined],
    ['idf', s?.idfVer],
    ['built', s ? `${s.date} ${s.time}`.trim() : undefined],
    ['elf sha256', s?.elfSha256],
    ['segments', s?.segments],
    ['sha256', s?.sha256],
  ], '    ');
}


export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <file>',
  describe: 'Show what an encrypted or plain app image contains, and verify it',
  builder: (y) =>
    withDecryptionKeyOptions(y.positional('file', { type: 'string', demandOption: true, describe: 'encrypted image or plain app image' }))
      .example('$0 inspect app.enc.bin', 'header only: size, IV, tag, image id')
      .example('$0 inspect app.enc.bin --key rsa_priv_key.pem', 'also decrypt in memory: tag, app verification, version')
      .example('$0 inspect app.enc.bin --hmac-key device_hmac_key.bin --json', 'ECIES, machine-readable')
      .example('$0 inspect build/app.bin', 'a plain app image: header, description, checksum, SHA-256'),
  handler: (args) => {
    const { result, error } = runInspect(args);
    emit(args.json, result, () => formatInspect(result));
    if (error) throw error;
  },
};
