/**
 * All generated vector files, as { path relative to protocol/vectors: content }. Pure (reads only
 * committed inputs under protocol/vectors: images/), so the vectors test can compare it with the files.
 */
import { cobsVec, crcVec } from './basic.js';
import { framesVec } from './frames.js';
import { malformedVec } from './malformed.js';
import { sessionVecs } from './sessions.js';

/** Longest line any vector file may hold (SPEC §9), so a C reader can use a fixed buffer. */
export const MAX_LINE = 16384;

export function generateVectors(): Record<string, string> {
  const files: Record<string, string> = {
    'crc.vec': crcVec(),
    'cobs.vec': cobsVec(),
    'frames.vec': framesVec(),
    'malformed.vec': malformedVec(),
    ...sessionVecs(),
  };
  for (const [name, text] of Object.entries(files)) {
    const long = text.split('\n').findIndex((l) => l.length > MAX_LINE);
    if (long >= 0) throw new Error(`${name}:${long + 1}: line longer than ${MAX_LINE} characters`);
    if (!text.endsWith('\n')) files[name] = text + '\n';
  }
  return files;
}
