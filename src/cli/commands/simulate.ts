/**
 * `ota-uart simulate --port PATH`: the simulated ESP32 on a real serial port or a pty (for example
 * one end of a socat pty pair), or listening on a socket a relay connects to (sim-listen.ts), so
 * any host (this CLI, a script, another tool) can be tested against it. Runs until killed; one
 * line per notable event on stderr. With `--flash FILE` the flash lives in that file, written
 * through on every operation: kill -9 and restart on the same file is a power cycle.
 */
import { realpathSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { systemClock } from '../../clock.js';
import { pacePort, unpacedPort, type PacedPort } from '../../device-sim/paced-port.js';
import { DEFAULT_WINDOW, type SimEvent, type SimFaults } from '../../device-sim/index.js';
import { OtaError } from '../../errors.js';
import { DURABLE_INTERVAL, MAX_CREDIT_CHUNKS, MAX_FRAME_ABS, MIN_MAX_FRAME } from '../../protocol/index.js';
import { chipName } from '../../image/index.js';
import { openSerialTransport } from '../../transport/serial.js';
import { describeSocketAddress, parseSocketAddress } from '../../transport/socket.js';
import { listenForHosts, type SimListener } from '../sim-listen.js';
import { terminal } from '../terminal.js';
import { buildSimDevice, DEMO_KEY_PATH } from '../sim-options.js';

export interface SimulateArgs {
  port: string;
  key?: string;
  'hmac-key'?: string;
  flash?: string;
  chip: string;
  'chip-rev': number;
  'flash-timing': string;
  'iram-uart': boolean;
  'record-every': number;
  'max-frame': number;
  window: number;
  baud: number;
  'max-baud': number;
  rollback: boolean;
  'anti-rollback': boolean;
  'efuse-secure-version': number;
  'boot-log': boolean;
  pace: boolean;
  ber?: number;
  drop?: number;
  garbage?: number;
  'stall-ms'?: number;
  'stall-every'?: number;
  'reset-at'?: number;
  seed?: number;
}

function builder(y: Argv): Argv<SimulateArgs> {
  return y
    .option('port', { alias: 'p', type: 'string', demandOption: true, describe: 'serial port or pty the device listens on, or a socket to listen on: unix:PATH, tcp:PORT, tcp:HOST:PORT (one peer at a time; connect a pty to it with socat)' })
    .option('key', { alias: 'k', type: 'string', describe: 'device private key PEM (RSA-3072 or EC P-256); default: the shipped TEST key' })
    .option('hmac-key', { type: 'string', describe: "the device's 32-byte ECIES HMAC key" })
    .conflicts('key', 'hmac-key')
    .option('flash', { type: 'string', describe: 'flash image file (4 MiB; created with a factory app if missing; kept between runs)' })
    .option('chip', { type: 'string', default: 'esp32', describe: 'chip the device is' })
    .option('chip-rev', { type: 'number', default: 300, describe: 'chip revision, major*100+minor' })
    .option('flash-timing', { type: 'string', choices: ['instant', 'esp32'], default: 'esp32', describe: 'erase/program/unwrap/verify/boot times' })
    .option('iram-uart', { type: 'boolean', default: true, describe: 'UART ISR is IRAM-safe (--no-iram-uart: only the 128-byte FIFO catches bytes during flash work)' })
    .option('record-every', { type: 'number', default: 1, describe: 'durable resume record interval in plaintext bytes, 1-65536 (1: after every write; the ESP-IDF component uses 65536); the same option as ota-uart-rx --record-every' })
    .option('max-frame', { type: 'number', default: MAX_FRAME_ABS, describe: `largest frame body the device accepts (HELLO_ACK.max_frame), ${MIN_MAX_FRAME}-${MAX_FRAME_ABS}; the host's chunk is at most this minus 10` })
    .option('window', { type: 'number', default: DEFAULT_WINDOW, describe: `receive window in bytes (HELLO_ACK.window: RAM for chunks ahead of the write point), 16-${MAX_WINDOW}; credit is at most ${MAX_CREDIT_CHUNKS} chunks` })
    .option('baud', { alias: 'b', type: 'number', default: 115200, describe: 'line rate after reset' })
    .option('max-baud', { type: 'number', default: 3_000_000, describe: 'highest rate the device accepts in a baud switch (0: none)' })
    .option('rollback', { type: 'boolean', default: false, describe: 'app rollback enabled (new apps boot PENDING_VERIFY until confirmed)' })
    .option('anti-rollback', { type: 'boolean', default: false, describe: 'anti-rollback by secure_version (eFuse)' })
    .option('efuse-secure-version', { type: 'number', default: 0, describe: 'eFuse secure_version at start' })
    .option('boot-log', { type: 'boolean', default: true, describe: 'print the ESP32 boot log on every reset' })
    .option('pace', { type: 'boolean', default: true, describe: 'pace the port at the line rate (--no-pace when something else already does: a real UART, or a link emulator)' })
    .option('ber', { type: 'number', describe: 'bit error rate on received bytes' })
    .option('drop', { type: 'number', describe: 'probability that a received byte is lost' })
    .option('garbage', { type: 'number', describe: 'send a burst of log text to the host every N received bytes' })
    .option('stall-ms', { type: 'number', describe: 'the firmware stops reading for this long ...' })
    .option('stall-every', { type: 'number', describe: '... every this many received bytes (default 65536)' })
    .option('reset-at', { type: 'number', describe: 'power-cycle once when the transfer reaches this file offset' })
    .option('seed', { type: 'number', describe: 'seed of the fault injection' })
    .group(['ber', 'drop', 'garbage', 'stall-ms', 'stall-every', 'reset-at', 'seed'], 'Faults:')
    .example('$0 simulate --port /tmp/dev --key dev.pem --flash flash.bin', 'with `socat pty,raw,echo=0,link=/tmp/dev pty,raw,echo=0,link=/tmp/host &`, then push to /tmp/host')
    .example('$0 simulate --port unix:/tmp/sim.sock', 'with `socat pty,raw,echo=0,link=/tmp/host UNIX-CONNECT:/tmp/sim.sock &`, then push to /tmp/host: one pty, no second tty in the way') as unknown as Argv<SimulateArgs>;
}

/** True for a pseudo-terminal (socat's `link=` points into /dev/pts): it has no line rate to set. */
function isPty(path: string): boolean {
  try {
    return realpathSync(path).startsWith('/dev/pts/');
  } catch {
    return false;
  }
}

export function describeEvent(e: SimEvent): string | undefined {
  switch (e.type) {
    case 'boot': return `boot (${e.reason}): running ${e.version || '?'} from ${e.running}${e.notes.length ? ` [${e.notes.join('; ')}]` : ''}`;
    case 'hello': return 'hello from a host';
    case 'baud': return e.phase === 'fallback' ? `baud: nothing heard at the new rate, back to ${e.baud}` : `baud ${e.baud} (${e.phase})`;
    case 'begin': return e.resumed === 'no'
      ? `begin: new image of ${e.total} bytes -> ${e.target}`
      : `resume at ${e.offset} of ${e.total} (session from ${e.resumed === 'ram' ? 'RAM' : 'flash record'}) -> ${e.target}`;
    case 'refused': return `refused (${e.phase}): ${e.status}: ${e.reason}`;
    case 'result': return `result: ${e.version} set to boot from ${e.boot}`;
    case 'abort': return 'abort: session dropped';
    case 'confirm': return `confirm: ${e.version} marked valid`;
    case 'rollback': return `rollback: ${e.version} marked invalid, rebooting`;
    case 'reset': return `reset (${e.reason}${e.offset !== undefined ? ` at offset ${e.offset}` : ''})`;
    case 'error': return `internal error: ${e.message}`;
  }
}

function faultsOf(a: SimulateArgs): SimFaults | undefined {
  const f: SimFaults = {
    ber: a.ber, dropRate: a.drop, garbageEveryBytes: a.garbage, stallMs: a['stall-ms'], stallEveryBytes: a['stall-every'],
    resetAtOffset: a['reset-at'], seed: a.seed,
  };
  return Object.values(f).some((v) => v !== undefined) ? f : undefined;
}

export async function runSimulate(a: SimulateArgs, log: (line: string) => void = terminal.stderrLine): Promise<void> {
  let faults: SimFaults | undefined;
  try {
    faults = faultsOf(a);
  } catch (e) {
    throw new OtaError('USAGE', (e as Error).message);
  }
  const socket = parseSocketAddress(a.port);
  const clock = systemClock;
  // Everything about the device is checked before the port is opened, so a bad key or flash file
  // is reported as such and not hidden behind a port error.
  const { device, flash } = buildSimDevice({
    keyPath: a.key, hmacKeyPath: a['hmac-key'], flashPath: a.flash, chip: a.chip, chipRev: a['chip-rev'], flashTiming: a['flash-timing'],
    iramUart: a['iram-uart'], recordInterval: recordEvery(a['record-every']),
    maxFrame: inRange('--max-frame', a['max-frame'], MIN_MAX_FRAME, MAX_FRAME_ABS), window: inRange('--window', a.window, 16, MAX_WINDOW), rollback: a.rollback, antiRollback: a['anti-rollback'], efuseSecureVersion: a['efuse-secure-version'],
    maxBaud: a['max-baud'], baud: a.baud, bootLog: a['boot-log'], faults,
  }, clock);
  let paced: PacedPort | undefined;
  let listener: SimListener | undefined;
  try {
    if (socket) {
      listener = await listenForHosts(socket, device, { clock, pace: a.pace !== false, log });
    } else {
      const port = await openSerialTransport(a.port, { baud: a.baud });
      paced = a.pace === false ? unpacedPort(port) : pacePort(port, clock, { osBaud: !isPty(a.port) });
    }
  } catch (e) {
    flash.close();
    throw e;
  }
  let lastHello = -Infinity;
  device.onEvent((e) => {
    if (e.type === 'hello') {
      if (clock.now() - lastHello < 2000) return;
      lastHello = clock.now();
    }
    const line = describeEvent(e);
    if (line) log(`simulate: ${line}`);
  });
  if (paced) device.attach(paced);
  const keyName = a.key ?? a['hmac-key'] ?? `${DEMO_KEY_PATH} (TEST KEY)`;
  const where = socket ? `listening on ${describeSocketAddress(socket)}` : `on ${a.port}`;
  log(`simulate: ${chipName(device.opts.chipId)} rev ${a['chip-rev']} ${where} at ${a.baud} baud; flash ${a.flash ?? '(in memory)'}; key ${keyName}; Ctrl-C to stop`);
  if (!device.booting && device.lastBoot) log(`simulate: ${describeEvent(device.lastBoot)}`); // booted in no time
  try {
    await new Promise<void>((resolve, reject) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      paced?.addCloseListener((err) => reject(new OtaError('LINK_LOST', `the port ${a.port} went away: ${err.message}`)));
    });
  } finally {
    device.detach();
    await paced?.close().catch(() => {});
    await listener?.close();
    flash.close();
  }
}

export const simulateCommand: CommandModule<object, SimulateArgs> = {
  command: 'simulate',
  describe: 'Run the simulated ESP32 on a serial port or pty (until killed)',
  builder,
  handler: async (args) => {
    await runSimulate(args);
  },
};

/** --record-every: 1..DURABLE_INTERVAL (SPEC §7), as `ota-uart-rx --record-every` takes it. */
function recordEvery(n: number): number {
  return inRange('--record-every', n, 1, DURABLE_INTERVAL);
}

/**
 * The largest window a host can use: credit never exceeds MAX_CREDIT_CHUNKS chunks (SPEC §4.5) of at
 * most MAX_FRAME_ABS - 10 bytes, rounded down to 16.
 */
const MAX_WINDOW = MAX_CREDIT_CHUNKS * (MAX_FRAME_ABS - 16);

function inRange(option: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new OtaError('USAGE', `${option} must be a whole number of bytes from ${min} to ${max}, got ${n}`);
  }
  return n;
}
