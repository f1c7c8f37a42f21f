/** What a person reads when the device says it is busy for a second or more, by phase. */
import { describe, expect, it } from 'vitest';
import { createPushView } from '../../src/cli/push-reporter.js';

function linesFor(phase: 'key' | 'write' | 'verify' | undefined, ms: number): string[] {
  const lines: string[] = [];
  const view = createPushView({ mode: 'plain', out: (l) => lines.push(l), now: () => 0, prefixPorts: false });
  view.reporterFor('sim').event({ type: 'busy', ms, phase });
  view.stop();
  return lines;
}

describe('busy lines', () => {
  it('name what the device is doing', () => {
    expect(linesFor('key', 1500)).toEqual(['device busy (unwrapping the image key) for about 1.5 s']);
    expect(linesFor('write', 2000)).toEqual(['device busy (erasing flash) for about 2.0 s']);
    expect(linesFor(undefined, 2000)).toEqual(['device busy (erasing flash) for about 2.0 s']);
    expect(linesFor('verify', 1000)).toEqual(['device busy (verifying) for about 1.0 s']);
  });

  it('stay quiet for short waits', () => {
    expect(linesFor('key', 250)).toEqual([]);
  });
});
