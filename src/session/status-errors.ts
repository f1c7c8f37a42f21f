/**
 * Turning a device's refusal into an OtaError with a plain-language message. The status -> code
 * mapping itself is the single table in protocol/status.ts; this module only adds context (file,
 * versions, sizes) so the message says what to do.
 */
import { OtaError } from '../errors.js';
import { chipName, revText } from '../image/index.js';
import { STATUS, statusName, statusToError } from '../protocol/index.js';
import type { MessageOf } from './device-link.js';

export interface StatusContext {
  imageName?: string;
  imageVersion?: string;
  runningVersion?: string;
  targetSize?: number;
  total?: number;
  chipName?: string;
  /** HELLO_ACK.chip_rev (major * 100 + minor). */
  chipRev?: number;
  /** HELLO_ACK.efuse_secure_version: the device's anti-rollback counter. */
  efuseSecureVersion?: number;
}

/** Raised inside the data phase when the device no longer has our session (it reset). */
export class SessionLostError extends OtaError {
  constructor(readonly offset: number) {
    super('LINK_LOST', `the device lost the session at offset ${offset} (did it reset?)`);
  }
}

/**
 * HELLO_ACK said target 0xFF: no slot may be written. Checked before BEGIN so the message can say
 * why (from the flags and slots the device reported) instead of a bare BAD_STATE.
 */
export function noTargetError(pendingVerify: boolean, bootSlot: string, runningSlot: string): OtaError {
  const msg = pendingVerify
    ? `the device will not take an update while its running app (${runningSlot}) is pending verification: run \`ota-uart confirm\` to keep it or \`ota-uart rollback\` to go back, then push again`
    : `the device has no slot it may write: ${runningSlot} is running and ${bootSlot} is already set to boot next; reset the device (\`ota-uart reboot\`) so it runs that app, then push again`;
  return new OtaError('DEVICE_STATE', msg, { details: { status: STATUS.BAD_STATE, statusName: 'BAD_STATE' } });
}

/**
 * `detail` is the refusal's detail (BEGIN_ACK/RESULT.detail, or an error ACK's sack slot, SPEC
 * §4.5); `offset` is how far the data got (an error ACK's next_offset), when known.
 */
export function deviceStatusError(status: number, ctx: StatusContext = {}, detail?: number, offset?: number): OtaError {
  const img = ctx.imageName ? `${ctx.imageName}` : 'the image';
  const details: Record<string, unknown> = { status, statusName: statusName(status) };
  if (detail !== undefined) details.detail = detail;
  if (offset !== undefined) details.offset = offset;
  let msg: string | undefined;
  switch (status) {
    case STATUS.NOT_ENCRYPTED:
      msg = `the device says ${img} is not an esp_encrypted_img image (bad magic)`;
      break;
    case STATUS.BAD_SIZE:
      msg = `the device refused ${img}: its length does not match the size in its header (truncated or padded file)`;
      break;
    case STATUS.WRONG_KEY:
      msg = `the device cannot decrypt ${img}: it was encrypted for a different key (wrong key or corrupt header)`;
      break;
    case STATUS.TOO_LARGE:
      msg = `${img} is ${ctx.total ?? '?'} bytes; the device's update slot holds ${detail ?? ctx.targetSize ?? '?'} bytes`;
      break;
    case STATUS.NOT_APP:
      msg = `the decrypted ${img} is not an ESP app image (first byte is not 0xE9 or the app description is missing)`;
      break;
    case STATUS.WRONG_CHIP: {
      // detail = the image's chip id (SPEC §4.6)
      const built = detail !== undefined && chipName(detail) !== ctx.chipName ? chipName(detail) : 'another chip';
      msg = `${img} was built for ${built}${ctx.chipName ? `; the device is an ${ctx.chipName}` : ''}`;
      break;
    }
    case STATUS.CHIP_REV: {
      // detail = the image's min_chip_rev_full + (max_chip_rev_full << 16) (SPEC §4.6)
      const dev = ctx.chipRev !== undefined ? `; the device is ${revText(ctx.chipRev)}` : '';
      msg = detail ? `${img} needs chip revision ${revRange(detail & 0xffff, detail >>> 16)}${dev}` : `${img} does not support this chip's revision${dev}`;
      break;
    }
    case STATUS.DOWNGRADE: {
      // detail 1: the same version as the running app, 2: older (SPEC §4.6)
      const running = ctx.runningVersion ?? 'its current app';
      msg = detail === 1
        ? `the device already runs ${running}, the same version as ${img}; pass --allow-downgrade to install it again`
        : detail === 2
          ? `${img} is older than the ${running} the device runs; pass --allow-downgrade to install it anyway`
          : `the device runs ${running} and ${img} is not newer; pass --allow-downgrade to install it anyway`;
      break;
    }
    case STATUS.SECURE_VERSION: {
      // detail = the image's secure_version (SPEC §4.6, §4.7); the counter came with HELLO_ACK.
      const m = ctx.efuseSecureVersion;
      msg = `${img}: image secure_version ${detail ?? '?'} < device ${m ?? '(eFuse counter)'}; anti-rollback refuses it${m !== undefined ? ` (the device takes secure_version ${m} or higher)` : ''}`;
      break;
    }
    case STATUS.AUTH_FAILED:
      msg = `authentication failed: ${img} was altered or damaged (the GCM tag does not match); the device did not switch to it`;
      break;
    case STATUS.INVALID_IMAGE:
      msg = `the decrypted app failed verification on the device${detail !== undefined ? ` (first failed check at offset ${detail})` : ''}; it will not boot it`;
      break;
    case STATUS.FLASH_ERROR:
      msg = `the device reported a flash error${offset !== undefined ? ` at offset ${offset}` : ''}`;
      break;
    case STATUS.BAD_STATE:
      msg = 'the device refused the update in its current state (is the running app still pending confirmation? run `ota-uart confirm` or `ota-uart rollback` first)';
      break;
  }
  return statusToError(status, msg, details);
}

/** An ACK with an error status: its sack slot carries the refusal's detail (SPEC §4.5). */
export function ackStatusError(a: MessageOf<'ACK'>, ctx: StatusContext = {}): OtaError {
  return deviceStatusError(a.status, ctx, a.sack, a.nextOffset);
}

/** "v1.0..v3.99", or "v1.0 or later" when the image sets no maximum (0 or 0xFFFF, SPEC §4.6). */
function revRange(min: number, max: number): string {
  return max === 0 || max === 0xffff ? `${revText(min)} or later` : `${revText(min)}..${revText(max)}`;
}
