/**
 * Bad ports and silent devices on real serial devices (socat ptys), through the built CLI in a child
 * process: each is one line naming the port, with its documented exit status.
 */
import { chmodSync, copyFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSerialTransport } from '../../src/transport/serial.js';
import { testImage } from '../session/rig.js';
import { tempDir } from '../cli/harness.js';
import { cli, haveDist, haveSocat, ptyPair, type PtyPair } from './pty.js';

const root = process.getuid?.() === 0;
let dir: string;
let image: string;
let pty: PtyPair;

beforeAll(async () => {
  dir = tempDir();
  chmodSync(dir, 0o755); // an unprivileged child must be able to get in
  image = join(dir, 'app.enc');
  writeFileSync(image, testImage(8_000));
  chmodSync(image, 0o644);
  if (haveSocat) pty = await ptyPair(dir);
});
afterAll(async () => pty?.stop());

/** As an unprivileged user when we are root (so permissions mean something), else as ourselves. */
const unprivileged = root ? { uid: 65534, gid: 65534 } : {};

describe.skipIf(!haveSocat || !haveDist)('serial port errors (socat pty, built CLI)', () => {
  it('a port that does not exist: exit 10', async () => {
    const r = await cli(['push', image, '--port', join(dir, 'ttyNOPE')]);
    expect(r.status).toBe(10);
    expect(r.stderr.trim().split('\n')).toEqual([`ota-uart: serial port ${join(dir, 'ttyNOPE')} does not exist; run \`ota-uart ports\` to list serial ports`]);
  });

  it('a dangling link (the simulator or socat that made it has exited): exit 10, saying so', async () => {
    const link = join(dir, 'ttyGONE');
    symlinkSync('/dev/pts/99999', link);
    const r = await cli(['info', '--port', link]);
    expect(r.status).toBe(10);
    expect(r.stderr).toMatch(/is a link to \/dev\/pts\/99999, which no longer exists/);
  });

  it('a file that is not a serial port: exit 10', async () => {
    const r = await cli(['info', '--port', image]);
    expect(r.status).toBe(10);
    expect(r.stderr).toMatch(/app\.enc is not a serial port \(it is a regular file\)/);
  });

  it('a port another program holds: exit 11 (busy)', async () => {
    const held = await openSerialTransport(pty.host, { baud: 115200 });
    try {
      const r = await cli(['push', image, '--port', pty.host]);
      expect(r.status).toBe(11);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`serial port ${pty.host.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is busy`));
    } finally {
      await held.close();
    }
  });

  it('a port without permission: exit 12, saying how to fix it on Linux', async () => {
    const { realpathSync } = await import('node:fs');
    const real = realpathSync(pty.host);
    chmodSync(real, 0o600);
    const r = await cli(['push', image, '--port', pty.host], root ? { ...unprivileged } : {});
    if (!root) chmodSync(real, 0o000);
    expect(r.status).toBe(12);
    expect(r.stderr).toMatch(/no permission to open serial port .*: add your user to the dialout group.*sudo usermod -aG dialout \$USER, then log in again/);
    chmodSync(real, 0o620);
  });

  it('an image the user cannot read: exit 3', async () => {
    const secret = join(dir, 'secret.enc');
    copyFileSync(image, secret);
    chmodSync(secret, 0o600);
    const r = await cli(['push', secret, '--port', pty.host], root ? { ...unprivileged } : {});
    if (!root) return; // as a normal user the file is ours; the in-process test covers chmod 000
    expect(r.status).toBe(3);
    expect(r.stderr.trim()).toBe(`ota-uart: encrypted image cannot be read: ${secret} (permission denied)`);
  });

  it('a device that never answers: exit 14 with what was tried; any text that came back is quoted', async () => {
    const silent = await cli(['push', image, '--port', pty.host, '--connect-timeout', '1']);
    expect(silent.status).toBe(14);
    expect(silent.stderr.trim().split('\n')).toHaveLength(1);
    expect(silent.stderr).toMatch(/no ota-uart device answered on .*host at 115200 (or 921600 )?baud: sent \d+ HELLO frames over 1\.0 s; no bytes at all came back/);

    // the "device" prints a boot log and nothing else
    const dev = await openSerialTransport(pty.dev, { baud: 115200 });
    const timer = setInterval(() => void dev.write(Buffer.from('I (27) boot: ESP-IDF v5.4.1 2nd stage bootloader\r\n')).catch(() => {}), 50);
    try {
      const chatty = await cli(['info', '--port', pty.host, '--connect-timeout', '1']);
      expect(chatty.status).toBe(14);
      expect(chatty.stderr).toMatch(/got \d+ bytes of non-protocol text \("(I \(27\) )?boot: ESP-IDF|got \d+ bytes of non-protocol text \(".*ESP-IDF/);
      expect(chatty.stderr).toMatch(/is the firmware with the ota-uart receiver running\?/);
    } finally {
      clearInterval(timer);
      await dev.close();
    }
  });
});
