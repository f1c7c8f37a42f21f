/**
 * How long the simulated device is busy, on whatever clock it runs.
 *
 * Node runs a timeout on its loop's whole-millisecond clock: a 2.8 ms page program slept with
 * setTimeout comes back after 2.2 ms on average, a 0.7 ms record write after 1.2 ms. A device
 * that slept op by op therefore programmed its flash 20 % faster than the model (the bench's flash
 * row at 3 Mbaud beat the device's own ceiling computed on a fake clock). So work is timed against
 * absolute deadlines: a sleep that comes back early sleeps again for the rest.
 *
 * The model also gives the device's CPU no time (decrypting 1 KiB is tens of microseconds on an
 * ESP32), but the simulator's JavaScript between two flash operations takes ~1 ms of real time.
 * So work that follows other work without the task having waited for input in between is due
 * from where the earlier work was due to end: the simulator's own overhead and late timers do not
 * add up, while time the device really spent waiting for bytes is not made up for.
 */
import type { Clock } from '../clock.js';

export class BusyTimer {
  private until = Number.NEGATIVE_INFINITY;
  private waited = true;

  constructor(private readonly clock: Clock) {}

  /** The device's task ran out of input and waits for more (the next work starts from now). */
  idle(): void {
    this.waited = true;
  }

  /** Resolves once `ms` of work is done. */
  async busy(ms: number): Promise<void> {
    if (!(ms > 0)) return;
    const start = this.waited ? Math.max(this.clock.now(), this.until) : this.until;
    this.waited = false;
    const deadline = start + ms;
    this.until = deadline;
    // Bounded: a clock whose sleep does not advance must not hang the device.
    for (let i = 0; i < 16; i++) {
      const left = deadline - this.clock.now();
      if (left <= 0) return;
      await this.clock.sleep(left);
    }
  }
}
