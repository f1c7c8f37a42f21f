import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STATUS } from '../../src/protocol/index.js';
import { testImage } from '../session/rig.js';
import { FakeBench, runCli, tempDir, writeTemp } from './harness.js';

let dir: string;
let image: string;
let bench: FakeBench;

beforeAll(() => {
  dir = tempDir();
  image = writeTemp(dir, 'app.enc', testImage(20_000));
});
afterEach(() => bench?.uninstall());

describe('ota-uart push to many devices', () => {
  it('--port A --port B --port C: a table, exit status of the first failed port, each device updated or untouched', async () => {
    bench = new FakeBench().install();
    const a = bench.plug('/dev/ttyUSB0');
    const b = bench.plug('/dev/ttyUSB1', { endStatus: STATUS.AUTH_FAILED });
    const c = bench.plug('/dev/ttyUSB2', { beginStatus: STATUS.WRONG_KEY });
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--port', '/dev/ttyUSB1', '--port', '/dev/ttyUSB2']);
    expect(r.status).toBe(6); // the first failure in the order given: ttyUSB1, AUTH_FAILED
    expect([a.boot, b.boot, c.boot]).toEqual([1, 0, 0]);
    const text = r.stderr.join('\n');
    expect(text).toMatch(/^PORT +RESULT +DEVICE +VERSION +TIME +RETRIES/m);
    expect(text).toMatch(/^\/dev\/ttyUSB0 +ok +ESP32 v3\.0 +1\.0\.0 -> new/m);
    expect(text).toMatch(/^\/dev\/ttyUSB1 +AUTH_FAILED +ESP32 v3\.0 +1\.0\.0 /m);
    expect(text).toMatch(/^\/dev\/ttyUSB2 +WRONG_KEY /m);
    expect(text).toMatch(/3 devices: 1 updated, 2 failed/);
    expect(r.stderr.at(-1)).toMatch(/^ota-uart: 2 of 3 devices failed; first: \/dev\/ttyUSB1: authentication failed/);
    // progress lines carry the port
    expect(r.stderr.some((l) => l.startsWith('[/dev/ttyUSB0] found ESP32'))).toBe(true);
  });

  it('the order given decides the exit status', async () => {
    bench = new FakeBench().install();
    bench.plug('/dev/ttyUSB1', { endStatus: STATUS.AUTH_FAILED });
    bench.plug('/dev/ttyUSB2', { beginStatus: STATUS.WRONG_KEY });
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB2', '--port', '/dev/ttyUSB1']);
    expect(r.status).toBe(5);
  });

  it('exit 0 only when every device succeeded', async () => {
    bench = new FakeBench().install();
    for (const p of ['/dev/ttyUSB0', '/dev/ttyUSB1']) bench.plug(p);
    const r = await runCli(['push', image, '--ports', '/dev/ttyUSB*']);
    expect(r.status).toBe(0);
    expect(r.stderr.join('\n')).toMatch(/2 devices: 2 updated, 0 failed/);
  });

  it('--json: per-device result records (port, identity, versions, code, duration, retries) and a summary', async () => {
    bench = new FakeBench().install();
    bench.plug('/dev/ttyUSB0', { runVersion: '1.1.0' });
    bench.plug('/dev/ttyUSB1', { earlyReject: { at: 1536, status: STATUS.WRONG_CHIP } });
    const r = await runCli(['push', image, '--ports', '/dev/ttyUSB*', '--json']);
    expect(r.status).toBe(21);
    expect(r.json).toHaveLength(r.stdout.length);
    const results = r.json.filter((e) => e.type === 'result');
    expect(results).toHaveLength(2);
    const byPort = Object.fromEntries(results.map((e) => [e.port, e]));
    expect(byPort['/dev/ttyUSB0']).toMatchObject({
      ok: true, code: 'OK', exitStatus: 0, device: { chip: 'ESP32', chipRevision: 'v3.0', project: 'fake_app', protocol: 1 },
      before: { running: { version: '1.1.0' } }, after: { boot: { version: 'new', slot: 'ota_0' } }, retries: 0,
    });
    expect(byPort['/dev/ttyUSB1']).toMatchObject({ ok: false, code: 'WRONG_CHIP', exitStatus: 21, device: { chip: 'ESP32' }, before: { running: { version: '1.0.0' } } });
    for (const rec of results) expect(typeof rec.durationMs).toBe('number');
    expect(r.json.at(-1)).toEqual({ type: 'summary', devices: 2, ok: 1, failed: 1 });
    // every event line names its port
    expect(r.json.filter((e) => e.type === 'hello').map((e) => e.port).sort()).toEqual(['/dev/ttyUSB0', '/dev/ttyUSB1']);
  });

  it('a port that does not exist is one failed device, not the end of the others', async () => {
    bench = new FakeBench().install();
    const a = bench.plug('/dev/ttyUSB0');
    const rep = join(dir, 'many.ndjson');
    const r = await runCli(['push', image, '--port', '/dev/ttyUSB0', '--port', '/dev/ttyUSB9', '--report', rep]);
    expect(r.status).toBe(10);
    expect(a.boot).toBe(1);
    const lines = readFileSync(rep, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.port, l.code]).sort()).toEqual([['/dev/ttyUSB0', 'OK'], ['/dev/ttyUSB9', 'PORT_NOT_FOUND']]);
  });

  it('--ports with no match is exit 10 naming the pattern', async () => {
    bench = new FakeBench().install();
    const r = await runCli(['push', image, '--ports', '/dev/ttyACM*']);
    expect(r.status).toBe(10);
    expect(r.stderr).toEqual(['ota-uart: no serial port matches /dev/ttyACM*; run `ota-uart ports` to list serial ports']);
  });
});

describe('ota-uart station', () => {
  it('pushes to each device as it appears, once, writes the report, and stops after --count', async () => {
    bench = new FakeBench().install();
    bench.plug('/dev/ttyUSB0');
    const rep = join(dir, 'station.ndjson');
    const p = runCli(['station', image, '--ports', '/dev/ttyUSB*', '--poll', '50', '--count', '3', '--report', rep, '--json']);
    const until = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
      expect(cond()).toBe(true);
    };
    // boards arrive one after another; ttyUSB0 stays plugged and must not be pushed twice
    const first = bench.devices.get('/dev/ttyUSB0')!;
    await until(() => first.boot === 1);
    const second = bench.plug('/dev/ttyUSB1', { beginStatus: STATUS.WRONG_KEY });
    await until(() => second.log.includes('BEGIN'));
    await new Promise((r) => setTimeout(r, 300)); // a few more polls: still plugged, no second push
    bench.unplug('/dev/ttyUSB0');
    await new Promise((r) => setTimeout(r, 300)); // the station sees it gone
    bench.plug('/dev/ttyUSB0'); // a re-plug: pushed again
    const r = await p;
    expect(r.status).toBe(5); // --count run with a failure: the first failure's status (WRONG_KEY)
    expect(bench.opens.filter((x) => x === '/dev/ttyUSB0')).toHaveLength(2);
    expect(bench.opens.filter((x) => x === '/dev/ttyUSB1')).toHaveLength(1);
    const results = r.json.filter((e) => e.type === 'result');
    expect(results.map((e) => [e.port, e.code])).toEqual([['/dev/ttyUSB0', 'OK'], ['/dev/ttyUSB1', 'WRONG_KEY'], ['/dev/ttyUSB0', 'OK']]);
    expect(results.at(-1)!.tally).toEqual({ ok: 2, failed: 1, active: 0 });
    expect(r.json.some((e) => e.type === 'detached' && e.port === '/dev/ttyUSB0')).toBe(true);
    expect(r.json.at(-1)).toMatchObject({ type: 'summary', ok: 2, failed: 1 });
    const lines = readFileSync(rep, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.code)).toEqual(['OK', 'WRONG_KEY', 'OK']);
  });

  it('names an FTDI latency timer above 1 ms once per port, at its first device', async () => {
    bench = new FakeBench().install();
    bench.plug('/dev/ttyUSB0');
    bench.plug('/dev/ttyUSB1');
    bench.latencyTimers.set('/dev/ttyUSB0', 16);
    bench.latencyTimers.set('/dev/ttyUSB1', 1);
    const r = await runCli(['station', image, '--ports', '/dev/ttyUSB*', '--poll', '50', '--count', '2']);
    expect(r.status).toBe(0);
    const hints = r.stderr.filter((l) => /latency timer/.test(l));
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatch(/^\[\/dev\/ttyUSB0\] \/dev\/ttyUSB0 is an FTDI adapter with a 16 ms latency timer/);
  });

  it('prints a running tally for people', async () => {
    bench = new FakeBench().install();
    bench.plug('/dev/ttyUSB0');
    bench.plug('/dev/ttyUSB1');
    const r = await runCli(['station', image, '--ports', '/dev/ttyUSB*', '--poll', '50', '--count', '2']);
    expect(r.status).toBe(0);
    const tallies = r.stderr.filter((l) => /tally:/.test(l));
    expect(tallies.at(-1)).toMatch(/tally: 2 updated, 0 failed/);
    expect(r.stderr.some((l) => /^\[\/dev\/ttyUSB1\] updated ESP32 v3\.0 1\.0\.0 -> new/.test(l))).toBe(true);
  });

  it('first Ctrl-C lets the update in flight finish (exit 0); a second one aborts it (exit 130)', async () => {
    bench = new FakeBench().install();
    const dev = bench.plug('/dev/ttyUSB0', { window: 1024 });
    dev.dataDeaf = true; // the push hangs in the data phase until we let it go
    const p = runCli(['station', image, '--ports', '/dev/ttyUSB*', '--poll', '50']);
    for (let i = 0; i < 500 && !dev.log.includes('DATA'); i++) await new Promise((r) => setTimeout(r, 2));
    process.emit('SIGINT');
    await new Promise((r) => setTimeout(r, 50));
    bench.plug('/dev/ttyUSB1'); // must not be taken any more
    dev.dataDeaf = false;
    // the host resends on its retransmission timeout; the device now answers and the push completes
    const r = await p;
    expect(r.status).toBe(0);
    expect(dev.boot).toBe(1);
    expect(bench.opens).toEqual(['/dev/ttyUSB0']);
    expect(r.stderr.join('\n')).toMatch(/station stopped: tally: 1 updated, 0 failed/);

    const dev2 = bench.plug('/dev/ttyUSB5', { window: 1024 });
    bench.unplug('/dev/ttyUSB0');
    bench.unplug('/dev/ttyUSB1');
    dev2.dataDeaf = true;
    const q = runCli(['station', image, '--ports', '/dev/ttyUSB*', '--poll', '50']);
    for (let i = 0; i < 500 && !dev2.log.includes('DATA'); i++) await new Promise((r) => setTimeout(r, 2));
    process.emit('SIGINT');
    process.emit('SIGINT');
    const r2 = await q;
    expect(r2.status).toBe(130);
    expect(dev2.log).toContain('ABORT');
    expect(dev2.boot).toBe(0);
  });
});
