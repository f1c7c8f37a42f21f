/**
 * Makes a real serial port (or pty) behave like the simulated device's UART: bytes reach the device
 * no faster than the line rate allows (10 bits a byte) and its replies leave no faster either. A
 * pty passes bytes at memory speed, so without this `ota-uart simulate` would swallow a whole
 * window in an instant and never show the timing (or the blackout losses) of a real ESP32. Both
 * directions reuse the memory link's pacing model (transport/link-model.ts).
 */
import type { Clock } from '../clock.js';
import type { OtaError } from '../errors.js';
import { LinkDirection } from '../transport/link-model.js';
import type { Transport } from '../transport/transport.js';

export interface PacedPort extends Transport {
  /** Adds a listener for the loss of the port (the Transport contract keeps only the last one set by onClose). */
  addCloseListener(cb: (err: OtaError) => void): void;
}

export interface PaceOptions {
  /**
   * Also change the rate of the OS port on a baud switch (default true). A pty has no line rate,
   * and changing it there (tcsetattr through serialport's update()) was seen to stall reception
   * for a second or two now and then, which makes the host's baud confirmation fail; so
   * `ota-uart simulate` turns this off on ptys.
   */
  osBaud?: boolean;
}

/**
 * The same PacedPort interface without any pacing, for a port that is already paced by something
 * else (a real UART, or the bench's link emulator, which paces, delays and corrupts each
 * direction itself): pacing twice would add a second queue's delay to every frame.
 */
export function unpacedPort(port: Transport): PacedPort {
  let closeCb: ((err: OtaError) => void) | undefined;
  const extra = new Set<(err: OtaError) => void>();
  port.onClose((err) => {
    closeCb?.(err);
    for (const l of extra) l(err);
  });
  return {
    write: (bytes) => port.write(bytes),
    drain: () => port.drain(),
    onData: (cb) => port.onData(cb),
    onClose: (cb) => {
      closeCb = cb;
    },
    addCloseListener: (cb) => void extra.add(cb),
    setBaud: (baud) => port.setBaud(baud).catch(() => {}),
    get baud() {
      return port.baud;
    },
    get isOpen() {
      return port.isOpen;
    },
    close: () => port.close(),
  };
}

export function pacePort(port: Transport, clock: Clock, o: PaceOptions = {}): PacedPort {
  const osBaud = o.osBaud ?? true;
  let rate = port.baud;
  let dataCb: ((bytes: Uint8Array) => void) | undefined;
  let closeCb: ((err: OtaError) => void) | undefined;
  const extra = new Set<(err: OtaError) => void>();
  const ignore = (): void => {};
  // Input: the host's bytes as they would arrive over a real wire at `rate`.
  const rx = new LinkDirection({ pace: true, txBufferBytes: 1 << 30 }, { clock, baud: rate, deliver: (b) => dataCb?.(b), onCut: ignore });
  // Output: the device's UART shifts its replies out at `rate`.
  const tx = new LinkDirection({ pace: true }, { clock, baud: rate, deliver: (b) => void port.write(b).catch(ignore), onCut: ignore });
  port.onData((b) => void rx.write(b).catch(ignore));
  port.onClose((err) => {
    closeCb?.(err);
    for (const l of extra) l(err);
  });
  return {
    write: (bytes) => tx.write(bytes.slice()),
    drain: async () => {
      await tx.drain();
      await port.drain();
    },
    onData: (cb) => {
      dataCb = cb;
    },
    onClose: (cb) => {
      closeCb = cb;
    },
    addCloseListener: (cb) => void extra.add(cb),
    setBaud: async (baud) => {
      // A real adapter may refuse a rate (the device then just paces at it).
      if (osBaud) await port.setBaud(baud).catch(ignore);
      for (const d of [rx, tx]) {
        d.setTxBaud(baud);
        d.setRxBaud(baud);
      }
      rate = baud;
    },
    get baud() {
      return rate;
    },
    get isOpen() {
      return port.isOpen;
    },
    close: async () => {
      const err = new Error('closed');
      rx.shutdown(err);
      tx.shutdown(err);
      await port.close();
    },
  };
}
