/** `push` and `station` options as they reach the library (pushSettings). */
import { describe, expect, it } from 'vitest';
import { pushSettings, type PushArgs } from '../../src/cli/commands/push.js';

describe('pushSettings', () => {
  it('passes --chunk, --frame-chunks and --window through as chunk, chunksPerFrame and maxInFlight', () => {
    const args = { image: 'a.enc', chunk: 512, 'frame-chunks': 1, window: 4096 } as PushArgs;
    const s = pushSettings(args, { path: 'a.enc', bytes: new Uint8Array(0), id: '' } as never);
    expect(s).toMatchObject({ chunk: 512, chunksPerFrame: 1, maxInFlight: 4096, imageName: 'a.enc' });
  });
});
