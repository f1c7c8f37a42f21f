/**
 * `--port`: a serial device path, or `sim` for the built-in simulated ESP32 (in-process, over an
 * in-memory UART paced at the real baud rate); `--ports 'GLOB'` for many. Commands get an `open()`
 * factory per port, which the session calls again to reconnect, and a `dispose()` for the end.
 *
 * The serial backend (open, list, glob) is swappable so CLI tests can run whole commands against
 * in-memory devices; nothing else in the CLI touches serialport.
 */
import type { Argv } from 'yargs';
import { OtaError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import { latencyTimerHint, latencyTimerOf, type LatencyTimer } from '../transport/latency-timer.js';
import { listSerialPorts, openSerialTransport, type PortInfo } from '../transport/serial.js';
import { expandPortGlob } from './port-glob.js';
import { terminal } from './terminal.js';
import { createSimPort } from './sim-port.js';
import { type SimArgs, withSimOptions } from './sim-options.js';

export interface PortArgs extends SimArgs {
  port?: string | string[];
  'initial-baud'?: number;
}

export interface MultiPortArgs extends PortArgs {
  ports?: string;
  baud?: number;
}

export interface PortHandle {
  open: () => Promise<Transport>;
  label: string;
  dispose: () => Promise<void>;
}

export interface PortBackend {
  openSerial(path: string, baud: number): Promise<Transport>;
  listPorts(): Promise<PortInfo[]>;
  expandGlob(pattern: string): Promise<string[]>;
  /** The adapter's latency timer, where the OS shows one (FTDI on Linux). */
  latencyTimer?(path: string): LatencyTimer | undefined;
}

const serialBackend: PortBackend = {
  openSerial: (path, baud) => openSerialTransport(path, { baud }),
  listPorts: () => listSerialPorts(),
  expandGlob: async (pattern) => expandPortGlob(pattern),
  latencyTimer: (path) => latencyTimerOf(path),
};

let backend: PortBackend = serialBackend;

/** Replaces the serial backend (tests); returns the previous one. */
export function setPortBackend(next: PortBackend): PortBackend {
  const prev = backend;
  backend = next;
  return prev;
}

export function portBackend(): PortBackend {
  return backend;
}

export const DEFAULT_BAUD = 921600;
export const DEFAULT_INITIAL_BAUD = 115200;

const PORT_HELP = 'serial port (e.g. /dev/ttyUSB0, COM3), or "sim" for the built-in simulated ESP32 (the default when no port is named); list ports with `ota-uart ports`';

function checkRate(name: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v > 0)) {
    const got = typeof v === 'number' && Number.isNaN(v) ? 'not a number' : `got ${String(v)}`;
    throw new OtaError('USAGE', `--${name} must be a positive whole number of bits per second such as 115200 or 921600 (${got})`);
  }
}

function portOptions<T>(y: Argv<T>, many: boolean): Argv<T & MultiPortArgs> {
  let a = y
    .option('port', { alias: 'p', type: 'string', describe: many ? `${PORT_HELP}; repeat it to update several devices at once` : PORT_HELP })
    .option('initial-baud', { type: 'number', default: DEFAULT_INITIAL_BAUD, describe: 'line rate the device listens at after reset' });
  const names = ['port', 'initial-baud'];
  if (many) {
    a = a
      .option('ports', { type: 'string', describe: "every serial port matching a pattern, e.g. '/dev/ttyUSB*' (quote it)" })
      .option('baud', { alias: 'b', type: 'number', default: DEFAULT_BAUD, describe: 'line rate for the transfer (switched to after the handshake; falls back if the link cannot do it)' });
    names.push('ports', 'baud');
  }
  const checked = a.group(names, 'Device connection:').check((v) => {
    checkRate('initial-baud', v['initial-baud']);
    checkRate('baud', (v as { baud?: unknown }).baud);
    return true;
  });
  return checked as unknown as Argv<T & MultiPortArgs>;
}

/** `--port` (one) and `--initial-baud`, plus the built-in simulator's options (added last, so they show last). */
export function withPortOptions<T>(y: Argv<T>, extra: (a: Argv<T & PortArgs>) => Argv<T & PortArgs> = (a) => a): Argv<T & PortArgs> {
  return withSimOptions(extra(portOptions(y, false))) as unknown as Argv<T & PortArgs>;
}

/** `--port` (repeatable), `--ports GLOB` and `--baud` for push and station; `extra` adds the command's own options before the simulator's. */
export function withMultiPortOptions<T, U>(y: Argv<T>, extra: (a: Argv<T & MultiPortArgs>) => Argv<U>): Argv<U> {
  return withSimOptions(extra(portOptions(y, true))) as unknown as Argv<U>;
}

export function portList(args: PortArgs): string[] {
  const raw = args.port === undefined ? [] : Array.isArray(args.port) ? args.port : [args.port];
  return [...new Set(raw.map(String))];
}

/**
 * No --port (and no --ports): the built-in simulated ESP32, as the README promises a newcomer, but
 * said out loud so nobody mistakes a simulated update for a real one. Mutates `args.port`.
 */
export function defaultToSim(args: MultiPortArgs): void {
  if (portList(args).length > 0 || args.ports !== undefined) return;
  args.port = 'sim';
  if (!(args as { json?: boolean }).json) {
    terminal.stderrLine('ota-uart: no --port given: using the built-in simulated ESP32 (--port sim). For a board, name its port, e.g. --port /dev/ttyUSB0 (list them with `ota-uart ports`).');
  }
}

/** The single port of info/confirm/rollback/reboot (the simulator when none is named). */
export function singlePort(args: PortArgs, command: string): string {
  defaultToSim(args);
  const ports = portList(args);
  if (ports.length > 1) throw new OtaError('USAGE', `${command} talks to one device; got ${ports.length} ports (${ports.join(', ')})`);
  return ports[0]!;
}

/** USAGE unless --port or --ports was given (checked before any file or port is touched). */
export function requirePorts(args: MultiPortArgs, command: string): void {
  if (portList(args).length === 0 && args.ports === undefined) {
    throw new OtaError('USAGE', `name the device's serial port with --port PORT, several with --port A --port B or --ports 'GLOB' (see 'ota-uart ${command} --help')`);
  }
}

/** Every port named by --port and --ports, in the order given (--port first). */
export async function resolvePorts(args: MultiPortArgs, command: string): Promise<string[]> {
  requirePorts(args, command);
  const ports = portList(args);
  if (args.ports !== undefined) {
    const found = await backend.expandGlob(args.ports);
    if (found.length === 0) {
      throw new OtaError('PORT_NOT_FOUND', `no serial port matches ${args.ports}; run \`ota-uart ports\` to list serial ports`, { details: { port: args.ports } });
    }
    for (const p of found) if (!ports.includes(p)) ports.push(p);
  }
  if (ports.length === 0) throw new OtaError('USAGE', `name the device's serial port with --port PORT, several with --port A --port B or --ports 'GLOB' (see 'ota-uart ${command} --help')`);
  return ports;
}

export async function openerFor(port: string, args: PortArgs): Promise<PortHandle> {
  const initial = args['initial-baud'] ?? DEFAULT_INITIAL_BAUD;
  if (port === 'sim') return createSimPort(args, initial);
  return {
    open: () => backend.openSerial(port, initial),
    label: port,
    dispose: async () => {},
  };
}

/**
 * What the user could change about the adapter on `port` to push faster at `baud` (an FTDI latency
 * timer above 1 ms, transport/latency-timer.ts), as one message; undefined if nothing.
 */
export function adapterHint(port: string, baud: number | undefined): string | undefined {
  if (port === 'sim') return undefined;
  return latencyTimerHint(port, backend.latencyTimer?.(port), baud ?? DEFAULT_BAUD);
}

/**
 * Makes an error name its port (or file): a message from deep in a session ("no CONFIRM_ACK from
 * the device within 5000 ms") gets "PORT: " in front unless it already names the port or `file`.
 */
export function aboutPort(port: string, e: unknown, file?: string): unknown {
  if (!(e instanceof OtaError) || e.message.includes(port) || (file !== undefined && e.message.includes(file))) return e;
  return new OtaError(e.code, `${port}: ${e.message}`, { details: { port, ...e.details }, cause: e.cause ?? e, disconnected: e.disconnected });
}
