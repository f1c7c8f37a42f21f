/**
 * The IMAGE argument of push and station: read once, checked before any port is opened, so a
 * wrong file is one clear line (naming the file) and never a device refusal on every port.
 */
import { OtaError } from '../errors.js';
import { checkEncryptedFileSize, ENC_HEADER_SIZE, imageId, looksLikeAppImage, parseEncryptedHeader } from '../image/index.js';
import { aboutFile, readInputFile } from './io.js';

export interface ImageArg {
  path: string;
  bytes: Buffer;
  /** SHA-256 of the 512-byte header, hex: the image id the device resumes by. */
  id: string;
}

export function loadImageArg(path: string): ImageArg {
  const bytes = readInputFile(path, 'encrypted image');
  aboutFile(path, () => {
    try {
      const header = parseEncryptedHeader(bytes);
      checkEncryptedFileSize(bytes.length, header);
      if (header.binSize === 0) throw new OtaError('NOT_ENCRYPTED_IMAGE', 'the encrypted image holds no data (bin_size 0)');
    } catch (e) {
      if (e instanceof OtaError && e.code === 'NOT_ENCRYPTED_IMAGE' && looksLikeAppImage(bytes)) {
        throw new OtaError(e.code, `${e.message}; this is a plain (unencrypted) ESP app image: encrypt it first with \`ota-uart encrypt\``, { details: e.details });
      }
      throw e;
    }
  });
  return { path, bytes, id: imageId(bytes.subarray(0, ENC_HEADER_SIZE)).toString('hex') };
}
