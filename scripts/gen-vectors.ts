/**
 * Generates protocol/vectors/ (SPEC §9) from scripts/vectors/*.ts.
 *
 *   npx tsx scripts/gen-vectors.ts           check: exit 1 and name every file that differs
 *   npx tsx scripts/gen-vectors.ts --write   rewrite the files that differ, and name them
 *
 * The default never writes, so regenerating can never silently change committed vectors; the
 * vectors test runs the same comparison (test/protocol/vectors.test.ts).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateVectors } from './vectors/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'protocol', 'vectors');
const write = process.argv.includes('--write');
let differ = 0;
for (const [name, text] of Object.entries(generateVectors())) {
  const path = join(root, name);
  const old = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (old === text) continue;
  differ++;
  if (write) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    process.stdout.write(`wrote ${name}${old === undefined ? ' (new)' : ' (changed)'}\n`);
  } else {
    process.stdout.write(`${name}: ${old === undefined ? 'missing' : 'differs from the generator'}\n`);
  }
}
if (!write && differ > 0) {
  process.stdout.write(`${differ} vector file(s) out of date; review, then run with --write\n`);
  process.exitCode = 1;
} else if (differ === 0) {
  process.stdout.write('vectors up to date\n');
}
