/**
 * `npm run faults [-- --quick] [--trials N] [--target sim|c] [--seed N] [--only REGEX] [--verbose]`
 *
 * The fault matrix: N trials a row of pushes under faults (bit errors, lost bytes, garbage, cut
 * links, a host killed, a device reset or powered off at random points, torn flash writes) and of
 * bad images, with the safety invariants checked on the flash itself after every trial (and, in
 * process, at every flash operation). Prints a table and, as its last line, a summary.
 * Exit status: 0 all rows as expected; 1 an invariant broke (an unverified image set to boot, the
 * running or boot slot changed by a failed push, a false success); 2 a row missed its expectation
 * (a push under faults that never completed, a bad image refused with the wrong code); 3 usage or
 * setup problem.
 *
 * --target sim: the simulated ESP32 in process (simulated time) plus `ota-uart simulate` in its own
 * process over socat ptys for the kill -9 rows. --target c: build/ota-uart-rx (the C receiver)
 * over socat ptys for every row (real time).
 */
import { makeImages } from './images.js';
import { makeBases, prepareSim, simRows, type Row } from './sim-rows.js';
import { summarize, type RowSummary } from './trial.js';
import { renderTable, summaryLine } from './table.js';
import { checkProcTools, procRows, prepareProc, type ProcContext } from './proc-rows.js';

/** Runs `f` the first time its result is asked for. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

interface Args {
  quick: boolean;
  /** 0: the default of each row (quick: 3 in process, 2 over ptys, 1 for stress rows; else 10). */
  trials: number;
  target: 'sim' | 'c';
  seed: number;
  only?: RegExp;
  verbose: boolean;
}

const USAGE = 'usage: npm run faults -- [--quick] [--trials N] [--target sim|c] [--seed N] [--only REGEX] [--verbose]';

function usage(msg: string): never {
  process.stderr.write(`faults: ${msg}\n${USAGE}\n`);
  process.exit(3);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, trials: 0, target: 'sim', seed: (Date.now() % 1e9) >>> 0, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const o = argv[i]!;
    const v = (): string => argv[++i] ?? usage(`${o} needs a value`);
    const int = (): number => {
      const s = v();
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) usage(`${o} needs a whole number, got ${s}`);
      return n;
    };
    if (o === '--quick') a.quick = true;
    else if (o === '--trials') a.trials = int();
    else if (o === '--seed') a.seed = int();
    else if (o === '--target') {
      const t = v();
      if (t !== 'sim' && t !== 'c') usage(`--target is sim or c, got ${t}`);
      a.target = t;
    } else if (o === '--only') a.only = new RegExp(v(), 'i');
    else if (o === '--verbose' || o === '-v') a.verbose = true;
    else if (o === '--help' || o === '-h') {
      process.stdout.write(`${USAGE}\n(see "Faults and power loss" in README.md)\n`);
      process.exit(0);
    }
    else usage(`unknown option ${o}`);
  }
  return a;
}

/** Seed of trial `i` of row `name`: the run's seed mixed with the row and trial (FNV-1a). */
export function trialSeed(seed: number, name: string, i: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (const ch of `${name}#${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const imageBytes = a.quick ? 128 * 1024 : 256 * 1024;
  const log = (s: string): void => { process.stdout.write(`${s}\n`); };
  const trials = a.trials ? `${a.trials} trials a row` : a.quick ? 'quick: 3 trials a row in process, 2 over ptys, 1 for stress and slow rows' : '10 trials a row';
  log(`faults: target ${a.target}, ${trials}, ${imageBytes / 1024} KiB image, seed ${a.seed}` +
    ` (replay: npm run faults -- --target ${a.target} --seed ${a.seed}${a.quick ? ' --quick' : ''}${a.trials ? ` --trials ${a.trials}` : ''})`);
  const images = makeImages(imageBytes);
  const bases = await makeBases(images);
  const rows: Row[] = [];
  if (a.target === 'sim') {
    const sim = once(() => prepareSim(images, bases));
    rows.push(...simRows(images, sim));
  }
  let proc: Promise<ProcContext> | undefined;
  if (checkProcTools(a.target, log)) {
    rows.push(...procRows(a.target, images, bases, () => (proc ??= prepareProc(a.target, images, bases))));
  } else if (a.target === 'c') {
    return 3;
  }
  const chosen = rows.filter((r) => !a.only || a.only.test(r.name));
  if (chosen.length === 0) usage(`--only ${a.only} matches no row (${rows.map((r) => r.name).join(', ')})`);

  const summaries: RowSummary[] = [];
  try {
    for (const r of chosen) {
      const results = [];
      const seeds = [];
      const n = a.trials || (!a.quick ? 10 : r.kind === 'stress' ? 1 : r.quickTrials ?? (r.clock === 'real' ? 2 : 3));
      for (let i = 0; i < n; i++) {
        const s = trialSeed(a.seed, r.name, i);
        seeds.push(s);
        const res = await r.run(s).catch((e: unknown) => {
          throw new SetupError(`${r.name}: ${(e as Error)?.message ?? String(e)}`);
        });
        results.push(res);
        if (a.verbose) log(`  ${r.name} #${i} (seed ${s}): ${res.code}, ${res.runs} run(s), ${(res.ms / 1000).toFixed(2)} s; ${res.notes.join('; ')}`);
      }
      const sum = summarize(r.name, r.kind, r.clock, results, seeds, r.expected);
      summaries.push(sum);
      log(`  ${r.name}: ${sum.completed}/${sum.trials} completed${r.kind === 'bad' ? `, ${sum.refusedOk} refused with ${r.expected}` : ''}` +
        `${sum.invariantsOk ? '' : ' -- INVARIANT BROKEN'}${!sum.ok && sum.invariantsOk ? ' -- FAIL' : ''}`);
      for (const f of sum.failures) log(`    ${f}`);
    }
  } finally {
    await (await proc?.catch(() => undefined))?.dispose();
  }
  log('');
  log(renderTable(summaries));
  log('(time: "sim" is simulated time of the in-process device at 921600 baud with ESP32 flash timing; "real" is wall time over ptys)');
  log(summaryLine(a.target, a.seed, summaries, (performance.now() - t0) / 1000));
  if (summaries.some((s) => !s.invariantsOk)) return 1;
  if (summaries.some((s) => !s.ok)) return 2;
  return 0;
}

/** The matrix could not run a row at all (a tool missing, a clean push failing): not a finding. */
class SetupError extends Error {}

if (process.argv[1] && /main\.[tj]s$/.test(process.argv[1])) {
  main().then((code) => process.exit(code), (e: unknown) => {
    process.stderr.write(`faults: ${e instanceof SetupError ? `cannot run ${e.message}` : ((e as Error)?.stack ?? String(e))}\n`);
    process.exit(3);
  });
}

