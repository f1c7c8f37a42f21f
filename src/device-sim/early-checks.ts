/**
 * SPEC §4.6: what the device checks as soon as the first 288 plaintext bytes (image header, first
 * segment header, esp_app_desc_t) exist, in the SPEC's order, so a wrong chip or a downgrade is
 * refused within the first window instead of after the whole transfer. Pure.
 */
import { APP_PREFIX_SIZE, parseAppHeader, type AppInfo } from '../image/index.js';
import { compareAppVersions, STATUS } from '../protocol/index.js';

export interface EarlyCheckContext {
  chipId: number;
  chipRev: number;
  antiRollback: boolean;
  efuseSecureVersion: number;
  runningVersion: string;
  allowDowngrade: boolean;
}

/**
 * `detail` is what the refusal carries on the wire (§4.6): what the image wants (its chip id, its
 * chip revision range, its secure_version; for DOWNGRADE 1 = same version, 2 = older), 0 for NOT_APP.
 */
export type EarlyCheckResult = { ok: true; app: AppInfo } | { ok: false; status: number; detail: number; reason: string };

/** Checks the plaintext prefix (normally 288 bytes; shorter only when the whole image is shorter). */
export function checkAppPrefix(prefix: Uint8Array, c: EarlyCheckContext): EarlyCheckResult {
  let app: AppInfo;
  try {
    app = parseAppHeader(prefix.subarray(0, APP_PREFIX_SIZE));
  } catch (e) {
    const d = (e as { details?: { check?: string; offset?: number } }).details;
    return { ok: false, status: STATUS.NOT_APP, detail: 0, reason: `${d?.check ?? 'not_app'} at ${d?.offset ?? 0}` };
  }
  if (app.chipId !== c.chipId) {
    return { ok: false, status: STATUS.WRONG_CHIP, detail: app.chipId, reason: `image for ${app.chipName}` };
  }
  const max = app.maxChipRevFull;
  if (c.chipRev < app.minChipRevFull || (max !== 0 && max !== 0xffff && c.chipRev > max)) {
    return { ok: false, status: STATUS.CHIP_REV, detail: (app.minChipRevFull | (max << 16)) >>> 0, reason: `needs chip rev ${app.minChipRevFull}..${max}` };
  }
  const sv = app.desc.secureVersion;
  if (c.antiRollback && sv < c.efuseSecureVersion) {
    return { ok: false, status: STATUS.SECURE_VERSION, detail: sv, reason: `secure_version ${sv} < eFuse ${c.efuseSecureVersion}` };
  }
  const order = c.allowDowngrade ? null : compareAppVersions(app.desc.version, c.runningVersion);
  if (order !== null && order <= 0) {
    const same = order === 0;
    return { ok: false, status: STATUS.DOWNGRADE, detail: same ? 1 : 2, reason: `${app.desc.version} is ${same ? 'the same version as' : 'older than'} ${c.runningVersion}` };
  }
  return { ok: true, app };
}
