/**
 * The single status table of SPEC §5 as data: device status byte -> name, meaning, OtaError code,
 * CLI exit status and a default host message. Depends on constants.ts and ../errors.ts.
 *
 * The session layer adds context (file name, versions, sizes) to the message; the code and exit
 * status always come from here, and test/protocol/constants.test.ts checks this table against SPEC §5
 * and the C receiver's otarx_err.h.
 */
import { EXIT_STATUS, OtaError, type ErrorCode } from '../errors.js';
import { STATUS, type StatusName } from './constants.js';

export interface StatusInfo {
  value: number;
  name: StatusName;
  meaning: string;
  /** OtaError code for a push that ends with this status; null for OK and BUSY (not errors). */
  code: ErrorCode | null;
  /** CLI exit status; null for BUSY (never ends a push). */
  exit: number | null;
  /** Default host message when the session layer has no better context. */
  message: string;
}

const row = (name: StatusName, meaning: string, code: ErrorCode | null, message: string): StatusInfo => ({
  value: STATUS[name],
  name,
  meaning,
  code,
  exit: name === 'OK' ? 0 : code === null ? null : EXIT_STATUS[code],
  message,
});

export const STATUS_INFO: readonly StatusInfo[] = [
  row('OK', 'success', null, 'success'),
  row('BUSY', 'flash work in progress for busy_ms', null, 'device busy erasing'),
  row('NOT_ENCRYPTED', 'header magic is not esp_encrypted_img', 'NOT_ENCRYPTED_IMAGE', 'the device says the file is not an esp_encrypted_img image (bad magic)'),
  row('BAD_SIZE', 'total does not match 512 + bin_size', 'IMAGE_TRUNCATED', 'image size does not match its header'),
  row('WRONG_KEY', 'key unwrap failed: the image was encrypted for another key', 'WRONG_KEY', 'the device cannot decrypt this image: it was encrypted for a different key'),
  row('TOO_LARGE', 'image larger than the target partition', 'IMAGE_TOO_LARGE', "the image is larger than the device's update slot"),
  row('NOT_APP', 'plaintext is not an ESP app image', 'INVALID_APP_IMAGE', 'decrypted data is not an ESP32 app image'),
  row('WRONG_CHIP', 'app built for another chip', 'WRONG_CHIP', 'the image was built for another chip'),
  row('CHIP_REV', "chip revision outside the app's range", 'CHIP_REVISION', "the image does not support the device's chip revision"),
  row('DOWNGRADE', 'same or older version and no ALLOW_DOWNGRADE', 'DOWNGRADE', 'the image is not newer than the running app (use --allow-downgrade)'),
  row('SECURE_VERSION', "secure_version below the device's anti-rollback counter", 'SECURE_VERSION', "the image's secure_version is below the device's anti-rollback counter"),
  row('AUTH_FAILED', 'GCM tag mismatch: the image was altered or damaged', 'AUTH_FAILED', 'authentication failed: the image was altered or corrupted'),
  row('INVALID_IMAGE', 'decrypted app fails verification', 'INVALID_APP_IMAGE', 'the decrypted app failed verification'),
  row('INCOMPLETE', 'END before all data', 'PROTOCOL_ERROR', 'the device says the image is incomplete (END before all data arrived)'),
  row('FLASH_ERROR', 'flash erase/write/read failed', 'FLASH_ERROR', 'the device reported a flash error'),
  row('NO_SESSION', 'DATA/END without a session', 'PROTOCOL_ERROR', 'the device has no update session (did it reset?)'),
  row('BAD_STATE', 'refused in the current state', 'DEVICE_STATE', 'the device refused the request in its current state'),
  row('ABORTED', 'session aborted', 'ABORTED', 'the update session was aborted'),
  row('UNSUPPORTED', 'unknown type, version or baud rate', 'PROTOCOL_ERROR', 'the device does not support this request'),
  row('BAD_REQUEST', 'malformed payload', 'PROTOCOL_ERROR', 'the device rejected a malformed request'),
  row('NO_PENDING', 'CONFIRM/ROLLBACK with no pending app', 'DEVICE_STATE', 'the running app is not pending verification'),
];

const BY_VALUE: ReadonlyMap<number, StatusInfo> = new Map(STATUS_INFO.map((s) => [s.value, s]));

/** Table row of a status byte, or undefined for a value SPEC §5 does not define. */
export function statusInfo(status: number): StatusInfo | undefined {
  return BY_VALUE.get(status);
}

/** Name of a status byte ("WRONG_KEY"), or "0x5A" style hex for an unknown value. */
export function statusName(status: number): string {
  return BY_VALUE.get(status)?.name ?? `0x${status.toString(16).padStart(2, '0').toUpperCase()}`;
}

/**
 * The OtaError for a device status that ends an operation. `message` replaces the table's default
 * message; `details` are merged with `{ status, statusName }`. Unknown values, and OK/BUSY (which
 * are not errors; a caller reaching here has a bug or a confused device), give DEVICE_REJECTED.
 * UNSUPPORTED maps to PROTOCOL_ERROR; the baud switch maps its own UNSUPPORTED to BAUD_UNSUPPORTED.
 */
export function statusToError(status: number, message?: string, details?: Record<string, unknown>): OtaError {
  const info = BY_VALUE.get(status);
  const all = { status, statusName: statusName(status), ...details };
  if (info?.code == null) {
    return new OtaError('DEVICE_REJECTED', message ?? `the device refused with status ${statusName(status)}`, { details: all });
  }
  return new OtaError(info.code, message ?? info.message, { details: all });
}
