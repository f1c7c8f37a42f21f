/**
 * Shared setup for the simulated-device tests: fixture files (copies of the shared vectors, TEST
 * KEYS ONLY), images made and encrypted for the test key, a frame-level probe that talks to a
 * SimDevice without a link, and a driver that advances a FakeClock until a promise settles.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FakeClock } from '../../src/clock.js';
import { buildAppImage, encryptImage, loadDecryptionKey, loadEncryptionKey, type BuildAppOptions } from '../../src/image/index.js';
import { FrameDecoder, decodeMessage, encodeMessage, type Message, type MessageOf } from '../../src/protocol/index.js';
import type { SimDevice } from '../../src/device-sim/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixture(name: string): Buffer {
  return readFileSync(FIXTURES + name);
}

/** The RSA-3072 TEST KEY of the shared vectors (app_esp32.rsa.enc.bin is encrypted for it). */
export const testKey = loadDecryptionKey(fixture('rsa3072_private.pem'));
const testPublic = loadEncryptionKey(fixture('rsa3072_public.pem'));

/** An app built with `o`, encrypted for the test key. */
export function makeImage(o: BuildAppOptions): { plain: Buffer; enc: Buffer } {
  const plain = buildAppImage(o);
  return { plain, enc: encryptImage(plain, testPublic) };
}

/** Encrypts given plaintext for the test key. */
export function encryptForTest(plain: Uint8Array): Buffer {
  return encryptImage(plain, testPublic);
}

/** Talks to a device frame by frame: feed() in, decoded replies out (no link, no pacing). */
export class Probe {
  readonly received: Message[] = [];
  readonly decoder = new FrameDecoder();
  rawOut = 0;

  constructor(readonly device: SimDevice) {
    device.onOutput((b) => {
      this.rawOut += b.length;
      for (const f of this.decoder.push(b)) {
        const m = decodeMessage(f);
        if (m) this.received.push(m);
      }
    });
  }

  /** Sends and waits until the device has handled it; returns what it answered. */
  async send(...msgs: Message[]): Promise<Message[]> {
    const from = this.received.length;
    for (const m of msgs) this.device.feed(encodeMessage(m));
    await this.device.settled();
    return this.received.slice(from);
  }

  async sendRaw(bytes: Uint8Array): Promise<Message[]> {
    const from = this.received.length;
    this.device.feed(bytes);
    await this.device.settled();
    return this.received.slice(from);
  }

  last<T extends Message['type']>(type: T): MessageOf<T> {
    for (let i = this.received.length - 1; i >= 0; i--) if (this.received[i]!.type === type) return this.received[i] as MessageOf<T>;
    throw new Error(`no ${type} received`);
  }

  all<T extends Message['type']>(type: T): MessageOf<T>[] {
    return this.received.filter((m) => m.type === type) as MessageOf<T>[];
  }
}

/** Advances `clock` in steps until `p` settles (or `maxMs` of fake time passed); returns its outcome. */
export async function drive<T>(clock: FakeClock, p: Promise<T>, stepMs = 5, maxMs = 600_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => { done = true; });
  watched.catch(() => {});
  for (let t = 0; !done && t < maxMs; t += stepMs) await clock.advance(stepMs);
  if (!done) throw new Error(`still pending after ${maxMs} ms of fake time`);
  return watched;
}

export const CHUNK = 1024;

export function beginMsg(image: Uint8Array, flags = 0, chunk = CHUNK): MessageOf<'BEGIN'> {
  return { type: 'BEGIN', flags, chunk, total: image.length, header: image.subarray(0, 512) };
}

export function dataMsg(image: Uint8Array, offset: number, chunk = CHUNK): MessageOf<'DATA'> {
  return { type: 'DATA', offset, data: image.subarray(offset, Math.min(offset + chunk, image.length)) };
}

/** Sends every chunk from `from` in order, one frame at a time, as a perfect host would. */
export async function sendAll(p: Probe, image: Uint8Array, from = 512, chunk = CHUNK): Promise<void> {
  for (let o = from; o < image.length; o += chunk) await p.send(dataMsg(image, o, chunk));
}
