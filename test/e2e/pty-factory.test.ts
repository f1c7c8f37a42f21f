/**
 * The factory workflow over real ptys: several `ota-uart simulate` processes, one push to all of them
 * with --ports GLOB, and a station that notices a board that appears later.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppImage, encryptImage, loadEncryptionKey } from '../../src/image/index.js';
import { tempDir } from '../cli/harness.js';
import { cli, cliProcess, haveDist, haveSocat, ptyPair, ROOT, type PtyPair } from './pty.js';

const KEY = join(ROOT, 'test', 'fixtures', 'rsa3072_private.pem'); // TEST KEY
const PUB = loadEncryptionKey(readFileSync(join(ROOT, 'test', 'fixtures', 'rsa3072_public.pem')));

type Proc = ReturnType<typeof cliProcess>;

describe.skipIf(!haveSocat || !haveDist)('factory line over ptys', () => {
  let dir: string;
  const pairs: PtyPair[] = [];
  const sims: Proc[] = [];
  let image: string;

  async function board(n: number): Promise<void> {
    const pair = await ptyPair(dir, [`dev${n}`, `host${n}`]);
    pairs.push(pair);
    const sim = cliProcess(['simulate', '--port', pair.dev, '--key', KEY, '--flash', join(dir, `flash${n}.bin`), '--flash-timing', 'instant']);
    sims.push(sim);
    for (let i = 0; i < 1500 && !/Ctrl-C to stop/.test(sim.output()); i++) await new Promise((r) => setTimeout(r, 10));
  }

  beforeAll(async () => {
    dir = tempDir();
    image = join(dir, 'app.enc');
    writeFileSync(image, encryptImage(buildAppImage({ version: '4.0.0', size: 24 * 1024 }), PUB));
    await board(0);
    await board(1);
  }, 60_000);
  afterAll(async () => {
    for (const s of sims) s.kill('SIGTERM');
    for (const p of pairs) await p.stop();
  });

  it('push --ports GLOB updates every board concurrently, one record each in the report', async () => {
    const report = join(dir, 'line.ndjson');
    const r = await cli(['push', image, '--ports', join(dir, 'host*'), '--baud', '921600', '--report', report], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/2 devices: 2 updated, 0 failed/);
    const recs = readFileSync(report, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { port: string; ok: boolean; after: { boot: { version: string } } });
    expect(recs.map((x) => x.port).sort()).toEqual([join(dir, 'host0'), join(dir, 'host1')]);
    expect(recs.every((x) => x.ok && x.after.boot.version === '4.0.0')).toBe(true);
  }, 120_000);

  it('station pushes to a board that is plugged in while it runs, and to no other', async () => {
    const station = cliProcess(['station', image, '--ports', join(dir, 'host*'), '--poll', '100', '--count', '3', '--allow-downgrade', '--json']);
    // the two boards present at start are pushed (again, --allow-downgrade); then a third appears
    for (let i = 0; i < 6000 && (station.output().match(/"type":"result"/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await board(2);
    const code = await new Promise<number | null>((r) => station.once('exit', (c) => r(c)));
    expect(code, station.output()).toBe(0);
    const results = station.output().split('\n').filter((l) => l.includes('"type":"result"')).map((l) => JSON.parse(l) as { port: string; ok: boolean });
    expect(results.map((x) => x.port).sort()).toEqual([join(dir, 'host0'), join(dir, 'host1'), join(dir, 'host2')]);
    expect(results.every((x) => x.ok)).toBe(true);
  }, 180_000);
});
