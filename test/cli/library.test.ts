import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import type { PushEvent } from '../../src/index.js';
import { FakeDevice } from '../session/fake-device.js';
import { testImage } from '../session/rig.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe("the library entry ('ota-uart')", () => {
  it('pushes with only public names, reporting typed events', async () => {
    const dev = new FakeDevice();
    const open = async () => {
      const [host, device] = lib.createMemoryLink();
      dev.attach(device);
      return host;
    };
    const seen: PushEvent['type'][] = [];
    let lastAcked = 0;
    const result = await lib.push({
      image: testImage(20_000), open, reporter: { event: (e) => {
        if (e.type === 'progress') lastAcked = e.acked; // typed: e.acked is a number here
        seen.push(e.type as PushEvent['type']);
      } },
    });
    expect(result.after.boot.slot).toBe('ota_0');
    expect(lastAcked).toBe(result.bytes);
    expect(seen[0]).toBe('hello');
    expect(seen.at(-1)).toBe('result');
    const info = await lib.deviceInfo({ open });
    expect(info.boot.slot).toBe('ota_0');
    await expect(lib.confirmApp({ open })).rejects.toBeInstanceOf(lib.OtaError);
    await expect(lib.confirmApp({ open })).rejects.toMatchObject({ code: 'DEVICE_STATE', exitStatus: lib.EXIT_STATUS.DEVICE_STATE });
  });

  it('exports the documented names', () => {
    for (const name of ['push', 'pushMany', 'runStation', 'deviceInfo', 'confirmApp', 'rollbackApp', 'rebootDevice', 'encryptImage', 'decryptImage',
      'loadEncryptionKey', 'OtaError', 'EXIT_STATUS', 'serialPort', 'openSerialTransport', 'listSerialPorts', 'MemoryReporter', 'FakeClock', 'exitStatusOf', 'STATUS_INFO']) {
      expect(lib, name).toHaveProperty(name);
    }
  });

  it.skipIf(!existsSync(`${ROOT}/dist/index.js`))('resolves by package name from the built dist (package.json exports)', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "import('ota-uart').then((m) => console.log(typeof m.push, typeof m.OtaError, typeof m.serialPort))"], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function function');
  });
});
