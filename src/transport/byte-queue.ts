/**
 * FIFO of byte chunks. `take(n)` hands out exactly n bytes, as a view when they sit in one chunk
 * and as one copy otherwise, so a paced link moves data in batches without per-byte concatenation.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Read offset into chunks[0]. */
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  take(count: number): Uint8Array {
    const n = Math.max(0, Math.min(count, this.size));
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(first, n);
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.head, n - o);
      out.set(c.subarray(this.head, this.head + k), o);
      o += k;
      this.advance(c, k);
    }
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.size = 0;
  }

  private advance(chunk: Uint8Array, k: number): void {
    this.head += k;
    this.size -= k;
    if (this.head === chunk.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
