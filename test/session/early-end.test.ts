/**
 * END right after the last DATA frame (SPEC §4.7, session/early-end.ts): to a device with an
 * IRAM-safe UART the host sends END before the last ACK is back, saving a round trip; to one that
 * loses input during flash work it still waits for the last ACK. If the last frame is lost, the
 * early END gets INCOMPLETE, the host resends and sends END again right behind the resends, and
 * the right image boots.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { connectSim, createFlashImage, readDeviceState, SimDevice } from '../../src/device-sim/index.js';
import { decodeMessage, FrameDecoder, STATUS, type Message } from '../../src/protocol/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { push } from '../../src/session/index.js';
import type { Transport } from '../../src/transport/transport.js';
import { DEVICE_KEY, drive, tapFrames, testImage } from './rig.js';

const LATENCY = 16;

/** The host end, with a log of when END left and when the ACK completing the image arrived. */
function tapped(host: Transport, clock: FakeClock, total: number, corrupt?: (m: Message) => boolean) {
  const log = { endAt: [] as number[], lastAckAt: Number.NaN, results: [] as number[] };
  tapFrames(host, (m) => {
    if (m.type === 'END') log.endAt.push(clock.now());
    return corrupt?.(m) ?? false;
  });
  const onData = host.onData.bind(host);
  const decoder = new FrameDecoder(); // one for the whole stream: a frame may come in two pieces
  host.onData = (cb) => onData((b) => {
    for (const m of decoder.push(b).map(decodeMessage).filter((x): x is Message => x !== undefined)) {
      if (m.type === 'ACK' && m.nextOffset === total && Number.isNaN(log.lastAckAt)) log.lastAckAt = clock.now();
      if (m.type === 'RESULT') log.results.push(m.status);
    }
    cb(b);
  });
  return log;
}

async function run(iramUart: boolean, corrupt?: (m: Message) => boolean, corruptDevice?: (m: Message) => boolean) {
  const clock = new FakeClock();
  const flash = createFlashImage();
  const device = new SimDevice({ flash, key: DEVICE_KEY, clock, iramUart, flashTiming: 'instant', baud: 921600 });
  await drive(clock, device.settled());
  const image = testImage(20_000, '3.0.0');
  let log: ReturnType<typeof tapped> | undefined;
  const open = async (): Promise<Transport> => {
    const c = connectSim(device, { clock, link: { hostToDevice: { latencyMs: LATENCY }, deviceToHost: { latencyMs: LATENCY } } });
    log = tapped(c.host, clock, image.length, corrupt);
    if (corruptDevice) tapFrames(c.link[1], corruptDevice);
    return c.host;
  };
  const reporter = new MemoryReporter();
  const out = await drive(clock, push({ image, open, clock, reporter }));
  return { out, log: log!, flash, reporter, image };
}

describe('END without waiting for the last ACK', () => {
  it('goes out before the last ACK to a device with an IRAM-safe UART, and the image boots', async () => {
    const { out, log, flash } = await run(true);
    expect(out.error).toBeUndefined();
    expect(log.endAt).toHaveLength(1);
    expect(log.endAt[0]).toBeLessThan(log.lastAckAt); // a round trip saved
    expect(readDeviceState(flash, { chipRev: 300 }).parts.find((p) => p.label === 'ota_0')).toMatchObject({ valid: true, version: '3.0.0' });
  });

  it('waits for the last ACK when the device loses input during flash work', async () => {
    const { out, log } = await run(false);
    expect(out.error).toBeUndefined();
    expect(log.endAt).toHaveLength(1);
    expect(log.endAt[0]).toBeGreaterThanOrEqual(log.lastAckAt);
  });

  it('resends and ends again when the early END finds the last frame missing (INCOMPLETE)', async () => {
    const imageLength = testImage(20_000, '3.0.0').length; // same size every time
    let spoiled = false;
    let spoiledChunks = 0;
    const lastFrame = (m: Message): boolean => {
      if (spoiled || m.type !== 'DATA' || m.offset + m.data.length !== imageLength) return false;
      spoiled = true;
      spoiledChunks = Math.ceil(m.data.length / 1024); // the frame may carry several chunks (SPEC §4.5)
      return true;
    };
    const { out, log, flash, reporter } = await run(true, lastFrame);
    expect(spoiled).toBe(true);
    expect(out.error).toBeUndefined();
    expect(log.results).toEqual([STATUS.INCOMPLETE, STATUS.OK]);
    expect(log.endAt).toHaveLength(2);
    // The second END follows the resends at once, not their ACK: another round trip saved.
    expect(log.endAt[1]).toBeLessThan(log.lastAckAt);
    // The INCOMPLETE itself says what is missing: resent at once, not after a timeout.
    // Exactly the chunks of the lost frame, each once.
    expect(spoiledChunks).toBeGreaterThan(0);
    expect(reporter.ofType('retry').map((e) => e['reason'])).toEqual(Array(spoiledChunks).fill('lost'));
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });

  it('sends END again at once when a hole resent after it fills and its INCOMPLETE never came', async () => {
    // Last frame lost, then the INCOMPLETE for the early END lost too: the timeout resends the
    // last frame, and the ACK completing the image can only come after an INCOMPLETE that was
    // lost (frames keep their order). The host used to wait for that RESULT until the device had
    // been silent for 200 ms and then repeat END.
    const imageLength = testImage(20_000, '3.0.0').length;
    let frameSpoiled = false;
    let resultSpoiled = false;
    const lastFrame = (m: Message): boolean => {
      if (frameSpoiled || m.type !== 'DATA' || m.offset + m.data.length !== imageLength) return false;
      frameSpoiled = true;
      return true;
    };
    const incomplete = (m: Message): boolean => {
      if (resultSpoiled || m.type !== 'RESULT' || m.status !== STATUS.INCOMPLETE) return false;
      resultSpoiled = true;
      return true;
    };
    const { out, log, reporter, flash } = await run(true, lastFrame, incomplete);
    expect(frameSpoiled && resultSpoiled).toBe(true);
    expect(out.error).toBeUndefined();
    expect(log.results).toEqual([STATUS.OK]);
    expect(log.endAt).toHaveLength(2);
    expect(log.endAt[1]! - log.lastAckAt).toBeLessThan(5); // not 200 ms of silence later
    expect(reporter.ofType('retry').filter((e) => e['reason'] === 'unanswered')).toEqual([]);
    expect(reporter.ofType('resync')).toEqual([]);
    expect(readDeviceState(flash, { chipRev: 300 }).bootLabel).toBe('ota_0');
  });

  it('takes the RESULT as the end when the ACK for the last frame is lost on its way back', async () => {
    // The device had every byte, verified, and answered the early END with RESULT(OK); only the
    // ACK that completed the image was hit. The host used to keep probing for that ACK, got
    // NO_SESSION for the probe and reconnected to find out what happened.
    const imageLength = testImage(20_000, '3.0.0').length;
    let spoiled = false;
    const lastAck = (m: Message): boolean => {
      if (spoiled || m.type !== 'ACK' || m.nextOffset !== imageLength) return false;
      spoiled = true;
      return true;
    };
    const { out, log, reporter } = await run(true, undefined, lastAck);
    expect(spoiled).toBe(true);
    expect(out.error).toBeUndefined();
    expect(log.results).toEqual([STATUS.OK]);
    expect(reporter.ofType('resync')).toEqual([]);
    expect(reporter.ofType('retry')).toEqual([]);
    expect(out.value!.after.boot).toMatchObject({ slot: 'ota_0', version: '3.0.0' });
  });
});
