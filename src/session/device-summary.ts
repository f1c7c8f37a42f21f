/**
 * Plain-data views of what a device told us in HELLO_ACK, for reports, --json and `ota-uart info`.
 */
import { chipName } from '../image/index.js';
import { HELLO_FLAGS, OTA_STATE } from '../protocol/index.js';
import type { HelloAck } from './handshake.js';

export interface SlotSummary {
  slot: string;
  version: string;
  secureVersion?: number;
  state?: string;
}

export interface DeviceSummary {
  chip: string;
  chipId: number;
  chipRevision: string;
  protocol: number;
  maxFrame: number;
  window: number;
  maxBaud: number;
  rollback: boolean;
  antiRollback: boolean;
  pendingVerify: boolean;
  efuseSecureVersion: number;
  /** Project name of the running app (esp_app_desc_t.project_name). */
  project: string;
  running: SlotSummary;
  boot: SlotSummary;
  target: string | null;
  resumable: { offset: number; total: number; imageId: string } | null;
  partitions: Array<SlotSummary & { offset: number; size: number; valid: boolean }>;
}

export function slotLabel(subtype: number): string {
  if (subtype === 0x00) return 'factory';
  if (subtype >= 0x10 && subtype <= 0x1f) return `ota_${subtype - 0x10}`;
  if (subtype === 0x20) return 'test';
  return `app_0x${subtype.toString(16)}`;
}

const STATE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OTA_STATE).map(([k, v]) => [v, k.toLowerCase()]),
);

export function slotSummary(h: HelloAck, index: number): SlotSummary {
  const p = h.parts[index];
  if (!p) return { slot: index === 0xff ? 'none' : `#${index}`, version: '' };
  return { slot: slotLabel(p.subtype), version: p.version, secureVersion: p.secureVersion, state: STATE_NAMES[p.state] ?? `0x${p.state.toString(16)}` };
}

export function formatChipRevision(rev: number): string {
  return `v${Math.floor(rev / 100)}.${rev % 100}`;
}

export function describeDevice(h: HelloAck): DeviceSummary {
  const resumable = (h.flags & HELLO_FLAGS.RESUMABLE) !== 0;
  return {
    chip: chipName(h.chipId),
    chipId: h.chipId,
    chipRevision: formatChipRevision(h.chipRev),
    protocol: h.proto,
    maxFrame: h.maxFrame,
    window: h.window,
    maxBaud: h.maxBaud,
    rollback: (h.flags & HELLO_FLAGS.ROLLBACK) !== 0,
    antiRollback: (h.flags & HELLO_FLAGS.ANTI_ROLLBACK) !== 0,
    pendingVerify: (h.flags & HELLO_FLAGS.PENDING_VERIFY) !== 0,
    efuseSecureVersion: h.efuseSecureVersion,
    project: h.runProject,
    running: { ...slotSummary(h, h.running), version: h.runVersion, secureVersion: h.runSecureVersion },
    boot: slotSummary(h, h.boot),
    target: h.parts[h.target] ? slotLabel(h.parts[h.target]!.subtype) : null,
    resumable: resumable
      ? { offset: h.resumeOffset, total: h.resumeTotal, imageId: Buffer.from(h.resumeId).toString('hex') }
      : null,
    partitions: h.parts.map((p, i) => ({ ...slotSummary(h, i), offset: p.offset, size: p.size, valid: p.valid })),
  };
}
