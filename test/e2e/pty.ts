/** socat pty pairs and CLI child processes for end-to-end tests. */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export const haveSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
export const haveDist = existsSync(CLI);

export interface PtyPair {
  /** The device end and the host end (symlinks to /dev/pts/N). */
  dev: string;
  host: string;
  proc: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `socat pty,raw,echo=0,link=DIR/dev pty,raw,echo=0,link=DIR/host`, resolved once both links exist. */
export async function ptyPair(dir: string, names: [string, string] = ['dev', 'host']): Promise<PtyPair> {
  const dev = join(dir, names[0]);
  const host = join(dir, names[1]);
  const proc = spawn('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${host}`], { stdio: 'ignore' });
  for (let i = 0; i < 500 && !(existsSync(dev) && existsSync(host)); i++) await new Promise((r) => setTimeout(r, 10));
  if (!existsSync(dev) || !existsSync(host)) throw new Error('socat did not create the pty links');
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  return {
    dev, host, proc,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js ARGS` to completion. */
export function cli(args: string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`ota-uart ${args.join(' ')} timed out\n${stderr}`)); }, opts.timeoutMs ?? 60_000);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ status: code ?? (sig ? 128 : null), stdout, stderr });
    });
  });
}

/** Starts a long-running CLI process (the simulator, a station) and returns it. */
export function cliProcess(args: string[], opts: SpawnOptions = {}): ChildProcess & { output(): string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return Object.assign(child, { output: () => out });
}
