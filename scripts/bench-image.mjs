#!/usr/bin/env node
/**
 * Image-tool throughput (not a test): encrypt and decrypt MB/s for a 16 MiB app image, both
 * schemes, one-shot and streaming, side by side with raw node:crypto AES-256-GCM on the same
 * bytes (= OpenSSL's speed as Node exposes it), so the ratio shows what our code costs on top.
 *
 *   npm run build && npm run bench-image [-- --size 16 --rounds 9 --json]
 *
 * Every case runs once per round, rounds interleaved (a load spike hits all cases alike), after
 * two warm-up rounds. Time is the process's CPU time (user + system) per run, so a shared,
 * busy machine does not skew the figures much. The ratio uses each case's best round: a round
 * can still absorb a stray cost (a GC freeing and unmapping the previous case's 16 MiB buffers,
 * which the next allocation then faults back in), and the best round is the one without it;
 * medians are shown too. Per-file fixed costs (RSA
 * private-key unwrap, ECDH) are measured separately: they are part of our numbers, not of the
 * baseline's. A second table runs each operation once in a fresh process on inputs read from
 * files, as one CLI invocation does: there, first-touch page faults of the big buffers cost about
 * as much as AES-GCM itself. Uses the TEST KEYS in test/fixtures/image.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    size: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '15' },
    'cold-runs': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    'cold-child': { type: 'string' }, // internal: "CASE DIR"
  },
});
const MIB = 1024 * 1024;
const SIZE = Math.round(Number(opt.size) * MIB);
const ROUNDS = Math.max(1, Number(opt.rounds) | 0);
const WARMUP = 2;

let img;
try {
  img = await import('../dist/image/index.js');
} catch {
  console.error('bench-image: dist/ not found; run `npm run build` first');
  process.exit(2);
}

const fixture = (name) => readFileSync(new URL(`../test/fixtures/image/${name}`, import.meta.url));
const keys = {
  rsa: {
    enc: img.loadEncryptionKey(fixture('rsa3072_public.pem')),
    dec: img.loadDecryptionKey(fixture('rsa3072_private.pem')),
  },
  ecies: {
    enc: img.loadEncryptionKey(fixture('ecies_device_pub_key.pem')),
    dec: img.loadDecryptionKey(fixture('ecies_device_hmac_key.bin'), { hmac: true }),
  },
};

/** Cold cases: one operation in a fresh process, on inputs read from files (as the CLI does). */
const COLD = {
  'node:crypto encrypt (baseline)': (d) => {
    const p = readFileSync(join(d, 'plain.bin'));
    const k = readFileSync(join(d, 'raw.key'));
    return () => {
      const c = createCipheriv('aes-256-gcm', k.subarray(0, 32), k.subarray(32));
      c.update(p);
      c.final();
    };
  },
  'ours encryptImage RSA': (d) => {
    const p = readFileSync(join(d, 'plain.bin'));
    return () => img.encryptImage(p, keys.rsa.enc);
  },
  'node:crypto decrypt (baseline)': (d) => {
    const ct = readFileSync(join(d, 'raw.ct'));
    const k = readFileSync(join(d, 'raw.key'));
    return () => {
      const x = createDecipheriv('aes-256-gcm', k.subarray(0, 32), k.subarray(32));
      x.setAuthTag(readFileSync(join(d, 'raw.tag')));
      x.update(ct);
      x.final();
    };
  },
  'ours decryptImage RSA': (d) => {
    const f = readFileSync(join(d, 'rsa.enc'));
    return () => img.decryptImage(f, keys.rsa.dec);
  },
  'ours decryptImage ECIES': (d) => {
    const f = readFileSync(join(d, 'ecies.enc'));
    return () => img.decryptImage(f, keys.ecies.dec);
  },
  'ours StreamingDecryptor RSA, 4 KiB': (d) => {
    const f = readFileSync(join(d, 'rsa.enc'));
    return () => {
      const s = new img.StreamingDecryptor(keys.rsa.dec);
      for (let o = 0; o < f.length; o += 4096) s.push(f.subarray(o, o + 4096));
      s.finish();
    };
  },
};

if (opt['cold-child']) {
  const [name, dir] = JSON.parse(opt['cold-child']);
  const fn = COLD[name](dir);
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ cpuMs: (c.user + c.system) / 1000 }));
  process.exit(0);
}

const plain = img.buildAppImage({ version: 'bench', size: SIZE, seed: 1 });
const aesKey = randomBytes(32);
const iv = randomBytes(16);
const encrypted = { rsa: img.encryptImage(plain, keys.rsa.enc), ecies: img.encryptImage(plain, keys.ecies.enc) };
const rawCt = (() => {
  const c = createCipheriv('aes-256-gcm', aesKey, iv);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { ct, tag: c.getAuthTag() };
})();

function rawEncrypt() {
  const c = createCipheriv('aes-256-gcm', aesKey, iv);
  c.update(plain);
  c.final();
  c.getAuthTag();
}

function rawDecrypt(chunk) {
  const d = createDecipheriv('aes-256-gcm', aesKey, iv);
  d.setAuthTag(rawCt.tag);
  if (!chunk) d.update(rawCt.ct);
  else for (let o = 0; o < rawCt.ct.length; o += chunk) d.update(rawCt.ct.subarray(o, o + chunk));
  d.final();
}

function streamDecrypt(scheme, chunk) {
  const file = encrypted[scheme];
  const d = new img.StreamingDecryptor(keys[scheme].dec);
  let n = 0;
  for (let o = 0; o < file.length; o += chunk) n += d.push(file.subarray(o, o + chunk)).length;
  n += d.finish().length;
  if (n !== plain.length) throw new Error(`streaming ${scheme}: got ${n} bytes`);
}

function oneShotDecrypt(scheme) {
  const out = img.decryptImage(encrypted[scheme], keys[scheme].dec);
  if (out.length !== plain.length) throw new Error(`one-shot ${scheme}: got ${out.length} bytes`);
}

// [group, label, fn, baseline label]
const cases = [
  ['encrypt', 'node:crypto AES-256-GCM (baseline)', rawEncrypt],
  ['encrypt', 'ours encryptImage RSA', () => img.encryptImage(plain, keys.rsa.enc), 'node:crypto AES-256-GCM (baseline)'],
  ['encrypt', 'ours encryptImage ECIES', () => img.encryptImage(plain, keys.ecies.enc), 'node:crypto AES-256-GCM (baseline)'],
  ['decrypt one-shot', 'node:crypto AES-256-GCM (baseline)', () => rawDecrypt(0)],
  ['decrypt one-shot', 'ours decryptImage RSA', () => oneShotDecrypt('rsa'), 'node:crypto AES-256-GCM (baseline)'],
  ['decrypt one-shot', 'ours decryptImage ECIES', () => oneShotDecrypt('ecies'), 'node:crypto AES-256-GCM (baseline)'],
  ['decrypt streaming 4 KiB', 'node:crypto update() per 4 KiB (baseline)', () => rawDecrypt(4096)],
  ['decrypt streaming 4 KiB', 'ours StreamingDecryptor RSA', () => streamDecrypt('rsa', 4096), 'node:crypto update() per 4 KiB (baseline)'],
  ['decrypt streaming 4 KiB', 'ours StreamingDecryptor ECIES', () => streamDecrypt('ecies', 4096), 'node:crypto update() per 4 KiB (baseline)'],
  ['decrypt streaming 4000 B', 'node:crypto update() per 4000 B (baseline)', () => rawDecrypt(4000)],
  ['decrypt streaming 4000 B', 'ours StreamingDecryptor RSA', () => streamDecrypt('rsa', 4000), 'node:crypto update() per 4000 B (baseline)'],
  ['decrypt streaming 64 KiB', 'node:crypto update() per 64 KiB (baseline)', () => rawDecrypt(65536)],
  ['decrypt streaming 64 KiB', 'ours StreamingDecryptor RSA', () => streamDecrypt('rsa', 65536), 'node:crypto update() per 64 KiB (baseline)'],
  ['decrypt streaming 64 KiB', 'ours StreamingDecryptor ECIES', () => streamDecrypt('ecies', 65536), 'node:crypto update() per 64 KiB (baseline)'],
];

/** Runs fn once; returns [cpu ms, wall ms]. */
function measure(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / 1000, wall];
}

const times = cases.map(() => []);
const walls = cases.map(() => []);
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  cases.forEach(([, , fn], i) => {
    const [cpu, wall] = measure(fn);
    if (r >= WARMUP) {
      times[i].push(cpu);
      walls[i].push(wall);
    }
  });
}

/** Fixed per-file cost: recovering the AES key from the header (no payload). */
function fixedCost(scheme) {
  const header = img.parseEncryptedHeader(encrypted[scheme]);
  const t = [];
  for (let i = 0; i < 30; i++) t.push(measure(() => img.unwrapAesKey(header, keys[scheme].dec))[0]);
  return median(t);
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const mbps = (ms) => SIZE / MIB / (ms / 1000);
const rows = cases.map(([group, label, , base], i) => ({
  group,
  label,
  medianMBps: mbps(median(times[i])),
  bestMBps: mbps(Math.min(...times[i])),
  wallMedianMBps: mbps(median(walls[i])),
  baseline: base,
}));
for (const row of rows) {
  if (!row.baseline) continue;
  const b = rows.find((x) => x.group === row.group && x.label === row.baseline);
  row.ratio = row.bestMBps / b.bestMBps;
}
const fixed = { rsaUnwrapMs: fixedCost('rsa'), eciesUnwrapMs: fixedCost('ecies') };

function coldRuns() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-image-'));
  try {
    writeFileSync(join(dir, 'plain.bin'), plain);
    writeFileSync(join(dir, 'rsa.enc'), encrypted.rsa);
    writeFileSync(join(dir, 'ecies.enc'), encrypted.ecies);
    writeFileSync(join(dir, 'raw.ct'), rawCt.ct);
    writeFileSync(join(dir, 'raw.tag'), rawCt.tag);
    writeFileSync(join(dir, 'raw.key'), Buffer.concat([aesKey, iv]));
    const self = fileURLToPath(import.meta.url);
    const runs = Math.max(1, Number(opt['cold-runs']) | 0);
    return Object.keys(COLD).map((name) => {
      const t = [];
      for (let i = 0; i < runs; i++) {
        const r = spawnSync(process.execPath, [self, '--size', String(opt.size), '--cold-child', JSON.stringify([name, dir])], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`cold run of ${name} failed: ${r.stderr}`);
        t.push(JSON.parse(r.stdout).cpuMs);
      }
      return { label: name, medianMBps: mbps(median(t)) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const cold = coldRuns();
for (const c of cold) {
  const base = cold.find((b) => b.label === (c.label.includes('encrypt') ? 'node:crypto encrypt (baseline)' : 'node:crypto decrypt (baseline)'));
  if (base !== c) c.ratio = c.medianMBps / base.medianMBps;
}

if (opt.json) {
  console.log(JSON.stringify({ sizeBytes: SIZE, rounds: ROUNDS, node: process.version, openssl: process.versions.openssl, rows, fixed, cold }, null, 2));
} else {
  console.log(`image bench: ${(SIZE / MIB).toFixed(1)} MiB app image, ${ROUNDS} rounds (+${WARMUP} warm-up), node ${process.version}, OpenSSL ${process.versions.openssl}`);
  console.log('MB/s = MiB of payload per second of CPU time; ratio = our best / baseline best in the same group\n');
  let group = '';
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      console.log(`${group}`);
    }
    const ratio = r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0).padStart(4)} % of baseline`;
    const nums = `best ${r.bestMBps.toFixed(0).padStart(5)} MB/s (median ${r.medianMBps.toFixed(0).padStart(5)}, wall median ${r.wallMedianMBps.toFixed(0).padStart(5)})`;
    console.log(`  ${r.label.padEnd(44)} ${nums}  ${ratio}`);
  }
  console.log(
    `\nfixed cost per file (in our numbers above): RSA-3072 key unwrap ${fixed.rsaUnwrapMs.toFixed(2)} ms, ECIES ECDH+HKDF ${fixed.eciesUnwrapMs.toFixed(2)} ms`,
  );
  console.log(`\ncold: one operation in a fresh process, input read from a file (median of ${opt['cold-runs']} processes, CPU time)`);
  for (const c of cold) {
    const ratio = c.ratio === undefined ? '' : `${(c.ratio * 100).toFixed(0).padStart(4)} % of baseline`;
    console.log(`  ${c.label.padEnd(44)} ${c.medianMBps.toFixed(0).padStart(6)} MB/s  ${ratio}`);
  }
}
