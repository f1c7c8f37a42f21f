/**
 * serial.ts sends everything written in one turn of the event loop with a single write to the port
 * (cork until setImmediate): the ACKs a device answers one read with, the frames a host sends for
 * one ACK. Checked on serialport's mock binding, which sees each write the OS would.
 */
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { wrapSerialPort } from '../../src/transport/serial.js';

const PATH = '/dev/ota-uart-batching';

afterEach(() => SerialPortMock.binding.reset());

async function openMock(): Promise<{ port: SerialPortMock; writes: Buffer[] }> {
  SerialPortMock.binding.createPort(PATH, { echo: false, record: true });
  const port = new SerialPortMock({ path: PATH, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const binding = port.port as unknown as { write(b: Buffer): Promise<void> };
  const writes: Buffer[] = [];
  const original = binding.write.bind(binding);
  binding.write = (b: Buffer) => {
    writes.push(Buffer.from(b));
    return original(b);
  };
  return { port, writes };
}

describe('serial writes', () => {
  it('three writes in one turn reach the port as one write, in order; a later turn gets its own', async () => {
    const { port, writes } = await openMock();
    const t = wrapSerialPort(port, PATH);
    await Promise.all([t.write(Uint8Array.of(1, 2)), t.write(Uint8Array.of(3)), t.write(Uint8Array.of(4, 5, 6))]);
    await t.drain();
    expect(writes.map((w) => [...w])).toEqual([[1, 2, 3, 4, 5, 6]]);
    await new Promise((r) => setImmediate(r));
    await t.write(Uint8Array.of(7));
    await t.drain();
    expect(writes.map((w) => [...w])).toEqual([[1, 2, 3, 4, 5, 6], [7]]);
    await t.close();
  });

  it('drain() waits for writes still held back in this turn', async () => {
    const { port, writes } = await openMock();
    const t = wrapSerialPort(port, PATH);
    void t.write(Uint8Array.of(9, 9));
    expect(writes).toHaveLength(0); // held until the turn ends
    await t.drain();
    expect(writes.map((w) => [...w])).toEqual([[9, 9]]);
    await t.close();
  });
});
