/**
 * The open-error classifier on the exact error texts @serialport/bindings-cpp 13.0.0 produces
 * (src/serialport_unix.cpp; toolchain-notes §2.2). Cases that cannot be staged here (we run as
 * root, and ptys take every baud rate) are covered only this way.
 */
import { describe, expect, it } from 'vitest';
import { mapOpenError, type PathFacts } from '../../src/transport/serial-errors.js';

const tty: PathFacts = { exists: true, isCharDevice: true, isDirectory: false };
const P = '/dev/ttyUSB0';
const err = (message: string): Error => new Error(message);

describe('mapOpenError', () => {
  it.each([
    // open(2) failures: "Error: %s, cannot open %s"
    ['Error: No such file or directory, cannot open /dev/ttyUSB0', { exists: false, isCharDevice: false, isDirectory: false }, 'PORT_NOT_FOUND', 10, /does not exist/],
    ['Error: No such device or address, cannot open /dev/ttyUSB0', tty, 'PORT_NOT_FOUND', 10, /has no device behind it any more/],
    ['Error: Permission denied, cannot open /dev/ttyUSB0', tty, 'PORT_PERMISSION', 12, /no permission to open serial port \/dev\/ttyUSB0/],
    ['Error: Operation not permitted, cannot open /dev/ttyUSB0', tty, 'PORT_PERMISSION', 12, /permission/],
    ['Error: Device or resource busy, cannot open /dev/ttyUSB0', tty, 'PORT_BUSY', 11, /is busy: is another program/],
    // flock(LOCK_EX|LOCK_NB): "Error %s Cannot lock port"
    ['Error Resource temporarily unavailable Cannot lock port', tty, 'PORT_BUSY', 11, /is busy/],
    // tcgetattr on something that is not a tty
    ['Error: Inappropriate ioctl for device setting custom baud rate of 921600', { exists: true, isCharDevice: true, isDirectory: false }, 'PORT_NOT_FOUND', 10, /is not a serial port \(it is a device that is not a terminal\)/],
    ['Error: Inappropriate ioctl for device setting custom baud rate of 921600', { exists: true, isCharDevice: false, isDirectory: false }, 'PORT_NOT_FOUND', 10, /it is a regular file/],
    // termios2 BOTHER on an adapter that refuses the rate
    ['Error: Invalid argument || while setting custom baud rate of 3000000', tty, 'BAUD_UNSUPPORTED', 13, /refused 3000000 baud/],
    ['Error: Input/output error || while retrieving termios2 info', tty, 'IO_ERROR', 3, /could not open serial port/],
  ] as const)('%s', (text, facts, code, exit, message) => {
    const e = mapOpenError(P, 3000000, err(text), facts);
    expect(e.code).toBe(code);
    expect(e.exitStatus).toBe(exit);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
    expect(e.details).toMatchObject({ port: P });
  });

  it('the permission message gives the Linux fixes: dialout group and a udev rule', () => {
    const e = mapOpenError(P, 115200, err('Error: Permission denied, cannot open /dev/ttyUSB0'), tty);
    if (process.platform === 'linux') {
      expect(e.message).toContain('sudo usermod -aG dialout $USER');
      expect(e.message).toContain('udev rule');
      expect(e.message).toContain('MODE="0660"');
    }
  });

  it('uses Node error codes when present', () => {
    const e = Object.assign(new Error('open failed'), { code: 'EACCES' });
    expect(mapOpenError(P, 115200, e, tty).code).toBe('PORT_PERMISSION');
    expect(mapOpenError(P, 115200, Object.assign(new Error('x'), { code: 'EBUSY' }), tty).code).toBe('PORT_BUSY');
  });

  it('names where a dangling link pointed', () => {
    const e = mapOpenError('/tmp/ttyV0', 115200, err('Error: No such file or directory, cannot open /tmp/ttyV0'), {
      exists: false, isCharDevice: false, isDirectory: false, danglingTo: '/dev/pts/7',
    });
    expect(e.code).toBe('PORT_NOT_FOUND');
    expect(e.message).toContain('is a link to /dev/pts/7, which no longer exists');
  });

  it('says "a directory" for a directory', () => {
    const e = mapOpenError('/dev', 115200, err('Error: Is a directory, cannot open /dev'), { exists: true, isCharDevice: false, isDirectory: true });
    expect(e.code).toBe('PORT_NOT_FOUND');
    expect(e.message).toContain('(it is a directory)');
  });
});
