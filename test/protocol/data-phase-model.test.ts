/**
 * The simulator's data phase against the vector generator's model of SPEC §4.5
 * (scripts/vectors/session-model.ts, written from the SPEC independently of src/device-sim): random
 * sequences of DATA frames, on and off the grid, of one chunk, several (multi-chunk frames) or an
 * odd length, lost, repeated and out of order, to a device in the reference configuration. After
 * every frame the device must answer exactly what the model answers, byte for byte; then the rest
 * goes in order and END must find the image intact (a chunk stored or consumed from the wrong bytes
 * shows only there). The session vectors pin a few such sequences; this walks many.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataPhase, Image, begin, data, msg } from '../../scripts/vectors/session-model.js';
import { makeDevice, parseSession, input } from './reference-device.js';
import { readVec } from './vec-file.js';

const GOOD = new Image(new Uint8Array(input('images/app_esp32.rsa.enc.bin')));
const CHUNK = 256;
const MAX_LEN = 1040 - 10; // the reference max_frame: a longer DATA never reaches the data phase
const nChunks = Math.ceil((GOOD.total - 512) / CHUNK);

type Frame = { kind: 'chunks'; k: number; m: number } | { kind: 'odd'; offset: number; len: number };
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('chunks' as const), k: fc.integer({ min: 0, max: nChunks }), m: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('odd' as const), offset: fc.integer({ min: 0, max: GOOD.total + CHUNK }), len: fc.integer({ min: 0, max: MAX_LEN }) }) },
);

describe('the simulated device answers every DATA frame as the SPEC model does', () => {
  it('for random sequences of single-chunk, multi-chunk and malformed frames', async () => {
    const config = parseSession(readVec('sessions/multi-chunk.vec')).device;
    await fc.assert(fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 40 }), async (frames) => {
      const dev = makeDevice(config);
      let out: Uint8Array[] = [];
      dev.onOutput((b) => out.push(b));
      await dev.settled();
      const model = new DataPhase(GOOD, CHUNK);
      const exchange = async (bytes: Uint8Array): Promise<string> => {
        out = [];
        dev.feed(bytes);
        await dev.settled();
        return Buffer.concat(out).toString('hex');
      };
      expect(await exchange(begin(GOOD.header, GOOD.total, CHUNK).bytes)).toBe(Buffer.from(model.beginAck().bytes).toString('hex'));
      for (const f of frames) {
        const offset = f.kind === 'chunks' ? 512 + f.k * CHUNK : f.offset;
        const len = f.kind === 'chunks' ? Math.max(0, Math.min(f.m * CHUNK, GOOD.total - offset)) : f.len;
        const got = await exchange(data(GOOD, offset, len).bytes);
        const { reply, kind } = model.feed(offset, len);
        expect(got, `DATA offset=${offset} len=${len}: ${kind}`).toBe(Buffer.from(reply.bytes).toString('hex'));
      }
      while (model.next < GOOD.total) {
        const len = Math.min(CHUNK, GOOD.total - model.next);
        const offset = model.next;
        expect(await exchange(data(GOOD, offset, len).bytes)).toBe(Buffer.from(model.feed(offset, len).reply.bytes).toString('hex'));
      }
      const ok = msg('RESULT', { status: 0, boot: 1, secure_version: 1, version: '1.2.3-vector', detail: 0 });
      expect(await exchange(msg('END', { flags: 0 }).bytes)).toBe(Buffer.from(ok.bytes).toString('hex'));
    }), { numRuns: 60 });
  });
});
