/**
 * The in-process rows of the matrix for the simulated ESP32 (simulated time, FakeClock): link
 * faults in both directions, cuts, power cuts at random times, offsets and flash operations (torn
 * writes, the otadata write, the resume record), a stray duplicate BEGIN, and the bad images.
 * Each trial draws its own device configuration (IRAM-safe UART or not, window, frame size, app
 * rollback) and base flash (factory only, or an older update already running from ota_0) from its
 * seed.
 */
import { createFlashImage, connectSim, SimDevice, type SimLinkWireOptions } from '../../src/device-sim/index.js';
import { FakeClock } from '../../src/clock.js';
import { push } from '../../src/session/index.js';
import { seededRng } from '../../src/transport/rng.js';
import type { ImageSet } from './images.js';
import { simTrial, INITIAL_BAUD, type SimTrialOptions } from './sim-trial.js';
import type { RowKind, TrialResult } from './trial.js';
import type { TearMode } from './flash-monitor.js';

export interface Row {
  name: string;
  kind: RowKind;
  clock: 'sim' | 'real';
  /** The code a bad-image row must end with. */
  expected?: string;
  /** Trials under --quick when not the default (a slow row). */
  quickTrials?: number;
  run(seed: number): Promise<TrialResult>;
}

export interface SimContext {
  images: ImageSet;
  bases: { factory: Buffer; updated: Buffer };
  /** A clean push: its simulated duration and number of flash operations. */
  cleanMs: number;
  cleanOps: number;
}

const OTADATA: [number, number] = [0xd000, 0xf000];
const NVS_RECORD: [number, number] = [0x9000, 0xa000];

/**
 * The two flashes trials start from: the factory layout, and the same with an older update (1.5.0)
 * installed in ota_0 and set to boot, so that the update goes to ota_1 and ota_0 must stay intact.
 */
export async function makeBases(images: ImageSet): Promise<{ factory: Buffer; updated: Buffer }> {
  const factory = createFlashImage().snapshot();
  const clock = new FakeClock();
  const flash = createFlashImage();
  const device = new SimDevice({ flash, key: images.deviceKey, clock });
  const c = connectSim(device, { clock, link: { pace: false } });
  const p = push({ image: images.older.enc, open: async () => c.host, clock });
  let done = false;
  p.finally(() => { done = true; }).catch(() => {});
  while (!done) await clock.advance(10);
  await p;
  return { factory, updated: flash.snapshot() };
}

/** Builds the base flashes and measures a clean push (for cut times and op counts). */
export async function prepareSim(images: ImageSet, bases: { factory: Buffer; updated: Buffer }): Promise<SimContext> {
  const ctx: SimContext = { images, bases, cleanMs: 0, cleanOps: 0 };
  const r = await simTrial(trialBase(ctx, seededRng(1), {}));
  if (!r.completed) throw new Error(`the clean calibration push failed: ${r.code} ${r.notes.join('; ')}`);
  ctx.cleanMs = r.ms;
  ctx.cleanOps = r.flashOps ?? 0;
  return ctx;
}

function pick<T>(rng: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)]!;
}

/** A trial's device configuration and base flash, from its rng. */
function trialBase(ctx: SimContext, rng: () => number, extra: Partial<SimTrialOptions>): SimTrialOptions {
  const iramUart = rng() < 0.5;
  const window = pick(rng, [8192, 16384]);
  const maxFrame = pick(rng, [1040, 4112]);
  const rollback = rng() < 0.25;
  const base = rng() < 0.5 ? ctx.bases.factory : ctx.bases.updated;
  return {
    image: ctx.images.update, base, key: ctx.images.deviceKey,
    device: { iramUart, window, maxFrame, rollback, ...extra.device },
    ...extra,
  };
}

const bothWays = (o: SimLinkWireOptions['hostToDevice'], rng: () => number): SimLinkWireOptions => ({
  hostToDevice: { ...o, rng }, deviceToHost: { ...o, rng },
});

/** The rows; `context` prepares (once) what they share, when the first of them runs. */
export function simRows(images: ImageSet, context: () => Promise<SimContext>): Row[] {
  const total = images.update.enc.length;
  const row = (name: string, kind: RowKind, make: (rng: () => number, ctx: SimContext) => Partial<SimTrialOptions>): Row => ({
    name, kind, clock: 'sim',
    run: async (seed) => {
      const ctx = await context();
      const rng = seededRng(seed);
      return simTrial(trialBase(ctx, rng, make(rng, ctx)));
    },
  });
  const rows: Row[] = [
    row('clean', 'fault', () => ({})),
    row('ber 1e-6', 'fault', (rng) => ({ link: () => bothWays({ ber: 1e-6 }, rng) })),
    row('ber 1e-5', 'fault', (rng) => ({ link: () => bothWays({ ber: 1e-5 }, rng) })),
    row('ber 1e-4', 'fault', (rng) => ({ link: () => bothWays({ ber: 1e-4 }, rng) })),
    // 1% of bytes lost: a 521-byte BEGIN gets through once in ~190 tries; protocol v1 cannot
    // complete at this loss rate, so only the invariants count (see README).
    row('drop 1% bytes', 'stress', (rng) => ({ link: () => bothWays({ dropRate: 0.01 }, rng) })),
    row('garbage bursts', 'fault', (rng) => ({
      link: () => bothWays({ garbage: { everyBytes: 2048 + Math.floor(rng() * 8192), length: 8 + Math.floor(rng() * 120) } }, rng),
      device: { faults: { garbageEveryBytes: 4096 + Math.floor(rng() * 16384), seed: Math.floor(rng() * 1e9) } },
    })),
    row('link cut (port gone)', 'fault', (rng) => ({
      // The cable (USB) is cut after a random number of host bytes; the port comes back at once.
      link: (n) => (n === 0 ? { hostToDevice: { disconnectAfterBytes: Math.floor(rng() * total) } } : undefined),
    })),
    row('device reset at offset', 'fault', (rng) => ({
      device: { faults: { resetAtOffset: 512 + Math.floor(rng() * (total - 512)) } },
    })),
    row('power cut at random time', 'fault', (rng, ctx) => ({
      cutsAtMs: Array.from({ length: 1 + Math.floor(rng() * 2) }, () => rng() * ctx.cleanMs * 1.1),
    })),
    row('torn flash op', 'fault', (rng, ctx) => ({
      tear: { at: Math.floor(rng() * ctx.cleanOps), mode: pick<TearMode>(rng, ['before', 'partial', 'after']), fraction: rng() },
    })),
    row('cut in otadata write', 'fault', (rng) => ({
      // otadata gets one erase and one program at END: cut before, inside or after either.
      tear: { at: Math.floor(rng() * 2), mode: pick<TearMode>(rng, ['before', 'partial', 'after']), fraction: rng(), range: OTADATA },
    })),
    row('cut in record write', 'fault', (rng) => {
      // One record per chunk written; the 128-entry log sector is erased when full (about every
      // 128 KiB of image) and when a new image begins over an old record.
      const erase = rng() < 0.5;
      return {
        tear: {
          // (one record per KiB; erases: when full, and the clear at END)
          at: Math.floor(rng() * (erase ? 1 + Math.ceil(total / (128 * 1024)) : total / 1024)), kind: erase ? 'erase' : 'program', range: NVS_RECORD,
          mode: pick<TearMode>(rng, ['before', 'partial', 'after']), fraction: rng(),
        },
      };
    }),
    row('duplicate BEGIN', 'fault', (rng, ctx) => ({ duplicateBeginAtMs: rng() * ctx.cleanMs })),
  ];
  for (const img of images.bad) {
    rows.push({ ...row(`bad: ${img.name}`, 'bad', () => ({ image: img, maxRuns: 1 })), expected: img.code });
  }
  return rows;
}

export { INITIAL_BAUD };
