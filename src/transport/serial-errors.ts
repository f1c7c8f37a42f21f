/**
 * Turns serialport's open/update failures into OtaErrors a user can act on. The native binding
 * reports errno only as text ("Error: No such file or directory, cannot open X", "Cannot lock
 * port", "Inappropriate ioctl for device setting custom baud rate of N", see toolchain-notes §2.2),
 * so we match on that text and on Node's `code` when there is one, and look at the path itself to
 * tell a missing device from a dangling link or a file that is not a terminal.
 */
import { lstat, readlink, stat } from 'node:fs/promises';
import { OtaError } from '../errors.js';

const LIST_HINT = 'run `ota-uart ports` to list serial ports';
/** The usual Linux fixes: serial devices belong to group dialout (uucp on Arch), mode 0660. */
export const LINUX_PERMISSION_FIX =
  'add your user to the dialout group (sudo usermod -aG dialout $USER, then log in again), ' +
  'or give the device to that group with a udev rule such as ' +
  'SUBSYSTEM=="tty", ATTRS{idVendor}=="10c4", GROUP="dialout", MODE="0660" in /etc/udev/rules.d/99-serial.rules';

/** What the path looks like on disk, for a precise message. */
export interface PathFacts {
  exists: boolean;
  /** A symlink whose target is gone (a socat link after its process was killed, a stale udev link). */
  danglingTo?: string;
  isCharDevice: boolean;
  isDirectory: boolean;
}

export async function inspectPath(path: string): Promise<PathFacts> {
  try {
    const s = await stat(path);
    return { exists: true, isCharDevice: s.isCharacterDevice(), isDirectory: s.isDirectory() };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    // Not allowed to look (EACCES on a parent directory): assume a device is there and let the
    // open error speak.
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return { exists: true, isCharDevice: true, isDirectory: false };
    const l = await lstat(path).catch(() => undefined);
    const danglingTo = l?.isSymbolicLink() ? await readlink(path).catch(() => '?') : undefined;
    return { exists: false, isCharDevice: false, isDirectory: false, ...(danglingTo ? { danglingTo } : {}) };
  }
}

export function notFound(path: string, facts: PathFacts): OtaError {
  const details = { port: path };
  if (facts.danglingTo !== undefined) {
    return new OtaError(
      'PORT_NOT_FOUND',
      `serial port ${path} is a link to ${facts.danglingTo}, which no longer exists ` +
        `(device unplugged, or the program that created it exited); ${LIST_HINT}`,
      { details },
    );
  }
  return new OtaError('PORT_NOT_FOUND', `serial port ${path} does not exist; ${LIST_HINT}`, { details });
}

export function notATerminal(path: string, facts: PathFacts): OtaError {
  const what = facts.isDirectory ? 'a directory' : facts.isCharDevice ? 'a device that is not a terminal' : 'a regular file';
  return new OtaError('PORT_NOT_FOUND', `${path} is not a serial port (it is ${what}); ${LIST_HINT}`, {
    details: { port: path },
  });
}

export function badBaud(path: string, baud: number, cause?: unknown): OtaError {
  const why = cause instanceof Error ? ` (${cause.message})` : '';
  return new OtaError(
    'BAUD_UNSUPPORTED',
    `the serial adapter on ${path} refused ${baud} baud${why}; try a standard rate such as 115200 or 921600`,
    { details: { port: path, baud }, ...(cause === undefined ? {} : { cause }) },
  );
}

/** Maps a failed open. `facts` describes the path as it was when the open failed. */
export function mapOpenError(path: string, baud: number, err: unknown, facts: PathFacts): OtaError {
  const text = describe(err);
  const details = { port: path };
  if (!facts.exists || /ENOENT|No such file or directory|ENODEV|ENXIO|No such device/i.test(text)) {
    return facts.exists ? gone(path, err) : notFound(path, facts);
  }
  if (/EACCES|EPERM|Permission denied|Operation not permitted/i.test(text)) {
    const fix = process.platform === 'linux' ? LINUX_PERMISSION_FIX : 'check the permissions of the device file';
    return new OtaError('PORT_PERMISSION', `no permission to open serial port ${path}: ${fix}`, { details, cause: err });
  }
  if (/EBUSY|Cannot lock port|Resource busy|Resource temporarily unavailable|EAGAIN/i.test(text)) {
    return new OtaError(
      'PORT_BUSY',
      `serial port ${path} is busy: is another program (a serial monitor, ModemManager) using it?`,
      { details, cause: err },
    );
  }
  // Checked before the baud rule: a non-tty fails at tcgetattr, but the binding words it as a
  // failure "setting custom baud rate".
  if (!facts.isCharDevice || /ENOTTY|Inappropriate ioctl|EISDIR|Is a directory/i.test(text)) {
    return notATerminal(path, facts);
  }
  if (/baud|EINVAL|Invalid argument/i.test(text)) return badBaud(path, baud, err);
  return new OtaError('IO_ERROR', `could not open serial port ${path}: ${text}`, { details, cause: err });
}

/** The node existed a moment ago but the driver says the device is gone (USB re-enumeration). */
function gone(path: string, err: unknown): OtaError {
  return new OtaError('PORT_NOT_FOUND', `serial port ${path} has no device behind it any more; ${LIST_HINT}`, {
    details: { port: path },
    cause: err,
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
