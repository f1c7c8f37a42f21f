/**
 * A device keeps the line rate a host switched it to (SPEC §4.3: only a reset returns it to its
 * reset rate), but a port that is opened again starts at the initial rate. Found by the fault
 * matrix (scripts/faults, rows "link cut" and "host killed"): after a baud switch, a push whose
 * port vanished and came back, or a new push after the previous host died, talked to the device at
 * 115200 while it listened at 921600, and ended with NO_DEVICE instead of resuming.
 * The memory link models the mismatch (bytes at the wrong rate arrive as noise).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { OtaError } from '../../src/errors.js';
import { connectSim, createFlashImage, readDeviceState, SimDevice } from '../../src/device-sim/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { decodeMessage, FrameDecoder } from '../../src/protocol/index.js';
import { deviceInfo, push } from '../../src/session/index.js';
import type { Transport } from '../../src/transport/transport.js';
import { drive, makeImage, testKey } from '../device-sim/helpers.js';

const INITIAL = 115200;
const FAST = 921600;

function setup() {
  const clock = new FakeClock();
  const flash = createFlashImage();
  const device = new SimDevice({ flash, key: testKey, clock });
  /** Opens "the port": a new cable to the device, the host end at the initial rate as a real open is. */
  const open = (cutAfterHostBytes?: number) => async () => {
    const c = connectSim(device, { clock, link: cutAfterHostBytes ? { hostToDevice: { disconnectAfterBytes: cutAfterHostBytes } } : undefined });
    await c.host.setBaud(INITIAL);
    return c.host;
  };
  return { clock, flash, device, open };
}

/**
 * A push at FAST whose host loses its port for good after 32 KiB (its process dies, say): the
 * device is left at the switched rate. The push fails LINK_LOST.
 */
async function pushThenLosePort(clock: FakeClock, open: ReturnType<typeof setup>['open'], image: Uint8Array): Promise<void> {
  let opens = 0;
  const dying = async () => {
    if (opens++ > 0) throw new OtaError('PORT_NOT_FOUND', 'gone');
    return open(32 * 1024)();
  };
  const err = await drive(clock, push({ image, open: dying, clock, baud: FAST, reconnectTimeoutMs: 500 }).catch((e: unknown) => e));
  expect(err).toMatchObject({ code: 'LINK_LOST' });
}

describe('a device that resets after a baud switch (SPEC §4.5, informative host behaviour)', () => {
  it('is looked for again after 2 timeouts with only noise coming back, not after MAX_STALLS', async () => {
    const clock = new FakeClock();
    const flash = createFlashImage();
    // the reset ESP32 prints its boot log at 115200 while the host talks at 921600: noise
    const device = new SimDevice({ flash, key: testKey, clock, flashTiming: 'esp32', bootLog: true, faults: { resetAtOffset: 40_000 } });
    const { enc } = makeImage({ version: '2.0.0', size: 96 * 1024 });
    const reporter = new MemoryReporter();
    const open = async () => {
      const c = connectSim(device, { clock });
      await c.host.setBaud(INITIAL);
      return c.host;
    };
    const r = await drive(clock, push({ image: enc, open, clock, baud: FAST, reporter }));
    expect(device.stats.resets).toBe(1);
    expect(r.resyncs).toBe(1);
    expect(r.timeouts).toBeLessThanOrEqual(2); // it was MAX_STALLS + 1 = 9
    expect(String(reporter.ofType('resync')[0]!.reason)).toMatch(/only noise came back/);
    expect(Number(reporter.ofType('resume')[0]!.offset)).toBeGreaterThan(512);
    expect(r.baud).toBe(FAST);
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });

  it('a slow device that is BUSY erasing is not taken for reset: no resync, no timeout', async () => {
    const clock = new FakeClock();
    const flash = createFlashImage();
    // UART input lost during flash work: the device withholds credit and says BUSY around every
    // batch, with erases far slower than an ESP32's (many RTOs long)
    const slow = { sectorEraseMs: 900, blockEraseMs: 3000, pageProgramMs: 5 };
    const device = new SimDevice({ flash, key: testKey, clock, flashTiming: slow, iramUart: false, window: 4096 });
    const { enc } = makeImage({ version: '2.0.0', size: 96 * 1024 });
    const reporter = new MemoryReporter();
    const open = async () => {
      const c = connectSim(device, { clock });
      await c.host.setBaud(INITIAL);
      return c.host;
    };
    const r = await drive(clock, push({ image: enc, open, clock, baud: FAST, reporter }));
    expect(reporter.ofType('busy').length).toBeGreaterThan(10);
    expect(r.resyncs).toBe(0);
    expect(r.timeouts).toBe(0);
    expect(r.after.boot).toMatchObject({ slot: 'ota_0', version: '2.0.0' });
  });
});

describe('finding the device again at the rate it was switched to', () => {
  it('a port that vanishes mid-push and comes back at the initial rate: the push resumes at 921600', async () => {
    const { clock, flash, open } = setup();
    const { enc } = makeImage({ version: '2.0.0', size: 96 * 1024 });
    let opens = 0;
    const opener = async () => (opens++ === 0 ? open(40 * 1024)() : open()());
    const reporter = new MemoryReporter();
    const r = await drive(clock, push({ image: enc, open: opener, clock, baud: FAST, reporter }));
    expect(opens).toBe(2);
    expect(r.resyncs).toBe(1);
    expect(r.baud).toBe(FAST);
    expect(r.after.boot).toMatchObject({ slot: 'ota_0', version: '2.0.0' });
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });

  it('a new push after a host that had switched to 921600 went away finds the device there', async () => {
    const { clock, flash, device, open } = setup();
    const { enc } = makeImage({ version: '2.0.0', size: 64 * 1024 });
    // The first host loses its port for good half-way (its process dies, say): the device stays at 921600.
    await pushThenLosePort(clock, open, enc);
    expect(device.baud).toBe(FAST);
    const reporter = new MemoryReporter();
    const r = await drive(clock, push({ image: enc, open: open(), clock, baud: FAST, reporter }));
    expect(reporter.ofType('resume')).toHaveLength(1);
    expect(r.after.boot).toMatchObject({ slot: 'ota_0', version: '2.0.0' });
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });

  it('a push leaves the device at the initial rate again, so `info` (which only knows 115200) finds it', async () => {
    const { clock, device, open } = setup();
    const { enc } = makeImage({ version: '2.0.0', size: 32 * 1024 });
    const reporter = new MemoryReporter();
    const r = await drive(clock, push({ image: enc, open: open(), clock, baud: FAST, reporter }));
    expect(r.baud).toBe(FAST); // the transfer ran at 921600
    expect(device.baud).toBe(INITIAL);
    const info = await drive(clock, deviceInfo({ open: open(), clock }));
    expect(info.boot).toMatchObject({ slot: 'ota_0', version: '2.0.0' });
  });

  it('`info` finds a device an earlier host left at the switched rate (the host was killed before switching it back)', async () => {
    const { clock, device, open } = setup();
    const { enc } = makeImage({ version: '2.0.0', size: 96 * 1024 });
    // the first host loses its port for good after the switch: the device stays at 921600
    await pushThenLosePort(clock, open, enc);
    expect(device.baud).toBe(FAST);
    const info = await drive(clock, deviceInfo({ open: open(), clock, connectTimeoutMs: 5000, alsoTryBaud: FAST }));
    expect(info.running).toMatchObject({ slot: 'factory' });
  });
});

describe('switching the device back to the initial rate after a push', () => {
  /** `open` whose host end drops the first BAUD(rate) frame it is asked to send: lost on the wire. */
  const losingFirstBaud = (open: () => Promise<Transport>, rate: number, lost: { n: number; max: number }) => async () => {
    const t = await open();
    const write = t.write.bind(t);
    t.write = (bytes) => {
      const m = new FrameDecoder().push(bytes).map(decodeMessage).find((x) => x?.type === 'BAUD');
      if (m?.type === 'BAUD' && m.baud === rate && lost.n < lost.max) {
        lost.n++;
        return Promise.resolve();
      }
      return write(bytes);
    };
    return t;
  };

  it('tries again when its BAUD was lost, so `info` at 115200 still finds the device', async () => {
    const { clock, device, open } = setup();
    const { enc } = makeImage({ version: '2.0.0', size: 32 * 1024 });
    const reporter = new MemoryReporter();
    const lost = { n: 0, max: 1 };
    const r = await drive(clock, push({ image: enc, open: losingFirstBaud(open(), INITIAL, lost), clock, baud: FAST, reporter }));
    expect(lost.n).toBe(1);
    expect(r.baud).toBe(FAST);
    expect(device.baud).toBe(INITIAL);
    expect(reporter.ofType('log').filter((e) => e.level === 'warn')).toEqual([]);
    const info = await drive(clock, deviceInfo({ open: open(), clock }));
    expect(info.boot).toMatchObject({ slot: 'ota_0', version: '2.0.0' });
  });

  it('says where the device is when it never switched back', async () => {
    const { clock, device, open } = setup();
    const { enc } = makeImage({ version: '2.0.0', size: 32 * 1024 });
    const reporter = new MemoryReporter();
    const lost = { n: 0, max: Infinity };
    const r = await drive(clock, push({ image: enc, open: losingFirstBaud(open(), INITIAL, lost), clock, baud: FAST, reporter }));
    expect(r.after.boot.version).toBe('2.0.0'); // the update is in regardless
    expect(lost.n).toBe(3);
    expect(device.baud).toBe(FAST);
    expect(reporter.ofType('log').map((e) => e.message)).toContain(
      'the device did not switch back to 115200 baud and stays at 921600 until it resets: reset it, or give --initial-baud 921600 to tools that look for it',
    );
  });
});
