/**
 * One end of a full-duplex stress run: it writes a seeded pseudo-random stream as fast as the
 * Transport accepts it (honouring back-pressure) while it checks, byte for byte, the stream the
 * other end sends. This is the traffic shape of the protocol at its worst for the serialport
 * poller bug (toolchain-notes §2.4): DATA leaving while ACKs arrive.
 *
 * Used in-process by duplex.test.ts and as a child process (one port per process, the case that
 * stalls most often without the fix) by that test and by scripts/repro-duplex-stall.mjs:
 *   node --import tsx test/transport/duplex-peer.ts PATH BYTES SEED PEER_SEED
 * prints "open" once its port is open, starts when it reads "go" on stdin, then prints one JSON
 * line (DuplexResult, or { stalled: true, ... }); it keeps the port open until stdin closes
 * (closing one pty makes socat exit, which could cut the other end off before it has read its
 * last bytes), then exits 0, or 3 on a stall.
 */
import { pathToFileURL } from 'node:url';
import type { Transport } from '../../src/transport/transport.js';

export interface DuplexOptions {
  bytes: number;
  /** Seed of the stream this end sends; the peer checks it with the same seed. */
  seed: number;
  /** Seed of the stream the peer sends. */
  peerSeed: number;
  /** Write size; the protocol writes one frame (about 1 KiB) at a time. */
  chunk?: number;
  /** Fail when neither direction moved for this long: a hang detector, not a performance bound. */
  stallMs?: number;
}

export interface DuplexResult {
  sent: number;
  received: number;
  ms: number;
}

/** xorshift32 byte stream: `next(n)` returns the next n bytes. */
export function byteStream(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

export class StallError extends Error {
  constructor(readonly sent: number, readonly received: number, readonly bytes: number, stallMs: number) {
    super(`no progress for ${stallMs} ms: sent ${sent}/${bytes}, received ${received}/${bytes}`);
  }
}

export function streamBothWays(t: Transport, o: DuplexOptions): Promise<DuplexResult> {
  const chunk = o.chunk ?? 1024;
  const stallMs = o.stallMs ?? 10_000;
  const expect = byteStream(o.peerSeed);
  const produce = byteStream(o.seed);
  const start = performance.now();
  let sent = 0;
  let received = 0;
  let moved = Date.now();
  return new Promise<DuplexResult>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearInterval(watchdog);
      if (err) reject(err);
      else resolve({ sent, received, ms: performance.now() - start });
    };
    const check = (): void => {
      if (sent === o.bytes && received === o.bytes) finish();
    };
    const watchdog = setInterval(() => {
      if (Date.now() - moved > stallMs) finish(new StallError(sent, received, o.bytes, stallMs));
    }, 200);
    t.onData((bytes) => {
      const want = expect(Math.min(bytes.length, o.bytes - received));
      for (let i = 0; i < bytes.length; i++) {
        if (received + i >= o.bytes || bytes[i] !== want[i]) {
          finish(new Error(`byte ${received + i} differs from what the peer sent (got ${bytes[i]}, want ${want[i]})`));
          return;
        }
      }
      received += bytes.length;
      moved = Date.now();
      check();
    });
    t.onClose((err) => finish(err));
    const send = async (): Promise<void> => {
      while (sent < o.bytes && !done) {
        const n = Math.min(chunk, o.bytes - sent);
        await t.write(produce(n));
        sent += n;
        moved = Date.now();
      }
      check();
    };
    send().catch((e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));
  });
}

async function main(): Promise<void> {
  const [path, bytes, seed, peerSeed] = process.argv.slice(2);
  const { openSerialTransport } = await import('../../src/transport/serial.js');
  const t = await openSerialTransport(path!, { baud: 921600 });
  // Both ends must be open before either sends: opening a tty flushes what is already queued.
  process.stdout.write('open\n');
  process.stdin.setEncoding('utf8');
  let input = '';
  const stdinEnded = new Promise<void>((r) => process.stdin.once('end', () => r()).once('close', () => r()));
  await new Promise<void>((r) => process.stdin.on('data', (s: string) => { input += s; if (input.includes('go\n')) r(); }));
  let code = 0;
  try {
    const stallMs = Number(process.env['DUPLEX_STALL_MS'] ?? 10_000);
    const r = await streamBothWays(t, { bytes: Number(bytes), seed: Number(seed), peerSeed: Number(peerSeed), stallMs });
    await t.drain();
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } catch (e) {
    const s = e instanceof StallError ? { stalled: true, sent: e.sent, received: e.received } : { error: String(e) };
    process.stdout.write(`${JSON.stringify(s)}\n`);
    code = e instanceof StallError ? 3 : 1;
  }
  await stdinEnded;
  await t.close();
  process.exit(code);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
