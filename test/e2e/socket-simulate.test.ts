/**
 * `ota-uart simulate --port unix:PATH` as a process, with socat giving the host one plain pty
 * (`pty ... UNIX-CONNECT:PATH`), and the built CLI pushing to that pty: the image boots, the
 * simulator logs the connection, the same file pushed again is reported as already installed
 * (HELLO_ACK bit6), and on SIGTERM it exits and removes its socket file. A bad
 * socket address is a usage error before anything starts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, until } from '../cli/harness.js';
import { cli, cliProcess, haveDist, haveSocat, ROOT } from './pty.js';

const FIX = join(ROOT, 'test', 'fixtures');
const KEY = join(FIX, 'rsa3072_private.pem'); // TEST KEY (shared vectors)


describe.skipIf(!haveSocat || !haveDist)('push to `ota-uart simulate` on a Unix socket through one pty', () => {
  it('boots the pushed image, then exits on SIGTERM and removes its socket', async () => {
    const dir = tempDir();
    const sock = join(dir, 'sim.sock');
    const host = join(dir, 'host');
    const sim = cliProcess(['simulate', '--port', `unix:${sock}`, '--key', KEY, '--no-pace', '--flash-timing', 'instant', '--no-boot-log']);
    const simExit = new Promise<number | null>((r) => sim.on('exit', (code) => r(code)));
    await until(() => /Ctrl-C to stop/.test(sim.output()) || sim.exitCode !== null, 15_000);
    expect(sim.output()).toMatch(/listening on unix:.*sim\.sock/);
    const relay = spawn('socat', [`pty,raw,echo=0,link=${host}`, `UNIX-CONNECT:${sock}`], { stdio: 'ignore' });
    try {
      await until(() => existsSync(host), 15_000);
      const r = await cli(['push', join(FIX, 'app_esp32.rsa.enc.bin'), '--port', host, '--baud', '921600', '--json']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; after: { boot: { slot: string } } };
      expect(result.ok).toBe(true);
      expect(result.after.boot.slot).toBe('ota_0');
      expect(sim.output()).toMatch(/connection 1 open[\s\S]*result: .* set to boot from ota_0/);
      // The same file again, as after a host that died before its RESULT: nothing to send.
      const again = await cli(['push', join(FIX, 'app_esp32.rsa.enc.bin'), '--port', host, '--baud', '921600']);
      expect(again.status).toBe(0);
      expect(again.stdout + again.stderr).toMatch(/already installed on .*host: 1\.2\.3-vector set to boot from ota_0/);
      expect(again.stdout + again.stderr).toMatch(/nothing sent: the device installed this very image earlier/);
    } finally {
      relay.kill();
    }
    sim.kill('SIGTERM');
    expect(await simExit).toBe(0);
    expect(existsSync(sock)).toBe(false);
  }, 60_000);

  it('refuses a bad socket address as a usage error (exit 2)', async () => {
    const r = await cli(['simulate', '--port', 'tcp:70000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/"tcp:70000": expected tcp:PORT or tcp:HOST:PORT with a port from 1 to 65535/);
  });
});
