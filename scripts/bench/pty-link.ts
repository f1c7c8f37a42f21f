/**
 * The link emulator on real ptys: an emulated full-duplex UART between two pseudo-terminals, so any
 * program that talks to a serial port (ota-uart push, ota-uart simulate, lrzsz's sz/rz/sx/rx) can
 * run across it unchanged.
 *
 *   program A <-> pty A (socat) <-> relay <-> pty B (socat) <-> program B
 *
 * Two socat processes each join an outer pty (the path the program opens) to a unix socket of the
 * relay, with small buffers (socat -b, sndbuf) so that back-pressure reaches the program quickly; a
 * second pty plus serialport on the relay side would add ~25 KiB of hidden buffer, a threadpool hop
 * per read and much more CPU. Between the two sockets the relay runs the same
 * per-direction UART model as the in-memory link (src/transport/link-model.ts + link-faults.ts):
 * each direction paced at baud/10 bytes/s from an absolute time anchor, a one-way latency, and an
 * optional bit error rate and byte drop rate. Nothing is paced by the ptys themselves (a pty moves
 * tens of MB/s whatever baud it is told).
 *
 * Back-pressure: the relay stops reading a side while more than `txBufferBytes` of its output wait
 * for the wire, like a UART driver's ring buffer, so the program's write() eventually blocks. The
 * ptys and socat still hold some bytes ahead of the model (measured by the self-test as "writer
 * lead"); a real USB adapter lets a writer get about 4-5 KiB ahead.
 *
 * The relay records when the first byte entered each direction and when the last byte was
 * delivered, which is what the bench times a transfer by: process start-up is not part of it.
 */
import { closeSync, constants as fsc, mkdirSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { systemClock } from '../../src/clock.js';
import { LinkDirection, type LinkDirectionOptions, type LinkDirectionStats } from '../../src/transport/link-model.js';
import { seededRng } from '../../src/transport/rng.js';
import { startChild, waitForFile, type Child } from './proc.js';

export interface PtyLinkOptions {
  /** Directory for the pty links (created if missing). */
  dir: string;
  baud: number;
  /** One-way latency in ms, each direction (USB adapter: ~1 ms CP210x/CH34x, 16 ms FTDI default). */
  latencyMs?: number;
  /** Bit error rate, each direction. */
  ber?: number;
  /** Probability that a byte is lost, each direction. */
  dropRate?: number;
  /** Seed of the fault model (each direction derives its own stream). */
  seed?: number;
  /** Names of the two program-side links in `dir`. Default ttyA, ttyB. */
  names?: [string, string];
  /** Bytes the model holds per direction before the relay stops reading that side. Default 2048. */
  txBufferBytes?: number;
  /** Wire time per delivery batch. Default 1 ms (Node timers are not finer). */
  batchMs?: number;
}

export interface DirectionTimes {
  /** performance.now() when the relay first read a byte in this direction since the last reset; NaN if none. */
  firstIn: number;
  /** When the last byte of this direction was delivered; NaN if none. */
  lastOut: number;
  /**
   * Milliseconds the wire of this direction stood idle between its first and last byte (nothing
   * to send): a sender that cannot keep the line busy (window, ACK turnaround, CPU) shows here.
   */
  idleMs: number;
  /** When the bytes accepted so far finish on the wire (bookkeeping for idleMs). */
  busyUntil: number;
}

export interface PtyLinkStats {
  aToB: LinkDirectionStats & DirectionTimes;
  bToA: LinkDirectionStats & DirectionTimes;
}

/**
 * Bytes the model holds per direction before the relay stops reading that side: about 7 ms of wire
 * time at 3 Mbaud, enough to ride out event-loop hiccups, and small because the outer pty already
 * lets a writer get ~20 KiB ahead that no relay can take back.
 */
const DEFAULT_TX_BUFFER = 2048;
/** socat's transfer buffer and the socket buffers on the socat side (the kernel doubles and floors them). */
const SOCAT_BUFFER = 1024;

export class PtyLink {
  readonly pathA: string;
  readonly pathB: string;
  private readonly socats: Child[] = [];
  private servers: Server[] = [];
  private sockets: Socket[] = [];
  private holders: number[] = [];
  private dirs: LinkDirection[] = [];
  private times: DirectionTimes[] = [fresh(), fresh()];
  private closed = false;

  private constructor(private readonly o: PtyLinkOptions) {
    const [a, b] = o.names ?? ['ttyA', 'ttyB'];
    this.pathA = join(o.dir, a);
    this.pathB = join(o.dir, b);
  }

  static async start(o: PtyLinkOptions): Promise<PtyLink> {
    const link = new PtyLink(o);
    try {
      await link.open();
    } catch (e) {
      await link.close();
      throw e;
    }
    return link;
  }

  get baud(): number {
    return this.o.baud;
  }

  /** Counters and times since the last reset. */
  stats(): PtyLinkStats {
    const [ab, ba] = this.dirs;
    return {
      aToB: { ...ab!.stats, ...this.times[0]! },
      bToA: { ...ba!.stats, ...this.times[1]! },
    };
  }

  /** Forgets the first/last times (counters keep counting), e.g. once the receiver is ready. */
  resetTimes(): void {
    this.times = [fresh(), fresh()];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('link emulator closed');
    for (const d of this.dirs) d.shutdown(err);
    for (const s of this.sockets) s.destroy();
    for (const fd of this.holders) closeSync(fd);
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await Promise.all(this.socats.map((s) => s.stop(500)));
  }

  private async open(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true });
    const sockets = await Promise.all([this.pathA, this.pathB].map((outer) => this.bridge(outer)));
    this.sockets = sockets;
    await Promise.all([this.pathA, this.pathB].map((p) => waitForFile(p, 5000)));
    // Hold each program-side pty open ourselves (never reading it). Otherwise a program that
    // writes its last bytes and exits hangs the pty up, socat may see EIO before it has read
    // those bytes, and then exits: a final "OO" or ACK would be lost, and with it the link for a
    // program that reopens the port (a push reconnecting).
    for (const p of [this.pathA, this.pathB]) this.holders.push(openSync(p, fsc.O_RDWR | fsc.O_NOCTTY | fsc.O_NONBLOCK));
    const seed = this.o.seed ?? 1;
    const common: LinkDirectionOptions = {
      pace: true,
      latencyMs: this.o.latencyMs ?? 0,
      ber: this.o.ber ?? 0,
      dropRate: this.o.dropRate ?? 0,
      txBufferBytes: this.o.txBufferBytes ?? DEFAULT_TX_BUFFER,
      batchMs: this.o.batchMs ?? 1,
    };
    const [a, b] = sockets as [Socket, Socket];
    this.dirs = [
      this.wire(a, b, 0, { ...common, rng: seededRng(seed * 2 + 1) }),
      this.wire(b, a, 1, { ...common, rng: seededRng(seed * 2 + 2) }),
    ];
  }

  /** Starts socat joining the pty at `outer` to a fresh unix socket of ours; resolves with our end. */
  private async bridge(outer: string): Promise<Socket> {
    const sockPath = `${outer}.sock`;
    rmSync(sockPath, { force: true });
    const server = createServer({ highWaterMark: SOCAT_BUFFER });
    this.servers.push(server);
    const connected = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sockPath, () => resolve());
    });
    const s = startChild('socat', [
      '-b', String(SOCAT_BUFFER),
      `pty,raw,echo=0,link=${outer}`,
      `unix-connect:${sockPath},sndbuf=${SOCAT_BUFFER},rcvbuf=${SOCAT_BUFFER}`,
    ]);
    this.socats.push(s);
    const failed = s.exited.then((code) => {
      throw new Error(`socat for ${outer} exited with status ${code} before connecting: ${s.stderr().trim()}`);
    });
    const sock = await Promise.race([connected, failed, timeout(5000, `socat for ${outer} did not connect`)]);
    failed.catch(() => {});
    sock.on('error', () => {});
    return sock;
  }

  /** One direction: bytes read from `src` go through the model and are written to `dst`. */
  private wire(src: Socket, dst: Socket, i: number, opts: LinkDirectionOptions): LinkDirection {
    const dir = new LinkDirection(opts, {
      clock: systemClock,
      baud: this.o.baud,
      deliver: (bytes) => {
        this.times[i]!.lastOut = performance.now();
        // The program on the far side may be gone (a finished run); its bytes are simply lost.
        if (!dst.destroyed) dst.write(bytes);
      },
      onCut: () => {},
    });
    const limit = opts.txBufferBytes ?? DEFAULT_TX_BUFFER;
    let paused = false;
    src.on('data', (chunk: Buffer) => {
      const t = this.times[i]!;
      const now = performance.now();
      if (Number.isNaN(t.firstIn)) t.firstIn = now;
      else if (now > t.busyUntil) t.idleMs += now - t.busyUntil;
      t.busyUntil = Math.max(now, t.busyUntil) + (chunk.length * 10_000) / this.o.baud;
      const accepted = dir.write(chunk);
      accepted.catch(() => {});
      if (!paused && dir.backlog > limit) {
        paused = true;
        src.pause();
        void accepted.then(() => {
          paused = false;
          if (!this.closed) src.resume();
        }, () => {});
      }
    });
    return dir;
  }
}

function fresh(): DirectionTimes {
  return { firstIn: Number.NaN, lastOut: Number.NaN, idleMs: 0, busyUntil: 0 };
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms).unref());
}
