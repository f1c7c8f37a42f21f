/**
 * The socket Transport (src/transport/socket.ts): address parsing, bytes both ways, the peer going
 * away (LINK_LOST through onClose) versus closing on purpose (no callback), and a busy address.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import { listenSocket, parseSocketAddress, type SocketListener } from '../../src/transport/socket.js';
import type { Transport } from '../../src/transport/transport.js';
import { tempDir, until } from '../cli/harness.js';

describe('parseSocketAddress', () => {
  it('reads unix:PATH, tcp:PORT and tcp:HOST:PORT, and leaves serial paths alone', () => {
    expect(parseSocketAddress('unix:/tmp/sim.sock')).toEqual({ kind: 'unix', path: '/tmp/sim.sock' });
    expect(parseSocketAddress('tcp:4000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4000 });
    expect(parseSocketAddress('tcp:0.0.0.0:4000')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 4000 });
    expect(parseSocketAddress('/dev/ttyUSB0')).toBeUndefined();
    expect(parseSocketAddress('COM3')).toBeUndefined();
  });

  it.each(['tcp:0', 'tcp:70000', 'tcp:http', 'tcp:', 'tcp::4000', 'unix:'])('refuses %s with a usage error that shows the expected form', (spec) => {
    let err: unknown;
    try {
      parseSocketAddress(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OtaError);
    expect((err as OtaError).code).toBe('USAGE');
    expect((err as OtaError).message).toMatch(/tcp:PORT|unix:\//);
  });
});

describe('a Transport over a socket', () => {
  let listener: SocketListener | undefined;
  const clients: Socket[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await listener?.close();
    listener = undefined;
  });

  async function accept(): Promise<{ t: Transport; client: Socket; fromServer: Buffer[] }> {
    const path = join(tempDir(), 'link.sock');
    let got!: (t: Transport) => void;
    const accepted = new Promise<Transport>((r) => { got = r; });
    listener = await listenSocket({ kind: 'unix', path }, 115200, (t) => got(t));
    const client = connect(path);
    clients.push(client);
    const fromServer: Buffer[] = [];
    client.on('data', (b: Buffer) => fromServer.push(b));
    return { t: await accepted, client, fromServer };
  }


  it('carries bytes both ways, including bytes that arrived before onData was set', async () => {
    const { t, client, fromServer } = await accept();
    client.write(Buffer.from([1, 2, 3]));
    await new Promise((r) => setTimeout(r, 50));
    const got: number[] = [];
    t.onData((b) => got.push(...b));
    client.write(Buffer.from([4, 5]));
    await t.write(Uint8Array.from([9, 8, 7]));
    await t.write(Uint8Array.from([6]));
    await t.drain();
    await until(() => got.length === 5 && Buffer.concat(fromServer).length === 4);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect([...Buffer.concat(fromServer)]).toEqual([9, 8, 7, 6]);
    expect(t.baud).toBe(115200);
    await t.setBaud(921600);
    expect(t.baud).toBe(921600);
  });

  it('reports the peer going away as LINK_LOST, and every later write fails', async () => {
    const { t, client } = await accept();
    const lost: OtaError[] = [];
    t.onClose((e) => lost.push(e));
    client.destroy();
    await until(() => lost.length === 1);
    expect(lost[0]!.code).toBe('LINK_LOST');
    expect(lost[0]!.message).toMatch(/unix:.*link\.sock connection 1 disconnected/);
    expect(t.isOpen).toBe(false);
    await expect(t.write(Uint8Array.from([1]))).rejects.toMatchObject({ code: 'LINK_LOST' });
  });

  it('writes held back by a full socket all fail LINK_LOST when the peer goes away, with one listener between them', async () => {
    const { t, client } = await accept();
    client.pause(); // the peer stops reading: the socket fills up
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const held = Array.from({ length: 20 }, () => t.write(new Uint8Array(1 << 20)).then(() => 'ok', (e: unknown) => e));
      await new Promise((r) => setTimeout(r, 50));
      client.destroy();
      const outcomes = await Promise.all(held);
      expect(outcomes.filter((o) => o !== 'ok').length).toBeGreaterThan(10);
      for (const o of outcomes) if (o !== 'ok') expect(o).toMatchObject({ code: 'LINK_LOST' });
      await new Promise((r) => setTimeout(r, 20));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('closing on purpose ends the connection without calling onClose', async () => {
    const { t, client } = await accept();
    const lost: OtaError[] = [];
    t.onClose((e) => lost.push(e));
    let ended = false;
    client.on('end', () => { ended = true; });
    await t.close();
    await until(() => ended);
    await new Promise((r) => setTimeout(r, 20));
    expect(lost).toEqual([]);
    expect(t.isOpen).toBe(false);
  });

  it('refuses an address that is in use with PORT_BUSY, naming it', async () => {
    const path = join(tempDir(), 'busy.sock');
    listener = await listenSocket({ kind: 'unix', path }, 115200, () => {});
    await expect(listenSocket({ kind: 'unix', path }, 115200, () => {})).rejects.toMatchObject({
      code: 'PORT_BUSY', message: expect.stringMatching(/cannot listen on unix:.*busy\.sock: the socket file exists/),
    });
  });
});
