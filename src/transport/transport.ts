/**
 * The narrow byte-link interface every layer above talks to. Implementations: `serial.ts` (the only
 * file that imports serialport) and `memory.ts` (an in-memory pair that can pace, delay, fragment,
 * corrupt, drop and disconnect). The protocol and session layers never see anything else.
 */
import type { OtaError } from '../errors.js';

export interface Transport {
  /**
   * Queues bytes for sending. Resolves once the link accepted them (back-pressure: callers may
   * await it to avoid unbounded buffering). Rejects with OtaError LINK_LOST once the link is gone.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves when every byte written so far has left this end (needed before a baud switch). */
  drain(): Promise<void>;
  /** Sets the single receiver of incoming bytes (replaces any previous one). */
  onData(cb: (bytes: Uint8Array) => void): void;
  /** Sets the single listener for an unexpected loss of the link (unplug, peer gone). */
  onClose(cb: (err: OtaError) => void): void;
  /** Changes the line rate. Rejects with BAUD_UNSUPPORTED if the adapter refuses it. */
  setBaud(baud: number): Promise<void>;
  readonly baud: number;
  readonly isOpen: boolean;
  /** Closes this end on purpose (no onClose callback). Idempotent. */
  close(): Promise<void>;
}
