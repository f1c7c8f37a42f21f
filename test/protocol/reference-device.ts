/**
 * A simulated device set up from the `device` lines of a session file (SPEC §9.6), on the
 * reference factory flash of appendix A: shared by the session vectors and the property test that
 * checks the simulator's data phase against the vector generator's model.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { Flash, SimDevice } from '../../src/device-sim/index.js';
import { loadDecryptionKey } from '../../src/image/index.js';
import { parseLines, vectorsDir, type VecLine } from './vec-file.js';

const FLASH_SIZE = 4 * 1024 * 1024;
export const input = (p: string): Buffer => readFileSync(new URL(p, vectorsDir));

/** SPEC appendix A: 4 MiB of 0xFF, the partition table at 0x8000, the factory app at 0x10000. */
export function referenceFlash(): Buffer {
  const data = Buffer.alloc(FLASH_SIZE, 0xff);
  input('flash/partition-table.bin').copy(data, 0x8000);
  input('flash/factory-app.bin').copy(data, 0x10000);
  return data;
}

export interface Step { send: VecLine; expect: VecLine[] }

export function parseSession(text: string): { device: Record<string, string>; steps: Step[] } {
  const device: Record<string, string> = {};
  const steps: Step[] = [];
  for (const l of parseLines(text)) {
    if (l.kw === 'device') {
      if (steps.length > 0) throw new Error(`line ${l.n}: device line after the first h2d`);
      device[l.args[0]!] = l.args[1]!;
    } else if (l.kw === 'h2d') steps.push({ send: l, expect: [] });
    else if (l.kw === 'd2h') {
      if (steps.length === 0) throw new Error(`line ${l.n}: d2h before any h2d`);
      steps[steps.length - 1]!.expect.push(l);
    } else throw new Error(`line ${l.n}: unknown keyword ${l.kw}`);
  }
  return { device, steps };
}

export function makeDevice(cfg: Record<string, string>): SimDevice {
  const num = (k: string): number => {
    if (cfg[k] === undefined) throw new Error(`session file lacks "device ${k}"`);
    return Number(cfg[k]);
  };
  expect(cfg['flash']).toBe('factory');
  const flags = num('flags');
  expect(flags & ~(1 | 2 | 16), 'configuration flags are rollback (1), anti-rollback (2), IRAM-safe UART (16)').toBe(0);
  return new SimDevice({
    flash: new Flash({ data: referenceFlash() }),
    key: loadDecryptionKey(input(cfg['key']!)),
    clock: new FakeClock(),
    chipId: num('chip_id'),
    chipRev: num('chip_rev'),
    maxFrame: num('max_frame'),
    window: num('window'),
    maxBaud: num('max_baud'),
    rollback: (flags & 1) !== 0,
    antiRollback: (flags & 2) !== 0,
    iramUart: (flags & 16) !== 0,
    efuseSecureVersion: num('efuse_secure_version'),
    flashTiming: 'instant',
  });
}
