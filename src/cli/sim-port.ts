/**
 * `--port sim`: placeholder until the simulated device's protocol engine lands (issue 3).
 * It refuses clearly instead of pretending to work.
 */
import { OtaError } from '../errors.js';
import type { PortHandle } from './port-opener.js';
import type { SimArgs } from './sim-options.js';

export async function createSimPort(_args: SimArgs, _initialBaud: number): Promise<PortHandle> {
  throw new OtaError('USAGE', 'the built-in simulated device (--port sim) is not available in this build yet');
}
