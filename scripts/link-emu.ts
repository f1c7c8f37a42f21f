/**
 * `npx tsx scripts/link-emu.ts`: an emulated UART between two ptys (see scripts/bench/pty-link.ts).
 *
 *   npx tsx scripts/link-emu.ts --baud 921600 --latency 16 --dir /tmp/emu
 *     prints the two paths, relays until Ctrl-C, then prints the counters.
 *   npx tsx scripts/link-emu.ts --self-test [--baud 3000000] [--latency 1]
 *     checks the emulator against its own nominal numbers and prints them: achieved rate per
 *     direction with both directions busy, round-trip time of a 1-byte ping, how far a writer can
 *     get ahead of the wire, and the relay's CPU use. Exit status 1 if a check is badly off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSerialTransport, type SerialTransport } from '../src/transport/serial.js';
import { PtyLink } from './bench/pty-link.js';
import { procWrittenBytes, sleep, startChild } from './bench/proc.js';

const { values: a } = parseArgs({
  options: {
    baud: { type: 'string', default: '921600' },
    latency: { type: 'string', default: '1' },
    ber: { type: 'string', default: '0' },
    drop: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    dir: { type: 'string' },
    'self-test': { type: 'boolean', default: false },
    seconds: { type: 'string', default: '2' },
  },
});

const baud = Number(a.baud);
const latencyMs = Number(a.latency);
const ownDir = !a.dir;
const dir = a.dir ?? mkdtempSync(join(tmpdir(), 'ota-uart-link-'));
const link = await PtyLink.start({ dir, baud, latencyMs, ber: Number(a.ber), dropRate: Number(a.drop), seed: Number(a.seed) });

try {
  if (a['self-test']) {
    process.exitCode = (await selfTest(link, Number(a.seconds))) ? 0 : 1;
  } else {
    console.log(`link emulator: ${baud} baud 8N1, one-way latency ${latencyMs} ms, BER ${a.ber}, drop ${a.drop}`);
    console.log(`  A: ${link.pathA}\n  B: ${link.pathB}\n(Ctrl-C to stop)`);
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
    const s = link.stats();
    console.log(`A->B ${s.aToB.delivered} B delivered, ${s.aToB.flippedBits} bits flipped, ${s.aToB.dropped} dropped`);
    console.log(`B->A ${s.bToA.delivered} B delivered, ${s.bToA.flippedBits} bits flipped, ${s.bToA.dropped} dropped`);
  }
} finally {
  await link.close();
  if (ownDir) rmSync(dir, { recursive: true, force: true });
}

async function selfTest(l: PtyLink, seconds: number): Promise<boolean> {
  const nominal = l.baud / 10;
  console.log(`link emulator self-test: ${l.baud} baud (nominal ${fmt(nominal)} B/s each way), one-way latency ${latencyMs} ms`);
  let ok = true;
  const A = await openSerialTransport(l.pathA, { baud: l.baud });
  const B = await openSerialTransport(l.pathB, { baud: l.baud });
  try {
    // 1. Both directions at once, `seconds` of wire time each.
    const n = Math.round(nominal * seconds);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const [ab, ba] = await Promise.all([stream(A, B, n, 0x11), stream(B, A, n, 0x22)]);
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - t0) / 1000;
    for (const [name, r] of [['A->B', ab], ['B->A', ba]] as const) {
      const rate = r.bytes / r.spanS;
      const err = rate / nominal - 1;
      const intact = r.intact ? 'intact' : 'CORRUPTED';
      console.log(`  ${name}: ${r.bytes} B in ${r.spanS.toFixed(3)} s (first to last byte) = ${fmt(rate)} B/s, ${(err * 100).toFixed(2)}% vs nominal; ${intact}`);
      if (Math.abs(err) > 0.02 || (!r.intact && Number(a.ber) === 0 && Number(a.drop) === 0)) ok = false;
    }
    const cpuS = (cpu.user + cpu.system) / 1e6;
    console.log(`  relay CPU: ${cpuS.toFixed(2)} s for ${wall.toFixed(2)} s of duplex streaming (${((cpuS / wall) * 100).toFixed(0)}% of one core)`);

    // 2. Round trip of one byte, 20 times: nominal 2 * (latency + one byte time) plus a batch.
    const rtts: number[] = [];
    for (let i = 0; i < 20; i++) rtts.push(await pingPong(A, B));
    rtts.sort((x, y) => x - y);
    const expected = 2 * (latencyMs + 10_000 / l.baud);
    const median = rtts[10]!;
    // On top of the model, each direction crosses two ptys, socat, a socket and serialport's read
    // path (about 0.5-1.5 ms on an idle machine), and Node timers fire up to ~1 ms late.
    console.log(`  1-byte round trip: median ${median.toFixed(2)} ms, min ${rtts[0]!.toFixed(2)}, max ${rtts[19]!.toFixed(2)} (model ${expected.toFixed(2)} ms; the rest is pty/socat/serialport plumbing and timer lateness)`);
    if (median > expected + 6 || median < expected - 0.6) ok = false;
  } finally {
    await A.close();
    await B.close();
  }
  // 3. How far a blocking writer gets ahead of the wire (pty + socat + model buffers).
  const lead = await writerLead(l);
  console.log(`  writer lead: a blocking writer got up to ${fmt(lead)} B ahead of the receiver (${((lead / nominal) * 1000).toFixed(0)} ms of wire time)`);
  console.log(ok ? 'self-test: OK' : 'self-test: FAILED');
  return ok;
}

async function stream(from: SerialTransport, to: SerialTransport, n: number, seed: number): Promise<{ bytes: number; spanS: number; intact: boolean }> {
  const data = pattern(n, seed);
  let got = 0;
  let first = 0;
  let intact = true;
  const done = new Promise<number>((resolve) => {
    to.onData((c) => {
      if (got === 0) first = performance.now();
      for (let i = 0; i < c.length; i++) if (c[i] !== data[got + i]) intact = false;
      got += c.length;
      if (got >= n) resolve(performance.now());
    });
  });
  for (let i = 0; i < n; i += 4096) await from.write(data.subarray(i, Math.min(n, i + 4096)));
  const last = await done;
  // First to last byte covers n - 1 byte times.
  return { bytes: n - 1, spanS: (last - first) / 1000, intact };
}

async function pingPong(A: SerialTransport, B: SerialTransport): Promise<number> {
  B.onData((c) => { void B.write(c); });
  const back = new Promise<number>((resolve) => A.onData(() => resolve(performance.now())));
  const t0 = performance.now();
  await A.write(Uint8Array.of(0x55));
  const t1 = await back;
  await sleep(5);
  return t1 - t0;
}

async function writerLead(l: PtyLink): Promise<number> {
  const B = await openSerialTransport(l.pathB, { baud: l.baud });
  let received = 0;
  B.onData((c) => { received += c.length; });
  const n = Math.round((l.baud / 10) * 0.5) + 200_000;
  const w = startChild('sh', ['-c', `exec head -c ${n} /dev/zero > ${l.pathA}`]);
  let lead = 0;
  while (received < n && w.proc.exitCode === null) {
    const wrote = procWrittenBytes(w.proc.pid!);
    if (wrote !== undefined) lead = Math.max(lead, wrote - received);
    await sleep(2);
  }
  await w.stop();
  await B.close();
  return lead;
}

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; out[i] = s >>> 24; }
  return out;
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}
