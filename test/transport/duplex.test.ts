/**
 * Full duplex over a real serial port (a socat pty pair): both ends stream several MB at each
 * other at once and every byte arrives, in order. Without the poller fix (poller-fix.ts) this
 * traffic stalls for good in @serialport/bindings-cpp 13.0.0 (toolchain-notes §2.4); how often is
 * measured by scripts/repro-duplex-stall.mjs, not asserted here (a stall is probabilistic).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pollerFixActive } from '../../src/transport/poller-fix.js';
import { openSerialTransport, type SerialTransport } from '../../src/transport/serial.js';
import { streamBothWays } from './duplex-peer.js';
import { SOCAT_SKIP, hasSocat, startPtyPair, type PtyPair } from './pty-pair.js';

const MB = 1024 * 1024;
const BYTES = 4 * MB;
const peerScript = fileURLToPath(new URL('./duplex-peer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let pair: PtyPair | undefined;
const open: SerialTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  await pair?.dispose();
  pair = undefined;
});

describe.skipIf(!hasSocat)('full duplex over a socat pty pair', () => {
  it('the poller fix is active (the serial transport applies it on import)', () => {
    expect(pollerFixActive()).toBe(true);
  });

  it(`two transports in one process stream ${BYTES / MB} MiB each way at once, byte-exact`, async () => {
    pair = await startPtyPair();
    const a = await openSerialTransport(pair.a, { baud: 921600 });
    const b = await openSerialTransport(pair.b, { baud: 921600 });
    open.push(a, b);
    const [ra, rb] = await Promise.all([
      streamBothWays(a, { bytes: BYTES, seed: 11, peerSeed: 22 }),
      streamBothWays(b, { bytes: BYTES, seed: 22, peerSeed: 11 }),
    ]);
    expect([ra.sent, ra.received, rb.sent, rb.received]).toEqual([BYTES, BYTES, BYTES, BYTES]);
  }, 60_000);

  it(`one end per process (the case that stalls most without the fix): ${BYTES / MB} MiB each way, byte-exact`, async () => {
    pair = await startPtyPair();
    const a = await openSerialTransport(pair.a, { baud: 921600 });
    open.push(a);
    const child = spawn(process.execPath, ['--import', 'tsx', peerScript, pair.b, String(BYTES), '22', '11'], {
      cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const lines = async (n: number): Promise<string[]> => {
      while (out.split('\n').length <= n && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      return out.split('\n');
    };
    try {
      expect((await lines(1))[0]).toBe('open');
      const running = streamBothWays(a, { bytes: BYTES, seed: 11, peerSeed: 22 });
      child.stdin.write('go\n');
      const mine = await running;
      expect([mine.sent, mine.received]).toEqual([BYTES, BYTES]);
      const theirs = JSON.parse((await lines(2))[1]!) as { sent?: number; received?: number };
      expect(theirs).toMatchObject({ sent: BYTES, received: BYTES });
    } finally {
      child.stdin.end();
      const code = await exited;
      if (code === null) child.kill('SIGKILL');
    }
  }, 60_000);
});

describe.skipIf(hasSocat)('full duplex over a socat pty pair', () => {
  it.skip(SOCAT_SKIP, () => {});
});
