/**
 * END and RESULT (SPEC §4.7), in esp_ota_end / esp_ota_set_boot_partition order: the GCM tag over
 * everything received, then the app as it now sits in flash verified like esp_image_verify, then
 * anti-rollback, and only then otadata (the set_boot sequence rule) so the new slot boots next.
 * Any failure drops the session and leaves otadata, and so what boots, untouched.
 */
import { verifyAppImage } from '../image/index.js';
import { END_FLAGS, NO_TARGET, STATUS, statusName, type MessageOf } from '../protocol/index.js';
import type { DeviceCore } from './device-core.js';
import { planFlush, runSessionFlash } from './data-phase.js';
import { customOp } from './flash-ops.js';
import { OTA_STATE } from './otadata.js';

export async function handleEnd(d: DeviceCore, m: MessageOf<'END'>): Promise<void> {
  const s = d.session;
  const { opts, apps, flash } = d;
  const result = (status: number, detail = 0, boot = NO_TARGET, secureVersion = 0, version = ''): void =>
    d.send({ type: 'RESULT', status, boot, secureVersion, version, detail });
  if (!s) {
    if (d.refusal === undefined) d.counters.noSession++;
    return result(d.refusal ?? STATUS.NO_SESSION);
  }
  if (s.next < s.total) return result(STATUS.INCOMPLETE, s.next);
  if (s.pendingBytes > 0 && !(await runSessionFlash(d, s, planFlush(d, s)))) return;

  const t = opts.timing;
  const binSize = s.header.binSize;
  const verifyMs = (binSize / 1024) * t.verifyMsPerKiB;
  const otadataMs = t.flash.sectorEraseMs + t.flash.pageProgramMs;
  const clearOps = d.records?.clear() ?? [];
  d.announceBusy(verifyMs + otadataMs + clearOps.reduce((a, o) => a + o.ms, 0));

  const fail = async (status: number, detail: number, reason: string): Promise<void> => {
    d.session = undefined;
    d.counters.refusals++;
    await d.flashWork(clearOps);
    d.event({ type: 'refused', phase: 'end', status: statusName(status), reason });
    result(status, detail);
  };
  if (!s.gcm.verify(s.header.authTag)) return fail(STATUS.AUTH_FAILED, 0, 'GCM tag mismatch');
  await d.cpuWork(verifyMs);
  let sv: number;
  let version: string;
  let projectName: string;
  try {
    const app = verifyAppImage(flash.view(s.part.offset, binSize), { chipId: opts.chipId, chipRevFull: opts.chipRev, partitionSize: s.part.size });
    sv = app.desc.secureVersion;
    version = app.desc.version;
    projectName = app.desc.projectName;
  } catch (e) {
    const det = (e as { details?: { check?: string; offset?: number } }).details;
    apps.invalidate(s.target);
    return fail(STATUS.INVALID_IMAGE, det?.offset ?? 0, `${det?.check ?? 'verify'} at ${det?.offset ?? '?'}`);
  }
  if (opts.antiRollback && sv < d.efuseSecureVersion) return fail(STATUS.SECURE_VERSION, sv, `secure_version ${sv} < ${d.efuseSecureVersion}`);

  const layout = apps.layout;
  const k = s.part.subtype - 0x10;
  // The record goes first: after a reset between the two, a record for an image already set to
  // boot would "resume" into the other slot (which becomes the update slot once it runs).
  await d.flashWork([
    ...clearOps,
    customOp('otadata set_boot', otadataMs, () => layout.otadata!.setBoot(k, layout.otaCount, opts.rollback ? OTA_STATE.NEW : OTA_STATE.UNDEFINED)),
  ]);
  d.session = undefined;
  apps.invalidate();
  // Only otadata was written since the image verified above: the dry run need not verify it again.
  const boot = apps.nextBoot({ index: s.target, app: { valid: true, version, projectName, secureVersion: sv } });
  d.counters.results++;
  const digest = s.fileDigest();
  d.installed = digest && { digest, total: s.total, slot: s.target };
  d.event({ type: 'result', version, boot: apps.apps[boot]?.label ?? '?' });
  result(STATUS.OK, 0, boot < 0 ? NO_TARGET : boot, sv, version);
  if (m.flags & END_FLAGS.REBOOT) {
    await d.drainOutput();
    d.reset('reboot');
  }
}
