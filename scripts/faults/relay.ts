/**
 * A serial cable the fault matrix can cut: two socat pty pairs (device <-> devRelay, hostRelay <->
 * host) with this process copying bytes between the relay ends. `cut(ms, 'cable')` drops every
 * byte both ways for a while (a loose wire: both ports stay); `cut(ms, 'unplug')` makes the host's
 * port disappear and come back under the same name (a USB adapter re-enumerating), while the
 * device keeps running. `echoBegin(ms)` sends the device a second copy of the host's next BEGIN
 * that long after the first (a stray duplicate arriving in the middle of the data).
 */
import { FrameDecoder, decodeMessage, encodeMessage } from '../../src/protocol/index.js';
import { openSerialTransport, type SerialTransport } from '../../src/transport/serial.js';
import { ptyPair, sleep, type Proc } from './procs.js';

export class Relay {
  private forwarding = true;
  private hostSide: (Proc & { a: string; b: string }) | undefined;
  private hostEnd: SerialTransport | undefined;
  private stopped = false;
  private echo: number | undefined;
  /** When the duplicate BEGIN went to the device (Date.now()), once it has. */
  echoedAt: number | undefined;
  private readonly watch = new FrameDecoder();

  private constructor(
    private readonly dir: string,
    private readonly devSide: Proc & { a: string; b: string },
    private readonly devEnd: SerialTransport,
  ) {}

  static async start(dir: string): Promise<Relay> {
    const devSide = await ptyPair(dir, 'dev', 'dev-relay');
    const devEnd = await openSerialTransport(devSide.b, { baud: 115200 });
    const r = new Relay(dir, devSide, devEnd);
    devEnd.onData((b) => { if (r.forwarding) r.hostEnd?.write(b).catch(() => {}); });
    await r.plug();
    return r;
  }

  /** The device's port. */
  get dev(): string {
    return this.devSide.a;
  }

  /** The host's port (comes back under this name after an unplug). */
  get host(): string {
    return `${this.dir}/host`;
  }

  async cut(ms: number, how: 'cable' | 'unplug'): Promise<void> {
    if (how === 'cable') {
      this.forwarding = false;
      await sleep(ms);
      this.forwarding = true;
      return;
    }
    const end = this.hostEnd;
    this.hostEnd = undefined;
    await end?.close().catch(() => {});
    await this.hostSide?.kill('SIGTERM');
    await sleep(ms);
    if (!this.stopped) await this.plug();
  }

  echoBegin(afterMs: number): void {
    this.echo = afterMs;
  }

  private look(bytes: Uint8Array): void {
    for (const f of this.watch.push(bytes)) {
      const m = decodeMessage(f);
      if (m?.type !== 'BEGIN' || this.echo === undefined) continue;
      const copy = encodeMessage(m);
      setTimeout(() => {
        if (this.stopped) return;
        this.echoedAt = Date.now();
        this.devEnd.write(copy).catch(() => {});
      }, this.echo);
      this.echo = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.hostEnd?.close().catch(() => {});
    await this.devEnd.close().catch(() => {});
    await this.hostSide?.kill('SIGTERM');
    await this.devSide.kill('SIGTERM');
  }

  private async plug(): Promise<void> {
    this.hostSide = await ptyPair(this.dir, 'host-relay', 'host');
    const t = await openSerialTransport(this.hostSide.a, { baud: 115200 });
    t.onData((b) => {
      if (!this.forwarding) return;
      this.devEnd.write(b).catch(() => {});
      if (this.echo !== undefined) this.look(b);
    });
    this.hostEnd = t;
  }
}
