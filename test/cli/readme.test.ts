import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_STATUS } from '../../src/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('"Exit codes" lists every error code with its exit status, and nothing else', () => {
    const section = readme.slice(readme.indexOf('## Exit codes'));
    const rows = [...section.matchAll(/^\| (\d+) \| ([A-Z_]+) \|/gm)].map((m) => [m[2]!, Number(m[1])] as const);
    expect(Object.fromEntries(rows)).toEqual(EXIT_STATUS);
  });

  it('starts with npm ci && npm run demo', () => {
    const firstCommand = readme.match(/```sh\n([^\n]*)/)?.[1] ?? '';
    expect(firstCommand).toMatch(/^npm ci && npm run demo/);
  });
});
