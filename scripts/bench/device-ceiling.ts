/**
 * How fast the simulated ESP32 with realistic timings could take an image if the wire were
 * infinitely fast: the same image pushed in-process over an unpaced in-memory link on a fake
 * clock, so the elapsed fake time is exactly the device's own work (key unwrap, erase ahead,
 * page programs, a resume record every 64 KiB as the firmware keeps it, final verification). That is the ceiling the "ota-uart-flash"
 * rows are judged against, beside the bare flash figure (sequential 64 KiB erase + program).
 */
import { readFileSync } from 'node:fs';
import { FakeClock } from '../../src/clock.js';
import { connectSim, createFlashImage, FLASH_TIMINGS, flashCeiling, SimDevice } from '../../src/device-sim/index.js';
import { loadDecryptionKey } from '../../src/image/index.js';
import { push } from '../../src/session/index.js';
import { SIM_KEY, type BenchImage } from './image.js';
import { FIRMWARE_RECORD_INTERVAL } from './ota.js';

export interface DeviceCeiling {
  /** Image bytes / the device's total busy time for this image (bytes/s). */
  device_bps: number;
  /** Of which: milliseconds of flash work, and everything (unwrap, verify, flash). */
  flash_ms: number;
  total_ms: number;
  /** Bare NOR figure: sequential 64 KiB erase + program, nothing else (bytes/s). */
  flash_only_bps: number;
}

export async function deviceCeiling(image: BenchImage): Promise<DeviceCeiling> {
  const clock = new FakeClock();
  const device = new SimDevice({ flash: createFlashImage(), key: loadDecryptionKey(readFileSync(SIM_KEY)), clock, flashTiming: 'esp32', iramUart: true, recordInterval: FIRMWARE_RECORD_INTERVAL });
  await drive(clock, device.settled()); // boot
  const c = connectSim(device, { clock, link: { pace: false } });
  const t0 = clock.now();
  await drive(clock, push({ image: readFileSync(image.path), open: async () => c.host, clock, allowDowngrade: true }));
  const total = clock.now() - t0;
  await c.close();
  return {
    device_bps: Math.round((image.bytes * 1000) / total),
    flash_ms: Math.round(device.stats.flashBusyMs),
    total_ms: Math.round(total),
    flash_only_bps: Math.round(flashCeiling(FLASH_TIMINGS.esp32)),
  };
}

/** Advances the fake clock in 1 ms steps until `p` settles. */
async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => { done = true; });
  watched.catch(() => {});
  for (let t = 0; !done && t < 3_600_000; t += 1) await clock.advance(1);
  return watched;
}
