/**
 * Small process helpers for the bench: spawn a child and keep its output, wait for it with a
 * deadline, wait for a file to appear, and read a process's CPU time and written bytes from /proc
 * (Linux only; the bench needs ptys and socat anyway).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Child {
  proc: ChildProcess;
  /** Everything the child wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit status (or 128 + signal number) once the child is gone. */
  exited: Promise<number>;
  /** Sends SIGTERM (then SIGKILL after `graceMs`) unless it already exited. */
  stop(graceMs?: number): Promise<number>;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function startChild(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => { out += s; });
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => { err += s; });
  let done = false;
  const exited = new Promise<number>((resolve) => {
    proc.on('error', (e) => { done = true; err += `\n${String(e)}`; resolve(127); });
    proc.on('exit', (code, signal) => {
      done = true;
      resolve(code ?? 128 + (signal ? SIGNALS[signal] ?? 0 : 0));
    });
  });
  const stop = async (graceMs = 1000): Promise<number> => {
    if (!done) proc.kill('SIGTERM');
    const t = setTimeout(() => { if (!done) proc.kill('SIGKILL'); }, graceMs);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return { proc, stdout: () => out, stderr: () => err, exited, stop };
}

/** Waits for the child's exit, or kills it once `ms` have passed and reports that. */
export async function waitExit(c: Child, ms: number): Promise<{ code: number; timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
  const r = await Promise.race([c.exited, timeout]);
  clearTimeout(timer);
  if (r === 'timeout') return { code: await c.stop(), timedOut: true };
  return { code: r, timedOut: false };
}

export async function waitForFile(path: string, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!existsSync(path)) {
    if (performance.now() > end) throw new Error(`${path} did not appear within ${ms} ms`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whole-machine CPU time so far (Linux /proc/stat, all cores): busy = user + nice + system + irq +
 * softirq, idle = idle + iowait, in seconds. Undefined where there is no /proc/stat.
 */
export function machineCpuSeconds(): { busy: number; idle: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0] = f;
    return { busy: (user + nice + system + irq + softirq) / 100, idle: (idle + iowait) / 100 };
  } catch {
    return undefined;
  }
}

/** Share of all cores that was busy between two machineCpuSeconds() readings (0..1). */
export function busyShare(a: { busy: number; idle: number } | undefined, b: { busy: number; idle: number } | undefined): number | undefined {
  if (!a || !b) return undefined;
  const busy = b.busy - a.busy;
  const all = busy + (b.idle - a.idle);
  return all > 0 ? busy / all : undefined;
}

/** CPU seconds (user + system) a live process has used so far; undefined once it is gone. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Bytes a live process has passed to write() so far (/proc/PID/io wchar). */
export function procWrittenBytes(pid: number): number | undefined {
  try {
    const m = /wchar:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** 1-minute load average, for the record (other jobs share the machine). */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}
