/**
 * `--port sim`: the built-in simulated ESP32, in this process, behind a paced in-memory UART. The
 * device lives as long as the command; `open()` plugs in a new cable (the session calls it again to
 * reconnect), so the device keeps its RAM session across reconnects like a real board.
 */
import { systemClock } from '../clock.js';
import { connectSim, type SimConnection } from '../device-sim/index.js';
import type { PortHandle } from './port-opener.js';
import { buildSimDevice, type SimArgs } from './sim-options.js';

export async function createSimPort(args: SimArgs, initialBaud: number): Promise<PortHandle> {
  const { device, flash } = buildSimDevice({
    keyPath: args['sim-key'], hmacKeyPath: args['sim-hmac-key'], flashPath: args['sim-flash'], chip: args['sim-chip'],
    flashTiming: args['sim-flash-timing'], rollback: args['sim-rollback'], baud: initialBaud,
  }, systemClock);
  let conn: SimConnection | undefined;
  return {
    label: 'sim',
    open: async () => {
      await conn?.close();
      conn = connectSim(device, { clock: systemClock });
      return conn.host;
    },
    dispose: async () => {
      await conn?.close();
      conn = undefined;
      flash.close();
    },
  };
}
