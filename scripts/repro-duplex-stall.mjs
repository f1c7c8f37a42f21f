#!/usr/bin/env node
/**
 * Reproduces the full-duplex stall of @serialport/bindings-cpp 13.0.0 (toolchain-notes §2.4) and
 * shows that our poller fix (src/transport/poller-fix.ts) removes it.
 *
 *   node scripts/repro-duplex-stall.mjs [--trials 10] [--mb 4] [--mode both|fix|nofix] [--stall-ms 3000]
 *
 * Each trial starts a socat pty pair and two processes, one per pty end
 * (test/transport/duplex-peer.ts, run with tsx), that stream --mb MiB at each other at the same
 * time through our serial Transport and check every byte. "nofix" sets OTA_UART_NO_POLLER_FIX=1.
 * A trial "stalls" when neither direction of one end moves for --stall-ms. A table of trials,
 * stalls and throughput is printed; the exit status is 1 if a trial WITH the fix stalled or lost
 * a byte. Needs socat. Stalls without the fix are probabilistic (the notes measured 20 of 25 with
 * one process per end); this script is the evidence, the vitest duplex test is the with-fix proof.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const trials = Number(arg('trials', '10'));
const mb = Number(arg('mb', '4'));
const mode = arg('mode', 'both');
const stallMs = Number(arg('stall-ms', '3000'));
const root = fileURLToPath(new URL('..', import.meta.url));
const peer = join(root, 'test', 'transport', 'duplex-peer.ts');

if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) {
  console.error('repro-duplex-stall: socat is not installed (apt-get install socat)');
  process.exit(2);
}

async function ptyPair() {
  const dir = mkdtempSync(join(tmpdir(), 'ota-uart-repro-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 250 && !(existsSync(a) && existsSync(b)); i++) await new Promise((r) => setTimeout(r, 20));
  return { a, b, stop: () => { proc.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); } };
}

function runPeer(path, seed, peerSeed, fix) {
  const env = { ...process.env, DUPLEX_STALL_MS: String(stallMs) };
  if (!fix) env.OTA_UART_NO_POLLER_FIX = '1';
  const child = spawn(process.execPath, ['--import', 'tsx', peer, path, String(mb * 1024 * 1024), String(seed), String(peerSeed)], {
    cwd: root, env, stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const nthLine = (n) => new Promise((resolve) => {
    const check = () => {
      const ls = out.split('\n');
      if (ls.length > n + 1) resolve(ls[n]);
    };
    child.stdout.on('data', check);
    child.once('exit', () => resolve(out.split('\n')[n] || '{"error":"exited without a result"}'));
    check();
  });
  child.stdout.setEncoding('utf8').on('data', (s) => { out += s; });
  return {
    opened: nthLine(0),
    go: () => child.stdin.write('go\n'),
    result: () => nthLine(1).then((l) => JSON.parse(l)),
    end: () => new Promise((r) => { child.once('exit', r); child.stdin.end(); setTimeout(() => child.kill('SIGKILL'), 5000).unref(); }),
  };
}

async function trial(fix) {
  const pair = await ptyPair();
  const pa = runPeer(pair.a, 11, 22, fix);
  const pb = runPeer(pair.b, 22, 11, fix);
  await Promise.all([pa.opened, pb.opened]);
  pa.go();
  pb.go();
  const [ra, rb] = await Promise.all([pa.result(), pb.result()]);
  await Promise.all([pa.end(), pb.end()]);
  pair.stop();
  return { ra, rb };
}

const modes = mode === 'both' ? [true, false] : [mode === 'fix'];
let broken = false;
console.log(`repro-duplex-stall: ${trials} trials per mode, ${mb} MiB each way, one process per pty end, stall = ${stallMs} ms without progress`);
console.log('mode      trial  result    MB/s each way (a, b)');
const summary = [];
for (const fix of modes) {
  let stalls = 0;
  let errors = 0;
  const rates = [];
  for (let i = 1; i <= trials; i++) {
    const { ra, rb } = await trial(fix);
    const stalled = ra.stalled || rb.stalled;
    const failed = !stalled && (ra.error || rb.error);
    if (stalled) stalls++;
    if (failed) errors++;
    const rate = (r) => (r.ms ? ((mb * 1.048576) / (r.ms / 1000)).toFixed(1) : '-');
    const what = stalled ? `STALLED (a: ${ra.received ?? '?'} B in, b: ${rb.received ?? '?'} B in)` : failed ? `ERROR ${ra.error ?? rb.error}` : 'ok';
    if (!stalled && !failed) rates.push((mb * 1.048576) / (Math.max(ra.ms, rb.ms) / 1000));
    console.log(`${fix ? 'fix  ' : 'nofix'}     ${String(i).padStart(5)}  ${what}${stalled || failed ? '' : `        ${rate(ra)}, ${rate(rb)}`}`);
  }
  if (fix && (stalls > 0 || errors > 0)) broken = true;
  const mean = rates.length ? (rates.reduce((x, y) => x + y, 0) / rates.length).toFixed(1) : '-';
  summary.push(`${fix ? 'with fix   ' : 'without fix'}: ${stalls}/${trials} stalled, ${errors} errors, mean ${mean} MB/s each way over completed trials`);
}
for (const s of summary) console.log(s);
process.exit(broken ? 1 : 0);
