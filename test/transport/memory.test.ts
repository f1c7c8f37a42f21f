import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { OtaError } from '../../src/errors.js';
import { createMemoryLink, seededRng } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';

function collect(t: Transport): { bytes: () => Uint8Array; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  t.onData((c) => chunks.push(c));
  return { chunks, bytes: () => Buffer.concat(chunks) };
}

function random(n: number, seed = 7): Uint8Array {
  const rng = seededRng(seed);
  return Uint8Array.from({ length: n }, () => (rng() * 256) | 0);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

function hamming(a: Uint8Array, b: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x) { bits += x & 1; x >>= 1; }
  }
  return bits;
}

describe('createMemoryLink, instant', () => {
  it('delivers both directions exactly, asynchronously, copying the caller buffer', async () => {
    const [a, b] = createMemoryLink({ clock: new FakeClock() });
    const ra = collect(a);
    const rb = collect(b);
    const buf = Uint8Array.from([1, 2, 3]);
    const w = a.write(buf);
    buf[0] = 99; // the link copied it
    void b.write(Uint8Array.from([9, 8]));
    expect(rb.bytes().length).toBe(0); // not synchronous: a receiver may answer inside onData
    await w;
    await settle();
    expect([...rb.bytes()]).toEqual([1, 2, 3]);
    expect([...ra.bytes()]).toEqual([9, 8]);
  });

  it('keeps bytes that arrive before onData is set', async () => {
    const [a, b] = createMemoryLink({ clock: new FakeClock() });
    await a.write(Uint8Array.from([5, 6]));
    await settle();
    expect([...collect(b).bytes()]).toEqual([5, 6]);
  });

  it('fragments deliveries to maxChunk', async () => {
    const [a, b] = createMemoryLink({ clock: new FakeClock(), aToB: { maxChunk: 7 } });
    const rb = collect(b);
    const data = random(100);
    await a.write(data);
    await settle();
    expect(rb.chunks.every((c) => c.length <= 7)).toBe(true);
    expect(rb.chunks.length).toBe(15);
    expect(rb.bytes()).toEqual(Buffer.from(data));
  });

  it('adds one-way latency on the injected clock', async () => {
    const clock = new FakeClock();
    const [a, b] = createMemoryLink({ clock, aToB: { latencyMs: 16 } });
    const rb = collect(b);
    await a.write(Uint8Array.from([1]));
    await clock.advance(15.9);
    expect(rb.chunks.length).toBe(0);
    await clock.advance(0.1);
    expect([...rb.bytes()]).toEqual([1]);
  });
});

describe('createMemoryLink, paced', () => {
  it('delivers N bytes at baud B after 10N/B seconds, plus latency', async () => {
    const clock = new FakeClock();
    const baud = 115200;
    const n = 11520; // exactly 1000 ms of wire time
    const [a, b] = createMemoryLink({ clock, baud, aToB: { pace: true, latencyMs: 5 } });
    const rb = collect(b);
    void a.write(random(n));
    await clock.advance(500);
    // Half the time: about half the bytes (batches are ~2 ms of wire time).
    expect(rb.bytes().length).toBeGreaterThan(n * 0.49 - 5 * 11.52);
    expect(rb.bytes().length).toBeLessThanOrEqual(n / 2);
    await clock.advance(504.9);
    expect(rb.bytes().length).toBeLessThan(n);
    await clock.advance(0.1);
    expect(rb.bytes().length).toBe(n);
  });

  it('paces each direction independently and follows the sender baud', async () => {
    const clock = new FakeClock();
    const [a, b] = createMemoryLink({ clock, baud: 9600, aToB: { pace: true }, bToA: { pace: true } });
    const ra = collect(a);
    const rb = collect(b);
    await a.setBaud(19200);
    await b.setBaud(19200);
    void a.write(new Uint8Array(192)); // 100 ms at 19200
    void b.write(new Uint8Array(96)); // 50 ms
    await clock.advance(50);
    expect(ra.bytes().length).toBe(96);
    expect(rb.bytes().length).toBeLessThan(192);
    await clock.advance(50);
    expect(rb.bytes().length).toBe(192);
  });

  it('applies back-pressure with a bounded TX buffer, and drain waits for the wire', async () => {
    const clock = new FakeClock();
    const [a] = createMemoryLink({ clock, baud: 115200, aToB: { pace: true, txBufferBytes: 4096 } });
    let written = -1;
    let drained = -1;
    void a.write(new Uint8Array(10240)).then(() => { written = clock.now(); });
    void a.drain().then(() => { drained = clock.now(); });
    await clock.advance(2000);
    // Resolves when only 4096 bytes are left to send: (10240 - 4096) bytes of wire time, give or
    // take one 2 ms delivery batch.
    expect(Math.abs(written - ((10240 - 4096) * 10 * 1000) / 115200)).toBeLessThanOrEqual(2);
    expect(drained).toBeCloseTo((10240 * 10 * 1000) / 115200, 6);
  });

  it('garbles bytes while the two ends disagree on the rate, and recovers when they agree', async () => {
    const clock = new FakeClock();
    const [a, b] = createMemoryLink({ clock, baud: 115200, aToB: { pace: true, rng: seededRng(3) } });
    const rb = collect(b);
    const data = random(1000);
    await a.setBaud(921600); // only one side switched
    void a.write(data);
    await clock.advance(200);
    expect(a.txStats.garbled).toBe(1000);
    // Receiver 8x slower: it sees a byte now and then, never the data.
    expect(rb.bytes().length).toBeLessThan(300);
    expect(Buffer.from(rb.bytes()).includes(Buffer.from(data.subarray(0, 8)))).toBe(false);
    await b.setBaud(921600);
    rb.chunks.length = 0;
    void a.write(data);
    await clock.advance(200);
    expect(rb.bytes()).toEqual(Buffer.from(data));
  });

  it('is deterministic for a seed', async () => {
    const run = async (): Promise<Uint8Array> => {
      const clock = new FakeClock();
      const [a, b] = createMemoryLink({
        clock,
        aToB: { pace: true, ber: 1e-3, dropRate: 1e-3, garbage: { everyBytes: 500, length: 3 }, rng: seededRng(42) },
      });
      const rb = collect(b);
      void a.write(random(5000));
      await clock.advance(1000);
      return rb.bytes();
    };
    expect(await run()).toEqual(await run());
  });
});

describe('createMemoryLink, faults', () => {
  it('flips bits at about the requested BER and counts each flip', async () => {
    const [a, b] = createMemoryLink({ clock: new FakeClock(), aToB: { ber: 1e-3, rng: seededRng(11) } });
    const rb = collect(b);
    const data = random(100_000);
    await a.write(data);
    await settle();
    const flips = hamming(data, rb.bytes());
    expect(flips).toBe(a.txStats.flippedBits);
    // 800k bits at 1e-3: mean 800, sd ~28. +-15% is over 4 sd.
    expect(flips).toBeGreaterThan(680);
    expect(flips).toBeLessThan(920);
  });

  it('drops bytes at about the requested rate and counts them', async () => {
    const [a, b] = createMemoryLink({ clock: new FakeClock(), aToB: { dropRate: 0.01, rng: seededRng(5) } });
    const rb = collect(b);
    await a.write(random(50_000));
    await settle();
    expect(rb.bytes().length).toBe(50_000 - a.txStats.dropped);
    expect(a.txStats.dropped).toBeGreaterThan(400);
    expect(a.txStats.dropped).toBeLessThan(600);
  });

  it('inserts garbage bursts between intact bytes', async () => {
    const [a, b] = createMemoryLink({ clock: new FakeClock(), aToB: { garbage: { everyBytes: 100, length: 5 } } });
    const rb = collect(b);
    const data = random(1000);
    await a.write(data);
    await settle();
    const got = rb.bytes();
    expect(got.length).toBe(1000 + 10 * 5);
    expect(got.subarray(0, 100)).toEqual(Buffer.from(data.subarray(0, 100)));
    expect(got.subarray(105, 205)).toEqual(Buffer.from(data.subarray(100, 200)));
  });
});

describe('createMemoryLink, disconnect and close', () => {
  it('disconnect(): both ends hear LINK_LOST once, pending and later writes reject', async () => {
    const clock = new FakeClock();
    const link = createMemoryLink({ clock, aToB: { pace: true } });
    const [a, b] = link;
    const lost: OtaError[] = [];
    a.onClose((e) => lost.push(e));
    b.onClose((e) => lost.push(e));
    const pending = a.write(new Uint8Array(100_000));
    const drain = a.drain();
    link.disconnect();
    link.disconnect();
    expect(lost.map((e) => e.code)).toEqual(['LINK_LOST', 'LINK_LOST']);
    await expect(pending).rejects.toMatchObject({ code: 'LINK_LOST' });
    await expect(drain).rejects.toMatchObject({ code: 'LINK_LOST' });
    await expect(a.write(Uint8Array.from([1]))).rejects.toBeInstanceOf(OtaError);
    await expect(b.write(Uint8Array.from([1]))).rejects.toMatchObject({ code: 'LINK_LOST' });
    expect(a.isOpen).toBe(false);
  });

  it('disconnectAfterBytes delivers exactly that many bytes, then cuts', async () => {
    const clock = new FakeClock();
    const [a, b] = createMemoryLink({ clock, aToB: { pace: true, latencyMs: 3, disconnectAfterBytes: 777 } });
    const rb = collect(b);
    let lostAt = -1;
    b.onClose(() => { lostAt = clock.now(); });
    const w = a.write(new Uint8Array(5000));
    await clock.advance(1000);
    expect(rb.bytes().length).toBe(777);
    expect(lostAt).toBeCloseTo((777 * 10 * 1000) / 115200 + 3, 6);
    await expect(w).rejects.toMatchObject({ code: 'LINK_LOST' });
  });

  it('close() is silent, idempotent, and makes this end reject writes', async () => {
    const [a, b] = createMemoryLink({ clock: new FakeClock() });
    let closes = 0;
    a.onClose(() => closes++);
    b.onClose(() => closes++);
    const rb = collect(b);
    await a.close();
    await a.close();
    await expect(a.write(Uint8Array.from([1]))).rejects.toMatchObject({ code: 'LINK_LOST' });
    await b.write(Uint8Array.from([1])); // into the void, like a UART to an unplugged peer
    await settle();
    expect(closes).toBe(0);
    expect(rb.chunks.length).toBe(0);
    expect(a.isOpen).toBe(false);
    expect(b.isOpen).toBe(true);
  });

  it('rejects a nonsense baud rate with BAUD_UNSUPPORTED', async () => {
    const [a] = createMemoryLink({ clock: new FakeClock() });
    await expect(a.setBaud(0)).rejects.toMatchObject({ code: 'BAUD_UNSUPPORTED' });
    expect(a.baud).toBe(115200);
  });
});
