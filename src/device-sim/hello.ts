/**
 * HELLO_ACK (SPEC §4.2): the device's identity, limits, partitions with their otadata states and
 * versions, the slot an update would go to, and any session it can resume (in RAM, or the durable
 * record of §7 after a reset; the record keeps only 20 bytes of the image id and not the total, so
 * those come back zero-padded and 0).
 */
import { HELLO_FLAGS, MAX_PARTS, NO_TARGET, PROTO_VERSION, STATUS, type MessageOf } from '../protocol/index.js';
import type { AppState } from './app-state.js';
import type { OtaSession } from './ota-session.js';
import type { InstalledImage } from './ram.js';
import type { ResumeRecord } from './resume-record.js';

export interface HelloInputs {
  apps: AppState;
  maxFrame: number;
  window: number;
  maxBaud: number;
  chipId: number;
  chipRev: number;
  rollback: boolean;
  antiRollback: boolean;
  iramUart: boolean;
  multiChunk: boolean;
  efuseSecureVersion: number;
  session: OtaSession | undefined;
  record: ResumeRecord | undefined;
  installed?: InstalledImage | undefined;
}

export function buildHelloAck(h: HelloInputs): MessageOf<'HELLO_ACK'> {
  const { apps } = h;
  const run = apps.running >= 0 ? apps.slot(apps.running) : undefined;
  let flags = 0;
  if (h.rollback) flags |= HELLO_FLAGS.ROLLBACK;
  if (h.antiRollback) flags |= HELLO_FLAGS.ANTI_ROLLBACK;
  if (h.rollback && apps.runningPending()) flags |= HELLO_FLAGS.PENDING_VERIFY;
  if (h.iramUart) flags |= HELLO_FLAGS.IRAM_ISR;
  if (h.multiChunk) flags |= HELLO_FLAGS.MULTI_CHUNK;
  let resumeId: Uint8Array = new Uint8Array(32);
  let resumeOffset = 0;
  let resumeTotal = 0;
  if (h.session) {
    flags |= HELLO_FLAGS.RESUMABLE;
    resumeId = h.session.imageId;
    resumeOffset = h.session.next;
    resumeTotal = h.session.total;
  } else if (h.record) {
    flags |= HELLO_FLAGS.RESUMABLE;
    resumeId.set(h.record.idPrefix);
    resumeOffset = h.record.offset;
  }
  const boot = apps.nextBoot();
  if (!(flags & HELLO_FLAGS.RESUMABLE) && h.installed && h.installed.slot === boot) {
    flags |= HELLO_FLAGS.INSTALLED;
    resumeId = h.installed.digest;
    resumeOffset = resumeTotal = h.installed.total;
  }
  return {
    type: 'HELLO_ACK',
    status: STATUS.OK,
    proto: PROTO_VERSION,
    maxFrame: h.maxFrame,
    window: h.window,
    maxBaud: h.maxBaud,
    chipId: h.chipId,
    chipRev: h.chipRev,
    flags,
    efuseSecureVersion: h.efuseSecureVersion,
    running: apps.running >= 0 ? apps.running : NO_TARGET,
    boot: boot >= 0 ? boot : NO_TARGET,
    target: apps.running >= 0 ? apps.target() : NO_TARGET,
    runVersion: run?.version ?? '',
    runProject: run?.projectName ?? '',
    runSecureVersion: run?.secureVersion ?? 0,
    resumeId,
    resumeOffset,
    resumeTotal,
    parts: apps.apps.slice(0, MAX_PARTS).map((p, i) => {
      const s = apps.slot(i);
      return {
        subtype: p.subtype,
        state: apps.layout.slotState(i),
        valid: s.valid,
        offset: p.offset,
        size: p.size,
        secureVersion: s.secureVersion,
        version: s.version,
      };
    }),
  };
}
