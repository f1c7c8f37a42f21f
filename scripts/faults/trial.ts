/**
 * What one trial of a row reports, and how a row's trials add up to a line of the table.
 */

export interface TrialResult {
  /** The pushed image ends up set to boot (read from the flash, not from the host's answer). */
  completed: boolean;
  /** The push ended with the code this row expects (bad-image rows). */
  refusedOk: boolean;
  /** The code the last push ended with ('OK' on success). */
  code: string;
  /** otadata selected a slot holding neither the previous image nor the pushed plaintext. */
  unverifiedBoot: number;
  /** Writes to the running / selected slot, or a failed push that changed what boots. */
  slotChanges: number;
  /** A push reported success but the flash does not boot the pushed image. */
  falseSuccess: number;
  retries: number;
  /** Milliseconds from the first push to the end (simulated or real, see the row's clock). */
  ms: number;
  /** How many push runs the trial needed (a failed push is run again, as a user would). */
  runs: number;
  /** Highest offset a push of the trial resumed from (0: every BEGIN started at 512). */
  resumeOffset: number;
  /**
   * A push of a valid image under faults ended with a code that is neither success nor a transient
   * failure (timeout, lost link, no device) nor, once the image runs, DOWNGRADE: a wrong answer.
   */
  wrongCode?: string;
  /** Flash erases and programs during the trial (in-process trials). */
  flashOps?: number;
  /** Findings and what happened, for the report when something is wrong. */
  notes: string[];
}

/** fault: every trial must complete; stress: only the invariants count; bad: refused with the expected code. */
export type RowKind = 'fault' | 'stress' | 'bad';

export interface RowSummary {
  name: string;
  /** The code a bad-image row expects. */
  expected?: string;
  kind: RowKind;
  clock: 'sim' | 'real';
  trials: number;
  completed: number;
  refusedOk: number;
  unverifiedBoot: number;
  slotChanges: number;
  falseSuccess: number;
  meanRetries: number;
  meanSeconds: number;
  /** Trials in which a push resumed (a BEGIN answered with an offset above 512). */
  resumed: number;
  codes: Record<string, number>;
  /** The row met its expectation (every trial completed / was refused with the right code). */
  ok: boolean;
  /** Invariants held (no unverified boot, no slot change, no false success). */
  invariantsOk: boolean;
  failures: string[];
}

const TRANSIENT = new Set(['TIMEOUT', 'LINK_LOST', 'NO_DEVICE', 'KILLED', 'OK']);

/**
 * The wrong answer among the codes a trial's pushes of a valid image ended with, if any. Only a
 * push run again after the image was installed (by an earlier run that lost its answer) may say
 * DOWNGRADE: the push that installed it must report success.
 */
export function wrongAnswer(codes: string[], installed: boolean): string | undefined {
  return codes.find((c, i) => !TRANSIENT.has(c) && !(installed && c === 'DOWNGRADE' && i > 0));
}

export function summarize(
  name: string, kind: RowKind, clock: 'sim' | 'real', results: TrialResult[], seeds: number[], expected?: string,
): RowSummary {
  const n = results.length;
  const sum = (f: (r: TrialResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const codes: Record<string, number> = {};
  for (const r of results) codes[r.code] = (codes[r.code] ?? 0) + 1;
  const completed = results.filter((r) => r.completed).length;
  const refusedOk = results.filter((r) => r.refusedOk).length;
  const s = {
    unverifiedBoot: sum((r) => r.unverifiedBoot),
    slotChanges: sum((r) => r.slotChanges),
    falseSuccess: sum((r) => r.falseSuccess),
  };
  const failures: string[] = [];
  results.forEach((r, i) => {
    const bad = r.unverifiedBoot > 0 || r.slotChanges > 0 || r.falseSuccess > 0 || (kind === 'fault' && (!r.completed || r.wrongCode !== undefined)) || (kind === 'bad' && !r.refusedOk);
    if (bad) failures.push(`trial ${i} (seed ${seeds[i]}): ${r.code}${r.wrongCode ? ` (wrong answer: ${r.wrongCode})` : ''}; ${r.notes.join('; ')}`);
  });
  return {
    name, expected, kind, clock, trials: n, completed, refusedOk, ...s,
    meanRetries: n ? sum((r) => r.retries) / n : 0,
    meanSeconds: n ? sum((r) => r.ms) / n / 1000 : 0,
    resumed: results.filter((r) => r.resumeOffset > 0).length,
    codes,
    ok: kind === 'fault' ? completed === n && results.every((r) => r.wrongCode === undefined) : kind === 'bad' ? refusedOk === n : true,
    invariantsOk: s.unverifiedBoot === 0 && s.slotChanges === 0 && s.falseSuccess === 0,
    failures,
  };
}
