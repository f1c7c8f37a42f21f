/**
 * The single receiver of a Transport's incoming bytes (Transport.onData). Bytes that arrive before
 * a receiver is set are kept and handed over, in order, when one is: a device's first reply may
 * come in the same turn the port opens.
 */
export class Inbox {
  private cb: ((bytes: Uint8Array) => void) | undefined;
  private early: Uint8Array[] = [];

  deliver(bytes: Uint8Array): void {
    if (this.cb) this.cb(bytes);
    else this.early.push(bytes);
  }

  /** Replaces the receiver; it gets whatever arrived before it first. */
  set(cb: (bytes: Uint8Array) => void): void {
    this.cb = cb;
    const early = this.early;
    this.early = [];
    for (const chunk of early) cb(chunk);
  }

  /** Forgets what no receiver took (the link ended). */
  clear(): void {
    this.early = [];
  }
}
