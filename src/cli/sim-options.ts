/**
 * The simulated ESP32 from the command line: the `--sim-*` options shared by `push`, `info`,
 * `confirm`, `rollback` (with `--port sim`), the shipped demo key (a clearly labelled TEST KEY) so a
 * newcomer needs no hardware, and the one place that turns such options into a SimDevice (also
 * used by `ota-uart simulate`).
 */
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import type { Clock } from '../clock.js';
import { createFlashImage, openFlashFile, SimDevice, type Flash, type SimFaults, type TimingModel } from '../device-sim/index.js';
import { OtaError } from '../errors.js';
import { loadDecryptionKey, parseChip } from '../image/index.js';
import { aboutFile, readInputFile } from './io.js';

export const DEMO_KEY_PATH = fileURLToPath(new URL('../../assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pem', import.meta.url));
export const DEMO_PUBLIC_KEY_PATH = fileURLToPath(new URL('../../assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pub.pem', import.meta.url));

export interface SimArgs {
  'sim-key'?: string;
  'sim-hmac-key'?: string;
  'sim-flash'?: string;
  'sim-chip'?: string;
  'sim-flash-timing'?: string;
  'sim-rollback'?: boolean;
}

export function withSimOptions<T>(y: Argv<T>): Argv<T & SimArgs> {
  return y
    .option('sim-key', { type: 'string', describe: 'device private key of the built-in simulator (--port sim); default: the shipped TEST key' })
    .option('sim-hmac-key', { type: 'string', describe: 'ECIES device HMAC key for the built-in simulator' })
    .option('sim-flash', { type: 'string', describe: 'flash image file of the built-in simulator (kept between runs; created if missing)' })
    .option('sim-chip', { type: 'string', default: 'esp32', describe: 'chip the built-in simulator pretends to be' })
    .option('sim-flash-timing', { type: 'string', choices: ['instant', 'esp32'], default: 'instant', describe: 'flash timing model of the built-in simulator' })
    .option('sim-rollback', { type: 'boolean', default: false, describe: 'the built-in simulator has app rollback enabled (new apps boot pending until confirmed)' })
    .group(['sim-key', 'sim-hmac-key', 'sim-flash', 'sim-chip', 'sim-flash-timing', 'sim-rollback'], 'Built-in simulator (--port sim):') as Argv<T & SimArgs>;
}

/** Everything that configures a simulated device, whichever command names the options. */
export interface SimDeviceArgs {
  keyPath?: string;
  hmacKeyPath?: string;
  flashPath?: string;
  chip?: string;
  chipRev?: number;
  flashTiming?: string;
  iramUart?: boolean;
  recordInterval?: number;
  maxFrame?: number;
  window?: number;
  rollback?: boolean;
  antiRollback?: boolean;
  efuseSecureVersion?: number;
  maxBaud?: number;
  baud: number;
  bootLog?: boolean;
  faults?: SimFaults;
}

/** The device and its flash (close the flash when done: it may be a file). */
export function buildSimDevice(a: SimDeviceArgs, clock: Clock): { device: SimDevice; flash: Flash } {
  const chipId = parseChip(a.chip ?? 'esp32');
  if (chipId === undefined) throw new OtaError('USAGE', `unknown chip "${a.chip}" (try esp32, esp32c3, esp32s3, ...)`);
  if (a.hmacKeyPath !== undefined && a.keyPath !== undefined) throw new OtaError('USAGE', 'give either a PEM key or an HMAC key for the simulated device, not both');
  const key = a.hmacKeyPath !== undefined
    ? aboutFile(a.hmacKeyPath, () => loadDecryptionKey(readInputFile(a.hmacKeyPath!, 'HMAC key file'), { hmac: true }))
    : aboutFile(a.keyPath ?? DEMO_KEY_PATH, () => loadDecryptionKey(readInputFile(a.keyPath ?? DEMO_KEY_PATH, 'key file')));
  const timing = a.flashTiming ?? 'instant';
  if (timing !== 'instant' && timing !== 'esp32') throw new OtaError('USAGE', `unknown flash timing "${timing}" (instant or esp32)`);
  let flash: Flash;
  try {
    flash = a.flashPath !== undefined ? openFlashFile(a.flashPath, { create: true, chipId }) : createFlashImage({ chipId });
  } catch (e) {
    const msg = (e as Error).message;
    throw new OtaError('IO_ERROR', msg.includes(String(a.flashPath)) ? msg : `cannot use flash file ${a.flashPath}: ${msg}`, { cause: e, details: { file: a.flashPath } });
  }
  try {
    const device = new SimDevice({
      flash, key, clock, chipId, chipRev: a.chipRev, flashTiming: timing as TimingModel, iramUart: a.iramUart, recordInterval: a.recordInterval,
      maxFrame: a.maxFrame, window: a.window, rollback: a.rollback, antiRollback: a.antiRollback, efuseSecureVersion: a.efuseSecureVersion, maxBaud: a.maxBaud,
      baud: a.baud, bootLog: a.bootLog, faults: a.faults,
    });
    return { device, flash };
  } catch (e) {
    flash.close();
    if (e instanceof TypeError) throw new OtaError('USAGE', `invalid option for the simulated device: ${e.message}`, { cause: e });
    const what = a.flashPath !== undefined ? `flash file ${a.flashPath}` : 'the simulated flash';
    const why = (e as Error).name === 'PartitionTableError' ? `no valid partition table at 0x8000 (${(e as Error).message})` : (e as Error).message;
    throw new OtaError('IO_ERROR', `cannot start the simulated device on ${what}: ${why}`, { cause: e, details: { file: a.flashPath } });
  }
}
