/**
 * Payload layouts of SPEC §4 / §4.2 as data: one table drives encoding, decoding and the
 * per-field comments of protocol/vectors/frames.vec, so the three cannot disagree.
 * Depends on constants.ts only.
 */
import { HELLO_MAGIC, IMAGE_HEADER_SIZE, type MsgName } from './constants.js';

export type FieldKind =
  | { t: 'u8' | 'u16' | 'u32' | 'bool' | 'reserved' }
  /** Fixed NUL-padded UTF-8 field of n bytes. */
  | { t: 'char'; n: number }
  /** Fixed byte string of n bytes. */
  | { t: 'bytes'; n: number }
  /** A constant char[n] that must match on decode (HELLO magic). */
  | { t: 'magic'; value: string }
  /** All remaining payload bytes (DATA only). */
  | { t: 'rest' }
  /** nparts:u8 then nparts PART_LAYOUT records (HELLO_ACK only). */
  | { t: 'parts' };

export interface Field {
  /** Property name on the Message object ('' for magic / reserved). */
  key: string;
  /** Field name as SPEC.md writes it (used in vector comments). */
  wire: string;
  kind: FieldKind;
}

const f = (key: string, wire: string, kind: FieldKind): Field => ({ key, wire, kind });
const u8 = (key: string, wire = key): Field => f(key, wire, { t: 'u8' });
const u16 = (key: string, wire = key): Field => f(key, wire, { t: 'u16' });
const u32 = (key: string, wire = key): Field => f(key, wire, { t: 'u32' });
const char = (key: string, wire: string, n: number): Field => f(key, wire, { t: 'char', n });
const status = u8('status');

/** One HELLO_ACK partition record, 48 bytes. */
export const PART_LAYOUT: readonly Field[] = [
  u8('subtype'),
  u8('state'),
  f('valid', 'valid', { t: 'bool' }),
  f('', 'reserved', { t: 'reserved' }),
  u32('offset'),
  u32('size'),
  u32('secureVersion', 'secure_version'),
  char('version', 'version', 32),
];

export const LAYOUTS: Readonly<Record<MsgName, readonly Field[]>> = {
  HELLO: [f('', 'magic', { t: 'magic', value: HELLO_MAGIC }), u8('hostProto', 'host_proto'), u8('flags')],
  HELLO_ACK: [
    status,
    u8('proto'),
    u16('maxFrame', 'max_frame'),
    u32('window'),
    u32('maxBaud', 'max_baud'),
    u16('chipId', 'chip_id'),
    u16('chipRev', 'chip_rev'),
    u8('flags'),
    u32('efuseSecureVersion', 'efuse_secure_version'),
    u8('running'),
    u8('boot'),
    u8('target'),
    char('runVersion', 'run_version', 32),
    char('runProject', 'run_project', 32),
    u32('runSecureVersion', 'run_secure_version'),
    f('resumeId', 'resume_id', { t: 'bytes', n: 32 }),
    u32('resumeOffset', 'resume_offset'),
    u32('resumeTotal', 'resume_total'),
    f('parts', 'nparts', { t: 'parts' }),
  ],
  BAUD: [u32('baud')],
  BAUD_ACK: [status, u32('baud')],
  BEGIN: [u8('flags'), u16('chunk'), u32('total'), f('header', 'header', { t: 'bytes', n: IMAGE_HEADER_SIZE })],
  BEGIN_ACK: [status, u32('nextOffset', 'next_offset'), u32('creditEnd', 'credit_end'), u8('target'), u32('detail')],
  DATA: [u32('offset'), f('data', 'bytes', { t: 'rest' })],
  ACK: [status, u32('nextOffset', 'next_offset'), u32('creditEnd', 'credit_end'), u32('sack'), u16('busyMs', 'busy_ms')],
  END: [u8('flags')],
  RESULT: [status, u8('boot'), u32('secureVersion', 'secure_version'), char('version', 'version', 32), u32('detail')],
  ABORT: [],
  ABORT_ACK: [status],
  CONFIRM: [],
  CONFIRM_ACK: [status, u8('boot')],
  ROLLBACK: [],
  ROLLBACK_ACK: [status, u8('boot')],
  PING: [u32('nonce')],
  PONG: [status, u32('nonce')],
  REBOOT: [],
  REBOOT_ACK: [status],
};

/** Wire size of a fixed field (parts: just its count byte; rest: 0). */
export function fieldSize(k: FieldKind): number {
  switch (k.t) {
    case 'u8':
    case 'bool':
    case 'reserved':
    case 'parts':
      return 1;
    case 'u16':
      return 2;
    case 'u32':
      return 4;
    case 'char':
    case 'bytes':
      return k.n;
    case 'magic':
      return k.value.length;
    case 'rest':
      return 0;
  }
}

/** Minimum payload length of a layout (SPEC §4: shorter is BAD_REQUEST). */
export function minPayload(fields: readonly Field[]): number {
  let n = 0;
  for (const x of fields) n += fieldSize(x.kind);
  return n;
}

/** Size of one HELLO_ACK partition record (48). */
export const PART_SIZE = minPayload(PART_LAYOUT);
