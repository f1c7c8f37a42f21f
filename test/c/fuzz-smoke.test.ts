/**
 * A short libFuzzer pass over the C receiver's otarx_feed (scripts/fuzz-c.sh), as CI runs it: no
 * crash, hang or sanitizer report. Longer runs: `scripts/fuzz-c.sh 600`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './rx-helpers.js';

describe('C receiver fuzzing (short pass)', () => {
  it('runs the libFuzzer harness for 10 s without a finding', () => {
    const r = spawnSync('bash', [join(ROOT, 'scripts/fuzz-c.sh'), '10'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`scripts/fuzz-c.sh failed (exit ${r.status}):\n${out.slice(-3000)}`);
    const runs = Number(/Done (\d+) runs/.exec(out)?.[1]);
    expect(runs).toBeGreaterThan(100);
    expect(out).toMatch(/no crash, hang or sanitizer report/);
  }, 300_000);
});
