/**
 * Runs the CLI in-process (main()) with captured output and, optionally, a fake serial backend of
 * FakeDevices on in-memory links, so whole commands (argument parsing, exit codes, output shapes)
 * are tested without hardware or child processes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtaError } from '../../src/errors.js';
import { main } from '../../src/cli/main.js';
import { setOutput } from '../../src/cli/output.js';
import { portBackend, setPortBackend, type PortBackend } from '../../src/cli/port-opener.js';
import type { LatencyTimer } from '../../src/transport/latency-timer.js';
import { terminal } from '../../src/cli/terminal.js';
import { createMemoryLink } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import type { PortInfo } from '../../src/transport/serial.js';
import { badBaud } from '../../src/transport/serial-errors.js';
import { FakeDevice, type FakeDeviceOptions } from '../session/fake-device.js';

export interface CliRun {
  status: number;
  stdout: string[];
  stderr: string[];
  /** stdout lines parsed as JSON (NDJSON), non-JSON lines skipped. */
  json: Record<string, unknown>[];
}

export async function runCli(argv: string[]): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const saved = { ...terminal };
  terminal.stdoutLine = (l) => void stdout.push(l);
  terminal.stderrLine = (l) => void stderr.push(l);
  terminal.stderrIsTTY = () => false;
  const prevOut = setOutput({ write: (t) => void stdout.push(...t.replace(/\n$/, '').split('\n')) });
  // yargs prints --help and --version with console.log
  const log = console.log;
  console.log = (...a: unknown[]) => void stdout.push(...a.map(String).join(' ').split('\n'));
  try {
    const status = await main(argv, { stderr: (t) => void stderr.push(...t.replace(/\n$/, '').split('\n')) });
    const json: Record<string, unknown>[] = [];
    for (const l of stdout) {
      try {
        json.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // a plain line
      }
    }
    return { status, stdout, stderr, json };
  } finally {
    Object.assign(terminal, saved);
    setOutput(prevOut);
    console.log = log;
  }
}

/** A bench of FakeDevices behind fake port paths, installed as the CLI's serial backend. */
export class FakeBench implements PortBackend {
  readonly devices = new Map<string, FakeDevice>();
  readonly opens: string[] = [];
  listed: PortInfo[] = [];
  /** What openSerial throws for a path, instead of connecting (port errors). */
  readonly openErrors = new Map<string, OtaError>();
  /** Latency timers (ms) of the (fake) FTDI adapters, by path. */
  readonly latencyTimers = new Map<string, number>();
  /** Rates the (fake) USB adapter refuses, at open and on a switch, like a real driver's EINVAL. */
  readonly refusedBauds = new Set<number>();
  private prev: PortBackend | undefined;

  plug(path: string, o: FakeDeviceOptions = {}): FakeDevice {
    const d = new FakeDevice(o);
    this.devices.set(path, d);
    return d;
  }
  unplug(path: string): void {
    this.devices.delete(path);
  }
  async openSerial(path: string, baud: number): Promise<Transport> {
    const err = this.openErrors.get(path);
    if (err) throw err;
    const d = this.devices.get(path);
    if (!d) throw new OtaError('PORT_NOT_FOUND', `serial port ${path} does not exist; run \`ota-uart ports\` to list serial ports`, { details: { port: path } });
    if (this.refusedBauds.has(baud)) throw badBaud(path, baud, new Error('Invalid argument, cannot set baud rate'));
    this.opens.push(path);
    const [h, dev] = createMemoryLink({ baud });
    d.attach(dev);
    const setBaud = h.setBaud.bind(h);
    h.setBaud = async (rate: number) => {
      if (this.refusedBauds.has(rate)) throw badBaud(path, rate, new Error('Invalid argument, cannot set baud rate'));
      return setBaud(rate);
    };
    return h;
  }
  latencyTimer(path: string): LatencyTimer | undefined {
    const ms = this.latencyTimers.get(path);
    return ms === undefined ? undefined : { ms, file: `/sys/bus/usb-serial/devices/${path.split('/').pop()}/latency_timer` };
  }
  async listPorts(): Promise<PortInfo[]> {
    return this.listed;
  }
  async expandGlob(pattern: string): Promise<string[]> {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return [...this.devices.keys()].filter((p) => re.test(p)).sort();
  }
  install(): this {
    this.prev = setPortBackend(this);
    return this;
  }
  uninstall(): void {
    if (this.prev) setPortBackend(this.prev);
  }
}

export { portBackend };

/** Polls `ok` every 5 ms (real time) until it holds; throws after `ms`. */
export async function until(ok: () => boolean, ms = 3000): Promise<void> {
  for (const t0 = Date.now(); !ok() && Date.now() - t0 < ms;) await new Promise((r) => setTimeout(r, 5));
  if (!ok()) throw new Error(`condition not met within ${ms} ms`);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ota-uart-cli-'));
}

export function writeTemp(dir: string, name: string, data: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}
