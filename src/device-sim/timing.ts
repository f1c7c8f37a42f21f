/**
 * How long the simulated ESP32 takes for the things that are slow on the real chip: flash erase and
 * program (flash.ts), the RSA/ECIES key unwrap, rebuilding the GCM state after a reset, verifying
 * the app like esp_image_verify, and booting. 'instant' makes all of it take no time (unit tests);
 * 'esp32' uses datasheet-typical and measured-order values (module comments say where from).
 */
import { FLASH_TIMINGS, resolveFlashTiming, type FlashTiming } from './flash.js';

export type TimingModel = 'instant' | 'esp32';

export interface DeviceTiming {
  flash: FlashTiming;
  /** RSA-3072 private-key operation with the ESP32's MPI accelerator: a few hundred ms. */
  unwrapRsaMs: number;
  /** P-256 ECDH in software plus HKDF (the PBKDF2 step runs once at start-up, not per image). */
  unwrapEciesMs: number;
  /** Re-encrypting plaintext read back from flash to rebuild AES-GCM (AES in hardware, GHASH in software). */
  replayMsPerKiB: number;
  /** esp_image_verify: reading the image through the cache and hashing it with SHA-256 in hardware. */
  verifyMsPerKiB: number;
  /** Reset to "receiver listening": ROM + second-stage bootloader + app start. The UART is deaf meanwhile. */
  bootMs: number;
}

export const DEVICE_TIMINGS: Readonly<Record<TimingModel, DeviceTiming>> = {
  instant: { flash: FLASH_TIMINGS.instant, unwrapRsaMs: 0, unwrapEciesMs: 0, replayMsPerKiB: 0, verifyMsPerKiB: 0, bootMs: 0 },
  esp32: { flash: FLASH_TIMINGS.esp32, unwrapRsaMs: 250, unwrapEciesMs: 50, replayMsPerKiB: 0.5, verifyMsPerKiB: 0.25, bootMs: 250 },
};

/** A named model, or a full custom one; flash timing may also be given on its own. */
export function resolveDeviceTiming(t: TimingModel | FlashTiming | undefined): DeviceTiming {
  if (t === undefined || typeof t === 'string') return DEVICE_TIMINGS[t ?? 'instant'];
  return { ...DEVICE_TIMINGS.instant, flash: resolveFlashTiming(t) };
}
