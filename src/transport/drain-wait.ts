/**
 * Waiting for a stream's 'drain' after a write above its high-water mark. Every write held back
 * shares one listener: a device that queues its replies without awaiting them could otherwise
 * stack one per write (Node warns past ten) until the stream drains.
 */
export class DrainWait {
  private pending: Promise<void> | undefined;

  constructor(private readonly stream: { once(event: 'drain', cb: () => void): unknown }) {}

  /** Resolves at the stream's next 'drain'. */
  next(): Promise<void> {
    this.pending ??= new Promise<void>((resolve) => this.stream.once('drain', () => {
      this.pending = undefined;
      resolve();
    }));
    return this.pending;
  }
}
