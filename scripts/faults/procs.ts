/**
 * Real processes for the fault matrix: socat pty pairs, the device (`ota-uart simulate` or the C
 * receiver build/ota-uart-rx) on one end with its flash in a file, and `ota-uart push --json` on
 * the other, each of which can be killed with SIGKILL at any moment.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './images.js';

export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const C_RX = join(ROOT, 'build', 'ota-uart-rx');
export const haveSocat = (): boolean => spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

export class Proc {
  readonly child: ChildProcess;
  out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when `re` matches the output; rejects if the process exits first or after `ms`. */
  async waitFor(re: RegExp, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.out)) {
      if (!this.running) throw new Error(`exited before ${re}: ${this.out.slice(-500)}`);
      if (Date.now() > end) throw new Error(`no ${re} within ${ms} ms: ${this.out.slice(-500)}`);
      await sleep(10);
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B`, once both links exist. */
export async function ptyPair(dir: string, a: string, b: string): Promise<Proc & { a: string; b: string }> {
  const pa = join(dir, a);
  const pb = join(dir, b);
  const p = new Proc('socat', [`pty,raw,echo=0,link=${pa}`, `pty,raw,echo=0,link=${pb}`]);
  for (let i = 0; i < 500 && !(existsSync(pa) && existsSync(pb)); i++) await sleep(10);
  if (!existsSync(pa) || !existsSync(pb)) throw new Error(`socat did not create ${pa} and ${pb}: ${p.out}`);
  return Object.assign(p, { a: pa, b: pb });
}

export type Target = 'sim' | 'c';

/** Starts the device on `port` with its flash in `flash`; resolves once it listens. */
export async function startDevice(target: Target, port: string, keyPath: string, flash: string, extra: string[] = []): Promise<Proc> {
  const p = target === 'sim'
    ? new Proc(process.execPath, [CLI, 'simulate', '--port', port, '--key', keyPath, '--flash', flash, ...extra])
    : new Proc(C_RX, ['--port', port, '--key', keyPath, '--flash', flash, ...extra]);
  await p.waitFor(target === 'sim' ? /Ctrl-C to stop/ : /listening on/, 20_000);
  return p;
}

export interface PushEventLine {
  type: string;
  [k: string]: unknown;
}

/** `ota-uart push IMAGE --port PORT --baud B --json`, with its NDJSON events parsed as they come. */
export class PushProc extends Proc {
  constructor(image: string, port: string, baud: number, extra: string[] = []) {
    super(process.execPath, [CLI, 'push', image, '--port', port, '--baud', String(baud), '--json', ...extra]);
  }

  get events(): PushEventLine[] {
    const out: PushEventLine[] = [];
    for (const line of this.out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as PushEventLine);
      } catch {
        // a line still being written
      }
    }
    return out;
  }

  /** Highest acknowledged offset reported so far. */
  get acked(): number {
    let a = 0;
    for (const e of this.events) if (e.type === 'progress') a = Math.max(a, Number(e.acked));
    return a;
  }
}
