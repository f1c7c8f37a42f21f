/**
 * `--port`: a serial device path, or `sim` for the built-in simulated ESP32 (in-process, over an
 * in-memory UART paced at the real baud rate). Commands get an `open()` factory, which the session
 * calls again to reconnect, and a `dispose()` for the end of the command.
 */
import type { Argv } from 'yargs';
import type { Transport } from '../transport/transport.js';
import { openSerialTransport } from '../transport/serial.js';
import { createSimPort } from './sim-port.js';
import { type SimArgs, withSimOptions } from './sim-options.js';

export interface PortArgs extends SimArgs {
  port: string;
  baud?: number;
  'initial-baud'?: number;
}

export interface PortHandle {
  open: () => Promise<Transport>;
  label: string;
  dispose: () => Promise<void>;
}

export const DEFAULT_BAUD = 921600;
export const DEFAULT_INITIAL_BAUD = 115200;

export function withPortOptions<T>(y: Argv<T>): Argv<T & PortArgs> {
  const withPort = y
    .option('port', {
      alias: 'p', type: 'string', default: 'sim',
      describe: 'serial port (e.g. /dev/ttyUSB0, COM3), or "sim" for the built-in simulated ESP32; list ports with `ota-uart ports`',
    })
    .option('baud', { alias: 'b', type: 'number', default: DEFAULT_BAUD, describe: 'line rate for the transfer (switched to after the handshake; falls back if the link cannot do it)' })
    .option('initial-baud', { type: 'number', default: DEFAULT_INITIAL_BAUD, describe: 'line rate the device listens at after reset' });
  return withSimOptions(withPort) as unknown as Argv<T & PortArgs>;
}

export async function openerFor(args: PortArgs): Promise<PortHandle> {
  const initial = args['initial-baud'] ?? DEFAULT_INITIAL_BAUD;
  if (args.port === 'sim') return createSimPort(args, initial);
  return {
    open: () => openSerialTransport(args.port, { baud: initial }),
    label: args.port,
    dispose: async () => {},
  };
}
