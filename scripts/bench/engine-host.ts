/**
 * The host half of the engine measurement, as its own process: `count` pushes of one image through
 * a serial port, back to back, with the library's push() (what `ota-uart push` runs), timing only
 * the pushes so that Node's start-up is not part of the numbers, after `warmup` pushes left out of
 * them (JIT compilation in both processes; the first one is timed on its own: firstSeconds). Prints
 * one JSON line, with the share of the whole machine's CPU that was busy meanwhile (machineBusy,
 * Linux only).
 *
 *   node --import tsx scripts/bench/engine-host.ts --port PATH --image FILE [--count 8] [--warmup 1] [--baud N] [--chunk N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/clock.js';
import { push } from '../../src/session/index.js';
import { openSerialTransport } from '../../src/transport/serial.js';
import { busyShare, machineCpuSeconds } from './proc.js';

const { values: a } = parseArgs({
  options: { port: { type: 'string' }, image: { type: 'string' }, count: { type: 'string', default: '8' }, warmup: { type: 'string', default: '1' }, baud: { type: 'string', default: '3000000' }, chunk: { type: 'string' } },
});
if (!a.port || !a.image) throw new Error('engine-host: --port and --image are required');
const image = readFileSync(a.image);
const baud = Number(a.baud);
const count = Number(a.count);
const versions: string[] = [];
const once = async (): Promise<string> => {
  const r = await push({
    image, open: () => openSerialTransport(a.port!, { baud }), clock: systemClock, baud, allowDowngrade: true, fresh: true,
    ...(a.chunk !== undefined && { chunk: Number(a.chunk) }),
  });
  return `${r.after.boot.version}@${r.after.boot.slot}`;
};
// The first push of a fresh process runs JIT-cold: timed on its own, as a one-off CLI push would see it.
let firstSeconds: number | undefined;
for (let i = 0; i < Number(a.warmup); i++) {
  const t = performance.now();
  await once();
  firstSeconds ??= (performance.now() - t) / 1000;
}
process.stdout.write('timed\n'); // the parent starts counting the other processes' CPU here
const cpu0 = process.cpuUsage();
const machine0 = machineCpuSeconds();
const t0 = performance.now();
for (let i = 0; i < count; i++) versions.push(await once());
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
// How busy the whole machine was while the pushes ran: host, simulator, socat and the kernel's pty work.
const machineBusy = busyShare(machine0, machineCpuSeconds());
process.stdout.write(`${JSON.stringify({ bytes: image.length * count, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, machineBusy, firstSeconds, versions })}\n`);
