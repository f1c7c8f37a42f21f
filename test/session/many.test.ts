import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { STATUS } from '../../src/protocol/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { exitStatusOf, pushMany } from '../../src/session/push-many.js';
import { runStation } from '../../src/session/station.js';
import { createMemoryLink } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import { FakeDevice, type FakeDeviceOptions } from './fake-device.js';
import { drive, testImage } from './rig.js';

const image = testImage(20_000);

/** A bench of named ports, each with its own FakeDevice, that can be plugged and unplugged. */
class Bench {
  readonly devices = new Map<string, FakeDevice>();
  readonly opens = new Map<string, number>();
  constructor(readonly clock: FakeClock) {}
  plug(port: string, o: FakeDeviceOptions = {}): FakeDevice {
    const d = new FakeDevice(o);
    this.devices.set(port, d);
    return d;
  }
  unplug(port: string): void {
    this.devices.delete(port);
  }
  list = async (): Promise<string[]> => [...this.devices.keys()];
  open = async (port: string): Promise<Transport> => {
    const d = this.devices.get(port);
    if (!d) throw new Error(`no ${port}`);
    this.opens.set(port, (this.opens.get(port) ?? 0) + 1);
    const [h, dev] = createMemoryLink({ clock: this.clock });
    d.attach(dev);
    return h;
  };
}

describe('pushMany', () => {
  it('pushes to every port concurrently; one failure does not stop the others; records carry identity and versions', async () => {
    const clock = new FakeClock();
    const bench = new Bench(clock);
    bench.plug('A');
    bench.plug('B', { endStatus: STATUS.AUTH_FAILED });
    bench.plug('C', { runVersion: '0.9.0' });
    const reporters = new Map<string, MemoryReporter>();
    const finished: string[] = [];
    const { value: records } = await drive(clock, pushMany({
      image, imageName: 'app.enc', clock,
      targets: ['A', 'B', 'C'].map((port) => ({ port, open: () => bench.open(port) })),
      reporterFor: (port) => { const r = new MemoryReporter(); reporters.set(port, r); return r; },
      onRecord: (r) => finished.push(r.port),
    }));
    expect(records!.map((r) => [r.port, r.ok, r.code])).toEqual([['A', true, 'OK'], ['B', false, 'AUTH_FAILED'], ['C', true, 'OK']]);
    expect(records![2]).toMatchObject({ device: { chip: 'ESP32', project: 'fake_app' }, before: { running: { version: '0.9.0' } }, after: { boot: { slot: 'ota_0', version: 'new' } } });
    expect(records![1]).toMatchObject({ exitStatus: 6, before: { running: { version: '1.0.0' } } });
    expect(records![1]!.after).toBeUndefined();
    expect(finished.sort()).toEqual(['A', 'B', 'C']);
    expect(exitStatusOf(records!)).toBe(6);
    expect(exitStatusOf([records![0]!, records![2]!])).toBe(0);
    // each port's events went to its own reporter
    for (const p of ['A', 'B', 'C']) expect(reporters.get(p)!.ofType('hello')).toHaveLength(1);
  });

  it('runs them at the same time, not one after another', async () => {
    const clock = new FakeClock();
    const bench = new Bench(clock);
    for (const p of ['A', 'B', 'C', 'D']) bench.plug(p);
    let active = 0;
    let maxActive = 0;
    const reporterFor = () => ({ event: (e: { type: string }) => {
      if (e.type === 'begin') maxActive = Math.max(maxActive, ++active);
      if (e.type === 'result') active--;
    } });
    await drive(clock, pushMany({ image, clock, targets: [...bench.devices.keys()].map((port) => ({ port, open: () => bench.open(port) })), reporterFor: reporterFor as never }));
    expect(maxActive).toBe(4);
  });

  it('a port that cannot be opened is a failed record with its code', async () => {
    const clock = new FakeClock();
    const { OtaError } = await import('../../src/errors.js');
    const { value } = await drive(clock, pushMany({ image, clock, targets: [{ port: '/dev/ttyUSB9', open: async () => { throw new OtaError('PORT_NOT_FOUND', 'serial port /dev/ttyUSB9 does not exist'); } }] }));
    expect(value![0]).toMatchObject({ port: '/dev/ttyUSB9', ok: false, code: 'PORT_NOT_FOUND', exitStatus: 10 });
  });
});

describe('runStation', () => {
  it('pushes once per attached device, again only after a re-plug, and keeps a tally', async () => {
    const clock = new FakeClock();
    const bench = new Bench(clock);
    const reporter = new MemoryReporter();
    const stop = new AbortController();
    bench.plug('A');
    const p = runStation({ image, clock, listPorts: bench.list, openPort: bench.open, pollMs: 100, settleMs: 50, reporter, stop: stop.signal });
    const result = drive(clock, p);
    const devices = () => reporter.ofType('device');
    const until = async (cond: () => boolean) => { for (let i = 0; i < 4000 && !cond(); i++) await clock.advance(5); expect(cond()).toBe(true); };

    await until(() => devices().length === 1);
    expect(devices()[0]!.record).toMatchObject({ port: 'A', ok: true });
    // it stays plugged: no second push
    await clock.advance(2000);
    expect(devices()).toHaveLength(1);
    // a second board on another port, one that refuses
    bench.plug('B', { beginStatus: STATUS.WRONG_KEY });
    await until(() => devices().length === 2);
    expect(devices()[1]!.tally).toEqual({ ok: 1, failed: 1, active: 0 });
    // re-plug A (a new board on the same port): pushed again
    bench.unplug('A');
    await until(() => reporter.ofType('detached').length === 1);
    bench.plug('A');
    await until(() => devices().length === 3);
    expect(bench.opens.get('A')).toBe(2);
    expect(bench.opens.get('B')).toBe(1);
    stop.abort();
    const { value } = await result;
    expect(value).toEqual({ ok: 2, failed: 1, active: 0 });
  });

  it('on stop, lets a push in flight finish and takes no new devices', async () => {
    const clock = new FakeClock();
    const bench = new Bench(clock);
    const reporter = new MemoryReporter();
    const stop = new AbortController();
    bench.plug('A', { window: 1024 });
    const pushEvents = new MemoryReporter();
    const p = runStation({ image, clock, listPorts: bench.list, openPort: bench.open, pollMs: 100, settleMs: 0, reporter, reporterFor: () => pushEvents, stop: stop.signal });
    const result = drive(clock, p);
    for (let i = 0; i < 2000 && pushEvents.ofType('progress').length < 2; i++) await clock.advance(1);
    stop.abort();
    bench.plug('B');
    const { value } = await result;
    expect(value).toEqual({ ok: 1, failed: 0, active: 0 });
    expect(reporter.ofType('stopping')).toHaveLength(1);
    expect(bench.opens.get('B')).toBeUndefined();
  });

  it('on abort, aborts the push in flight cleanly (ABORT sent, device untouched)', async () => {
    const clock = new FakeClock();
    const bench = new Bench(clock);
    const reporter = new MemoryReporter();
    const ac = new AbortController();
    const dev = bench.plug('A', { window: 1024 });
    const pushEvents = new MemoryReporter();
    const p = runStation({ image, clock, listPorts: bench.list, openPort: bench.open, pollMs: 100, settleMs: 0, reporter, reporterFor: () => pushEvents, signal: ac.signal });
    const result = drive(clock, p);
    for (let i = 0; i < 2000 && pushEvents.ofType('progress').length < 2; i++) await clock.advance(1);
    ac.abort();
    const { value } = await result;
    expect(value).toEqual({ ok: 0, failed: 1, active: 0 });
    expect(reporter.ofType('device')[0]!.record.code).toBe('ABORTED');
    expect(dev.log).toContain('ABORT');
    expect(dev.boot).toBe(0);
  });

  it('does not push again to a board that re-enumerates after the reboot it was told to do', async () => {
    const clock = new FakeClock();
    const bench = new Bench(clock);
    const reporter = new MemoryReporter();
    const stop = new AbortController();
    bench.plug('A');
    const p = runStation({ image, clock, reboot: true, rebootGraceMs: 5000, listPorts: bench.list, openPort: bench.open, pollMs: 100, settleMs: 0, reporter, stop: stop.signal });
    const result = drive(clock, p);
    for (let i = 0; i < 4000 && reporter.ofType('device').length < 1; i++) await clock.advance(5);
    const dev = bench.devices.get('A')!;
    bench.unplug('A');
    await clock.advance(500);
    bench.devices.set('A', dev); // the same board, back after its reset
    await clock.advance(3000);
    expect(bench.opens.get('A')).toBe(1);
    stop.abort();
    await result;
  });
});
