/**
 * A socat pty pair for transport tests: two linked pseudo-terminals, `a` and `b`, in a fresh
 * temporary directory. Tests skip (with a message naming socat) where socat is not installed;
 * CI installs it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasSocat: boolean = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
export const SOCAT_SKIP = 'socat is not installed (apt-get install socat); pty tests skipped';

export interface PtyPair {
  a: string;
  b: string;
  dir: string;
  proc: ChildProcess;
  /** Kills socat with `signal` and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Kills socat (if running) and removes the directory. */
  dispose(): Promise<void>;
}

export async function startPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'ota-uart-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  for (let i = 0; i < 250 && !(existsSync(a) && existsSync(b)); i++) {
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!existsSync(a) || !existsSync(b)) {
    proc.kill('SIGKILL');
    throw new Error(`socat did not create the pty links in ${dir}`);
  }
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    a, b, dir, proc, kill,
    dispose: async () => {
      await kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
