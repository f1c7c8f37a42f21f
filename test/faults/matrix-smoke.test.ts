/**
 * A tiny run of the fault matrix (the full one is `npm run faults`): one trial of a few in-process
 * rows against the simulated ESP32, the table and its summary line, and the row bookkeeping that
 * decides the exit status (a broken invariant, a wrong answer, a bad image refused with another code).
 */
import { describe, expect, it } from 'vitest';
import { makeImages } from '../../scripts/faults/images.js';
import { trialSeed } from '../../scripts/faults/main.js';
import { makeBases, prepareSim, simRows, type SimContext } from '../../scripts/faults/sim-rows.js';
import { renderTable, summaryLine } from '../../scripts/faults/table.js';
import { summarize, wrongAnswer, type TrialResult } from '../../scripts/faults/trial.js';

const images = makeImages(48 * 1024);

describe('fault matrix smoke', () => {
  it('one trial each of clean, a power cut, a cut in the otadata write and a tampered image', async () => {
    const bases = await makeBases(images);
    let ctx: Promise<SimContext> | undefined;
    const rows = simRows(images, () => (ctx ??= prepareSim(images, bases)));
    const names = ['clean', 'power cut at random time', 'cut in otadata write', 'bad: tampered'];
    const picked = rows.filter((r) => names.includes(r.name));
    expect(picked.map((r) => r.name)).toEqual(names);
    const summaries = [];
    for (const r of picked) {
      const seed = trialSeed(1, r.name, 0);
      const res = await r.run(seed);
      summaries.push(summarize(r.name, r.kind, r.clock, [res], [seed], r.expected));
    }
    for (const s of summaries) expect(s.failures, s.name).toEqual([]);
    expect(summaries.map((s) => [s.completed, s.refusedOk])).toEqual([[1, 0], [1, 0], [1, 0], [0, 1]]);
    const table = renderTable(summaries);
    expect(table.split('\n')).toHaveLength(2 + names.length);
    expect(table).toMatch(/bad: tampered .* 1 AUTH_FAILED/);
    expect(summaryLine('sim', 1, summaries, 3)).toMatch(/^faults PASS: target sim, 4 rows, 4 trials, unverified boots 0, slot changes 0; seed 1; 3 s$/);
  }, 120_000);
});

describe('row bookkeeping', () => {
  const trial = (o: Partial<TrialResult>): TrialResult => ({
    completed: true, refusedOk: false, code: 'OK', unverifiedBoot: 0, slotChanges: 0, falseSuccess: 0,
    retries: 0, ms: 1000, runs: 1, resumeOffset: 0, notes: [], ...o,
  });

  it('an unverified boot breaks the invariants, and the summary says so', () => {
    const s = summarize('power cut', 'fault', 'sim', [trial({}), trial({ unverifiedBoot: 1, notes: ['ota_0 holds a partial image'] })], [1, 2]);
    expect(s.invariantsOk).toBe(false);
    expect(s.failures).toEqual(['trial 1 (seed 2): OK; ota_0 holds a partial image']);
    expect(summaryLine('sim', 9, [s], 1)).toMatch(/^faults INVARIANT BROKEN: .* unverified boots 1, .* failing rows: power cut;/);
  });

  it('a fault row fails when a trial never completes or gives a wrong answer; a stress row only on invariants', () => {
    expect(summarize('x', 'fault', 'sim', [trial({ completed: false, code: 'TIMEOUT' })], [1]).ok).toBe(false);
    expect(summarize('x', 'fault', 'sim', [trial({ wrongCode: 'NOT_APP' })], [1]).ok).toBe(false);
    expect(summarize('x', 'stress', 'sim', [trial({ completed: false, code: 'TIMEOUT' })], [1]).ok).toBe(true);
    expect(summarize('x', 'stress', 'sim', [trial({ completed: false, slotChanges: 1 })], [1]).invariantsOk).toBe(false);
  });

  it('a bad image refused with another code fails its row', () => {
    const s = summarize('bad: tampered', 'bad', 'sim', [trial({ completed: false, code: 'TIMEOUT' })], [1], 'AUTH_FAILED');
    expect(s.ok).toBe(false);
    expect(renderTable([s])).toMatch(/0 AUTH_FAILED .* FAIL$/m);
  });

  it('DOWNGRADE is a wrong answer from the push that installed the image, not from a later one', () => {
    expect(wrongAnswer(['DOWNGRADE'], true)).toBe('DOWNGRADE');
    expect(wrongAnswer(['TIMEOUT', 'DOWNGRADE'], true)).toBeUndefined();
    expect(wrongAnswer(['TIMEOUT', 'DOWNGRADE'], false)).toBe('DOWNGRADE');
    expect(wrongAnswer(['NOT_APP'], true)).toBe('NOT_APP');
    expect(wrongAnswer(['KILLED', 'OK'], true)).toBeUndefined();
  });
});
