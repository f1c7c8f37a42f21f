/**
 * FTDI adapters hold bytes from the device until their buffer fills or their latency timer runs
 * out, 16 ms by default: every ACK reaches the host up to 16 ms late. With a window of frames in
 * flight that costs little on a clean line, but each lost frame is noticed and resent that much
 * later (README "Performance": at 3 Mbaud, 0.981 -> 0.957 of the line without errors and 0.897 ->
 * 0.850 at BER 1e-5, for 1 ms against 16 ms). Linux's ftdi_sio driver shows the timer in sysfs and
 * lets root set it to 1 ms; other drivers (CP210x, CH34x, CDC-ACM) have no such file, and then
 * there is nothing to say. Reading it never changes the port (setting it through serialport's
 * `set({ lowLatency })` would also toggle DTR/RTS, which resets an ESP32 on most boards).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface LatencyTimer {
  /** The adapter's latency timer (ms). */
  ms: number;
  /** The sysfs file that holds it (root can write 1 there). */
  file: string;
}

export interface LatencyTimerFs {
  /** Default /sys. */
  sysRoot?: string;
  /** Resolves symlinks such as /dev/serial/by-id/... (default fs.realpathSync). */
  resolve?: (path: string) => string;
  /** Reads a text file (default fs.readFileSync utf8). */
  read?: (path: string) => string;
}

/** The latency timer of the USB-serial port at `devPath`, or undefined where there is none to read. */
export function latencyTimerOf(devPath: string, o: LatencyTimerFs = {}): LatencyTimer | undefined {
  const resolve = o.resolve ?? realpathSync;
  const read = o.read ?? ((p: string) => readFileSync(p, 'utf8'));
  try {
    const tty = basename(resolve(devPath));
    if (!/^ttyUSB\d+$/.test(tty)) return undefined;
    const file = join(o.sysRoot ?? '/sys', 'bus/usb-serial/devices', tty, 'latency_timer');
    const ms = Number.parseInt(read(file).trim(), 10);
    return Number.isFinite(ms) && ms >= 0 ? { ms, file } : undefined;
  } catch {
    return undefined;
  }
}

/** Below this line rate the timer's 16 ms hardly shows (a 1 KiB frame takes 89 ms at 115200). */
export const LATENCY_HINT_MIN_BAUD = 460800;

/**
 * A one-paragraph hint for a port whose latency timer is above 1 ms at a rate where it matters,
 * naming the command that sets it to 1 ms; undefined otherwise.
 */
export function latencyTimerHint(port: string, timer: LatencyTimer | undefined, baud: number): string | undefined {
  if (!timer || timer.ms <= 1 || baud < LATENCY_HINT_MIN_BAUD) return undefined;
  return (
    `${port} is an FTDI adapter with a ${timer.ms} ms latency timer: every answer from the device waits up to ` +
    `${timer.ms} ms in the adapter, which can slow a push at ${baud} baud by a few %, more on a noisy line. ` +
    `For 1 ms until it is unplugged: echo 1 | sudo tee ${timer.file} ` +
    '(for good, a udev rule: see README "Pushing").'
  );
}
