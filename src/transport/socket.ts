/**
 * A byte link over a stream socket (Unix domain or TCP), for the simulated device listening where a
 * relay connects: `socat pty,raw,echo=0,link=/tmp/host UNIX-CONNECT:/tmp/sim.sock` gives a host
 * one plain pty whose far end is the simulator, with no second tty in between. A second pty costs
 * the simulator a kernel tty read per 4 KiB (n_tty's buffer), a socket hands over up to 64 KiB.
 *
 * A socket has no line rate: `baud` is what the device believes (setBaud records it), and any
 * pacing is done above this layer (device-sim/paced-port.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { OtaError } from '../errors.js';
import { DrainWait } from './drain-wait.js';
import { Inbox } from './inbox.js';
import type { Transport } from './transport.js';
import { TurnCork } from './turn-cork.js';

export type SocketAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/**
 * `unix:PATH`, `tcp:PORT` (localhost) or `tcp:HOST:PORT`; undefined for anything else (a serial
 * port path). Throws USAGE for a `tcp:` spec whose port is not 1-65535 or a `unix:` without a path.
 */
export function parseSocketAddress(spec: string): SocketAddress | undefined {
  if (spec.startsWith('unix:')) {
    const path = spec.slice(5);
    if (!path) throw new OtaError('USAGE', `"${spec}": give a socket path after unix:, e.g. unix:/tmp/sim.sock`);
    return { kind: 'unix', path };
  }
  if (!spec.startsWith('tcp:')) return undefined;
  const rest = spec.slice(4);
  const colon = rest.lastIndexOf(':');
  const host = colon >= 0 ? rest.slice(0, colon) : '127.0.0.1';
  const portText = colon >= 0 ? rest.slice(colon + 1) : rest;
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535 || !host) {
    throw new OtaError('USAGE', `"${spec}": expected tcp:PORT or tcp:HOST:PORT with a port from 1 to 65535`);
  }
  return { kind: 'tcp', host, port };
}

export function describeSocketAddress(a: SocketAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host}:${a.port}`;
}

/** The Transport over a connected socket; `label` names the peer in errors. */
export function wrapSocket(sock: Socket, label: string, baud: number): Transport {
  return new SocketLink(sock, label, baud);
}

class SocketLink implements Transport {
  private state: 'open' | 'closed' | 'lost' = 'open';
  private endErr: OtaError | undefined;
  private readonly inbox = new Inbox();
  private closeCb: ((err: OtaError) => void) | undefined;
  private lastWrite: Promise<void> = Promise.resolve();
  private readonly cork: TurnCork;
  /** Rejects with the reason once the link ends; a write held back by a full socket races it. */
  private readonly ended: Promise<never>;
  private endNow!: (err: OtaError) => void;
  private readonly drained: DrainWait;

  constructor(private readonly sock: Socket, private readonly label: string, public baud: number) {
    this.cork = new TurnCork(sock);
    this.drained = new DrainWait(sock);
    this.ended = new Promise<never>((_, reject) => {
      this.endNow = reject;
    });
    this.ended.catch(() => {});
    sock.setNoDelay(true); // an ACK must not wait for Nagle (no effect on a Unix socket)
    sock.on('data', (chunk: Buffer) => {
      if (this.state !== 'open') return;
      this.inbox.deliver(chunk);
    });
    // 'close' follows every 'error'; it is the one place the link ends.
    sock.on('error', () => {});
    sock.on('close', () => {
      if (this.state !== 'open') return;
      this.end('lost', new OtaError('LINK_LOST', `${label} disconnected`, { disconnected: true, details: { port: label } }));
      this.closeCb?.(this.endErr!);
    });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.endErr);
    this.cork.hold();
    let accepted!: boolean;
    this.lastWrite = new Promise<void>((resolve) => {
      accepted = this.sock.write(Buffer.from(bytes), () => resolve());
    });
    if (accepted) return Promise.resolve();
    // Above the high-water mark: hold the caller until the socket drains or the link ends.
    return Promise.race([this.drained.next(), this.ended]);
  }

  drain(): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.endErr);
    return this.lastWrite;
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.inbox.set(cb);
  }

  onClose(cb: (err: OtaError) => void): void {
    this.closeCb = cb;
  }

  async setBaud(baud: number): Promise<void> {
    if (this.state !== 'open') throw this.endErr;
    this.baud = baud;
  }

  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.end('closed', new OtaError('LINK_LOST', `${this.label} was closed`, { details: { port: this.label } }));
    this.sock.end();
    this.sock.destroySoon();
  }

  private end(state: 'closed' | 'lost', err: OtaError): void {
    this.state = state;
    this.endErr = err;
    this.inbox.clear();
    this.endNow(err);
  }
}

export interface SocketListener {
  /** Stops accepting; connections already made stay until they close. */
  close(): Promise<void>;
}

/**
 * Listens on `addr` and hands each connection to `onConnection` as a Transport. A stale Unix
 * socket file is the caller's to remove; EADDRINUSE is reported as PORT_BUSY.
 */
export async function listenSocket(addr: SocketAddress, baud: number, onConnection: (t: Transport, peer: string) => void): Promise<SocketListener> {
  const where = describeSocketAddress(addr);
  let n = 0;
  const server: Server = createServer((sock) => {
    n += 1;
    onConnection(wrapSocket(sock, `${where} connection ${n}`, baud), `connection ${n}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code === 'EADDRINUSE' ? 'PORT_BUSY' : err.code === 'EACCES' ? 'PORT_PERMISSION' : 'PORT_NOT_FOUND';
      const hint = err.code === 'EADDRINUSE'
        ? addr.kind === 'unix' ? ': the socket file exists (another simulator, or a stale file: remove it)' : ': another program listens there'
        : `: ${err.message}`;
      reject(new OtaError(code, `cannot listen on ${where}${hint}`, { cause: err, details: { port: where } }));
    });
    if (addr.kind === 'unix') server.listen(addr.path, resolve);
    else server.listen(addr.port, addr.host, resolve);
  });
  return {
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
