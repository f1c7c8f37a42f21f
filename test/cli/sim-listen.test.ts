/**
 * `simulate --port unix:PATH` (src/cli/sim-listen.ts): the library pushes to the simulated device
 * over a Unix socket; a second connection is refused while the first is open, and once the first
 * closes the device takes the next one, still running.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { listenForHosts, type SimListener } from '../../src/cli/sim-listen.js';
import { createFlashImage, SimDevice } from '../../src/device-sim/index.js';
import { push } from '../../src/session/index.js';
import { wrapSocket } from '../../src/transport/socket.js';
import { makeImage, testKey } from '../device-sim/helpers.js';
import { tempDir, until } from './harness.js';


describe('the simulated device listening on a socket', () => {
  let listener: SimListener | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await listener?.close();
    listener = undefined;
  });

  it('takes a push, refuses a second peer while one is open, and serves the next after it closes', async () => {
    const path = join(tempDir(), 'sim.sock');
    const device = new SimDevice({ flash: createFlashImage(), key: testKey, clock: systemClock, flashTiming: 'instant' });
    const log: string[] = [];
    listener = await listenForHosts({ kind: 'unix', path }, device, { clock: systemClock, pace: false, log: (l) => log.push(l) });
    const open = async () => {
      const s = connect(path);
      sockets.push(s);
      await new Promise<void>((r) => s.once('connect', () => r()));
      return wrapSocket(s, path, 115200);
    };
    const first = makeImage({ version: '2.0.0', size: 40_000 });
    const r1 = await push({ image: first.enc, open, clock: systemClock, fresh: true });
    expect(r1.after.boot.version).toBe('2.0.0');
    await until(() => log.some((l) => /connection 1 closed; waiting for the next/.test(l)));

    // A peer holds the line; another one is turned away and the first keeps it.
    const holder = connect(path);
    sockets.push(holder);
    await until(() => log.some((l) => /connection 2 open/.test(l)));
    const intruder = connect(path);
    sockets.push(intruder);
    let intruderClosed = false;
    intruder.on('close', () => { intruderClosed = true; });
    await until(() => intruderClosed);
    expect(log.some((l) => /connection 3 refused: connection 2 is still open/.test(l))).toBe(true);
    expect(holder.destroyed).toBe(false);

    holder.destroy();
    await until(() => log.some((l) => /connection 2 closed/.test(l)));
    const second = makeImage({ version: '3.0.0', size: 40_000 });
    const r2 = await push({ image: second.enc, open, clock: systemClock, fresh: true });
    expect(r2.after.boot.version).toBe('3.0.0');
    expect(r2.after.boot.slot).not.toBe(r1.after.boot.slot);
  }, 30_000);
});
