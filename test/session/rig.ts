/** Shared setup for session tests: a FakeDevice behind in-memory links on a FakeClock. */
import { readFileSync } from 'node:fs';
import { FakeClock } from '../../src/clock.js';
import { buildAppImage, encryptImage, loadDecryptionKey, loadEncryptionKey } from '../../src/image/index.js';
import { decodeMessage, FrameDecoder, type Message } from '../../src/protocol/index.js';
import { createMemoryLink, type MemoryLink, type MemoryLinkOptions } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import { FakeDevice, type FakeDeviceOptions } from './fake-device.js';

const PUB = new URL('../../assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pub.pem', import.meta.url);
/** The private half (TEST key), for a simulated device that decrypts testImage(). */
export const DEVICE_KEY = loadDecryptionKey(readFileSync(new URL('../../assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pem', import.meta.url)));

/** An encrypted image (demo TEST key) of about `size` bytes of app. */
export function testImage(size = 40_000, version = '2.0.0'): Buffer {
  return encryptImage(buildAppImage({ version, size }), loadEncryptionKey(readFileSync(PUB)));
}

export interface Rig {
  clock: FakeClock;
  dev: FakeDevice;
  links: MemoryLink[];
  /** The `open` factory for push(): every call makes a new link to the same device (a reconnect). */
  open: () => Promise<Transport>;
}

export function rig(o: { dev?: FakeDeviceOptions; link?: (n: number) => Omit<MemoryLinkOptions, 'clock'>; clock?: FakeClock } = {}): Rig {
  const clock = o.clock ?? new FakeClock();
  const dev = new FakeDevice({ clock, ...o.dev });
  const links: MemoryLink[] = [];
  const open = async (): Promise<Transport> => {
    const l = createMemoryLink({ clock, ...(o.link?.(links.length) ?? {}) });
    links.push(l);
    dev.attach(l[1]);
    return l[0];
  };
  return { clock, dev, links, open };
}

/** Advances the fake clock in small steps until `p` settles; returns its outcome. */
export async function drive<T>(clock: FakeClock, p: Promise<T>, stepMs = 5, maxMs = 600_000): Promise<{ value?: T; error?: unknown }> {
  let out: { value?: T; error?: unknown } | undefined;
  p.then((value) => { out = { value }; }, (error: unknown) => { out = { error }; });
  for (let t = 0; !out && t < maxMs; t += stepMs) await clock.advance(stepMs);
  if (!out) throw new Error(`still running after ${maxMs} ms of fake time`);
  return out;
}

/**
 * Shows `visit` every frame written to `end` (the host's end of a link, or a device's: whole
 * frames, 00 body 00, often several per write), in order; where it returns true, a byte in the
 * middle of that frame is flipped on its way out, so the other side drops the frame on its CRC.
 */
export function tapFrames(end: Transport, visit: (m: Message) => boolean): void {
  const write = end.write.bind(end);
  end.write = (bytes) => {
    const out = Uint8Array.from(bytes);
    let start = 0;
    for (let end = 0; end < out.length; end++) {
      if (out[end] !== 0) continue;
      const from = Math.max(0, start - 1);
      start = end + 1;
      if (end - from < 2) continue; // two delimiters in a row
      const [f] = new FrameDecoder().push(out.subarray(from, end + 1));
      const m = f && decodeMessage(f);
      if (m && visit(m)) {
        const mid = from + ((end + 1 - from) >> 1);
        out[mid] = out[mid]! ^ 0x55;
      }
    }
    return write(out);
  };
}
