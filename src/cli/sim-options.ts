/**
 * The `--port sim` device: options shared by `push`, `info`, `confirm`, `rollback` and `simulate`,
 * and the shipped demo key (a clearly labelled TEST KEY) so a newcomer needs no hardware.
 */
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';

export const DEMO_KEY_PATH = fileURLToPath(new URL('../../assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pem', import.meta.url));
export const DEMO_PUBLIC_KEY_PATH = fileURLToPath(new URL('../../assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pub.pem', import.meta.url));

export interface SimArgs {
  'sim-key'?: string;
  'sim-hmac-key'?: string;
  'sim-flash'?: string;
  'sim-chip'?: string;
  'sim-flash-timing'?: string;
}

export function withSimOptions<T>(y: Argv<T>): Argv<T & SimArgs> {
  return y
    .option('sim-key', { type: 'string', describe: 'device private key of the built-in simulator (--port sim); default: the shipped TEST key' })
    .option('sim-hmac-key', { type: 'string', describe: 'ECIES device HMAC key for the built-in simulator' })
    .option('sim-flash', { type: 'string', describe: 'flash image file of the built-in simulator (kept between runs; created if missing)' })
    .option('sim-chip', { type: 'string', default: 'esp32', describe: 'chip the built-in simulator pretends to be' })
    .option('sim-flash-timing', { type: 'string', choices: ['instant', 'esp32'], default: 'instant', describe: 'flash timing model of the built-in simulator' })
    .group(['sim-key', 'sim-hmac-key', 'sim-flash', 'sim-chip', 'sim-flash-timing'], 'Built-in simulator (--port sim):') as Argv<T & SimArgs>;
}
