/**
 * Helpers for the C receiver's end-to-end tests: build it (scripts/build-c.sh), a socat pty pair,
 * build/ota-uart-rx on one end, and the ota-uart CLI (dist/) on the other, all as child processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const RX = join(ROOT, 'build/ota-uart-rx');
export const CLI = join(ROOT, 'dist/cli/main.js');
export const FIXTURES = join(ROOT, 'test/fixtures');

/** Runs scripts/build-c.sh (library, ASan+UBSan unit tests, ota-uart-rx); throws with its output. */
export function buildC(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts/build-c.sh')], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || !existsSync(RX)) {
    throw new Error(`scripts/build-c.sh failed (exit ${r.status}); the C receiver could not be built or its unit tests failed:\n${out.slice(-4000)}`);
  }
  return out;
}

export function requireCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

const dirs = new Set<string>();
const children = new Set<ChildProcess>();

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ota-uart-c-'));
  dirs.add(d);
  return d;
}

/** Kills every process these helpers started that still runs, and removes the temp dirs. */
export async function cleanupAll(): Promise<void> {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  children.clear();
  await sleep(50);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface Proc {
  child: ChildProcess;
  stderr: string;
  exited: Promise<number | null>;
}

function track(child: ChildProcess): Proc {
  children.add(child);
  child.on('exit', () => children.delete(child));
  const p: Proc = { child, stderr: '', exited: new Promise((r) => child.on('exit', (code, sig) => r(code ?? (sig ? 128 : null)))) };
  child.stderr?.on('data', (d: Buffer) => { p.stderr += d.toString(); });
  return p;
}

/** A socat pty pair: `dev` for the device, `host` for the CLI. */
export async function ptyPair(dir: string): Promise<{ dev: string; host: string; proc: Proc }> {
  const dev = join(dir, 'dev');
  const host = join(dir, 'host');
  const proc = track(spawn('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${host}`], { stdio: ['ignore', 'ignore', 'pipe'] }));
  proc.child.on('error', () => {});
  await waitFor(() => existsSync(dev) && existsSync(host), 5000, 'socat to create the pty pair (is socat installed?)');
  return { dev, host, proc };
}

/** build/ota-uart-rx on `port`, ready once it says it listens. */
export async function startRx(args: string[]): Promise<Proc> {
  return startDevice(RX, args, 'listening on');
}

/** `ota-uart simulate ARGS`, ready once it has said what it simulates. */
export async function startSim(args: string[]): Promise<Proc> {
  return startDevice(process.execPath, [CLI, 'simulate', ...args], 'Ctrl-C to stop');
}

async function startDevice(cmd: string, args: string[], ready: string): Promise<Proc> {
  const p = track(spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  await waitFor(() => p.stderr.includes(ready) || p.child.exitCode !== null, 15_000, `${cmd} to listen`);
  if (!p.stderr.includes(ready)) throw new Error(`${cmd} did not start: ${p.stderr}`);
  return p;
}

export async function stop(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  await Promise.race([p.exited, sleep(3000)]);
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>[];
  ms: number;
}

/** Runs `node dist/cli/main.js ARGS` to completion (asynchronously: the device runs meanwhile). */
export function cli(args: string[], opts: { timeoutMs?: number; onSpawn?: (c: ChildProcess) => void } = {}): Promise<CliResult> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((res) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      const json: Record<string, unknown>[] = [];
      try {
        json.push(JSON.parse(stdout) as Record<string, unknown>); // one pretty-printed object (info)
      } catch {
        for (const l of stdout.split('\n')) {
          try {
            json.push(JSON.parse(l) as Record<string, unknown>); // NDJSON events (push)
          } catch {
            // not JSON
          }
        }
      }
      res({ status: code, stdout, stderr, json, ms: Date.now() - t0 });
    });
  });
}
