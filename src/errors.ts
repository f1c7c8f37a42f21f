/**
 * One error class for the whole library, with stable string codes.
 *
 * The CLI, `--json` output and tests match on `code`, never on message text. Each code has one
 * documented process exit status (see EXIT_STATUS and README "Exit codes"); device status bytes
 * map onto these codes through the single table in `protocol/status.ts`.
 */

export type ErrorCode =
  | 'INTERNAL'
  | 'USAGE'
  | 'INPUT_NOT_FOUND'
  | 'OUTPUT_EXISTS'
  | 'IO_ERROR'
  | 'NOT_ENCRYPTED_IMAGE'
  | 'IMAGE_TRUNCATED'
  | 'WRONG_KEY'
  | 'BAD_KEY'
  | 'AUTH_FAILED'
  | 'INVALID_APP_IMAGE'
  | 'PORT_NOT_FOUND'
  | 'PORT_BUSY'
  | 'PORT_PERMISSION'
  | 'BAUD_UNSUPPORTED'
  | 'NO_DEVICE'
  | 'PROTOCOL_VERSION'
  | 'PROTOCOL_ERROR'
  | 'LINK_LOST'
  | 'TIMEOUT'
  | 'IMAGE_TOO_LARGE'
  | 'WRONG_CHIP'
  | 'CHIP_REVISION'
  | 'DOWNGRADE'
  | 'SECURE_VERSION'
  | 'FLASH_ERROR'
  | 'DEVICE_STATE'
  | 'DEVICE_REJECTED'
  | 'ABORTED';

/** Process exit status for each code. Stable: scripts depend on these numbers. */
export const EXIT_STATUS: Readonly<Record<ErrorCode, number>> = {
  INTERNAL: 1,
  USAGE: 2,
  INPUT_NOT_FOUND: 3,
  OUTPUT_EXISTS: 3,
  IO_ERROR: 3,
  NOT_ENCRYPTED_IMAGE: 4,
  IMAGE_TRUNCATED: 4,
  WRONG_KEY: 5,
  BAD_KEY: 5,
  AUTH_FAILED: 6,
  INVALID_APP_IMAGE: 7,
  PORT_NOT_FOUND: 10,
  PORT_BUSY: 11,
  PORT_PERMISSION: 12,
  BAUD_UNSUPPORTED: 13,
  NO_DEVICE: 14,
  PROTOCOL_VERSION: 15,
  PROTOCOL_ERROR: 15,
  LINK_LOST: 16,
  TIMEOUT: 17,
  IMAGE_TOO_LARGE: 20,
  WRONG_CHIP: 21,
  CHIP_REVISION: 21,
  DOWNGRADE: 22,
  SECURE_VERSION: 23,
  FLASH_ERROR: 24,
  DEVICE_STATE: 25,
  DEVICE_REJECTED: 26,
  ABORTED: 130,
};

export interface OtaErrorOptions {
  /** Structured details for --json output and programmatic callers (file, offset, status byte...). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Set when the underlying link went away (serialport's duck-typed convention). */
  disconnected?: boolean;
}

export class OtaError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly disconnected: boolean;

  constructor(code: ErrorCode, message: string, options: OtaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OtaError';
    this.code = code;
    this.details = options.details ?? {};
    this.disconnected = options.disconnected ?? false;
  }

  get exitStatus(): number {
    return EXIT_STATUS[this.code];
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, exitStatus: this.exitStatus, ...this.details };
  }
}

export function isOtaError(e: unknown): e is OtaError {
  return e instanceof OtaError;
}

/** Wraps anything thrown into an OtaError, keeping OtaErrors as they are. */
export function toOtaError(e: unknown): OtaError {
  if (e instanceof OtaError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new OtaError('INTERNAL', `internal error: ${msg}`, { cause: e });
}
