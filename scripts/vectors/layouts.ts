/**
 * Message payload layouts of SPEC §4 / §4.2, written out again for the vector generator (not taken
 * from src/protocol, see ref.ts), and a payload builder that also produces one comment line per
 * field for the vector files.
 */
import { ascii, cat, hex, le } from './ref.js';

export type FieldType = 'u8' | 'u16' | 'u32' | 'char' | 'bytes' | 'rest' | 'parts';
export interface FieldSpec { name: string; t: FieldType; n?: number }
export type Value = number | string | Uint8Array | PartValues[];
export type PartValues = Record<string, number | string>;

const u8 = (name: string): FieldSpec => ({ name, t: 'u8' });
const u16 = (name: string): FieldSpec => ({ name, t: 'u16' });
const u32 = (name: string): FieldSpec => ({ name, t: 'u32' });
const char = (name: string, n: number): FieldSpec => ({ name, t: 'char', n });
const st = u8('status');

export const PART_FIELDS: FieldSpec[] = [
  u8('subtype'), u8('state'), u8('valid'), u8('reserved'), u32('offset'), u32('size'), u32('secure_version'), char('version', 32),
];

/** name -> [type code, fields] exactly as the table of SPEC §4. */
export const MESSAGES: Record<string, [number, FieldSpec[]]> = {
  HELLO: [0x01, [char('magic', 4), u8('host_proto'), u8('flags')]],
  HELLO_ACK: [0x81, [
    st, u8('proto'), u16('max_frame'), u32('window'), u32('max_baud'), u16('chip_id'), u16('chip_rev'), u8('flags'),
    u32('efuse_secure_version'), u8('running'), u8('boot'), u8('target'), char('run_version', 32), char('run_project', 32),
    u32('run_secure_version'), { name: 'resume_id', t: 'bytes', n: 32 }, u32('resume_offset'), u32('resume_total'),
    { name: 'parts', t: 'parts' },
  ]],
  BAUD: [0x02, [u32('baud')]],
  BAUD_ACK: [0x82, [st, u32('baud')]],
  BEGIN: [0x03, [u8('flags'), u16('chunk'), u32('total'), { name: 'header', t: 'bytes', n: 512 }]],
  BEGIN_ACK: [0x83, [st, u32('next_offset'), u32('credit_end'), u8('target'), u32('detail')]],
  DATA: [0x04, [u32('offset'), { name: 'bytes', t: 'rest' }]],
  ACK: [0x84, [st, u32('next_offset'), u32('credit_end'), u32('sack'), u16('busy_ms')]],
  END: [0x05, [u8('flags')]],
  RESULT: [0x85, [st, u8('boot'), u32('secure_version'), char('version', 32), u32('detail')]],
  ABORT: [0x06, []],
  ABORT_ACK: [0x86, [st]],
  CONFIRM: [0x07, []],
  CONFIRM_ACK: [0x87, [st, u8('boot')]],
  ROLLBACK: [0x08, []],
  ROLLBACK_ACK: [0x88, [st, u8('boot')]],
  PING: [0x09, [u32('nonce')]],
  PONG: [0x89, [st, u32('nonce')]],
  REBOOT: [0x0a, []],
  REBOOT_ACK: [0x8a, [st]],
};

export const STATUS_NAMES: Record<number, string> = {
  0x00: 'OK', 0x01: 'BUSY', 0x10: 'NOT_ENCRYPTED', 0x11: 'BAD_SIZE', 0x12: 'WRONG_KEY', 0x13: 'TOO_LARGE', 0x14: 'NOT_APP',
  0x15: 'WRONG_CHIP', 0x16: 'CHIP_REV', 0x17: 'DOWNGRADE', 0x18: 'SECURE_VERSION', 0x19: 'AUTH_FAILED',
  0x1a: 'INVALID_IMAGE', 0x1b: 'INCOMPLETE', 0x1c: 'FLASH_ERROR', 0x1d: 'NO_SESSION', 0x1e: 'BAD_STATE', 0x1f: 'ABORTED',
  0x20: 'UNSUPPORTED', 0x21: 'BAD_REQUEST', 0x22: 'NO_PENDING',
};
export const STATUS: Record<string, number> = Object.fromEntries(Object.entries(STATUS_NAMES).map(([v, n]) => [n, Number(v)]));

/** Printable form of a value in a `field` line (SPEC §9): decimal, "quoted text" or hex / "-". */
function show(f: FieldSpec, v: number | string | Uint8Array): string {
  if (f.t === 'char') {
    if (typeof v !== 'string' || !/^[\x20-\x7e]*$/.test(v) || /["\\]/.test(v)) throw new Error(`${f.name}: vector strings are printable ASCII without " or \\`);
    return `"${v}"`;
  }
  if (f.t === 'bytes' || f.t === 'rest') return hex(v as Uint8Array);
  return String(v);
}

function bytesOf(f: FieldSpec, v: number | string | Uint8Array): Uint8Array {
  switch (f.t) {
    case 'u8': return cat(le(v as number, 1));
    case 'u16': return cat(le(v as number, 2));
    case 'u32': return cat(le(v as number, 4));
    case 'char': {
      const b = ascii(v as string);
      if (b.length > f.n!) throw new Error(`${f.name} longer than ${f.n}`);
      return cat(b, new Array<number>(f.n! - b.length).fill(0));
    }
    case 'bytes':
      if ((v as Uint8Array).length !== f.n) throw new Error(`${f.name} must be ${f.n} bytes`);
      return v as Uint8Array;
    default: return v as Uint8Array;
  }
}

function note(f: FieldSpec, v: number | string | Uint8Array, b: Uint8Array): string {
  const shown = b.length > 16 ? `${hex(b.subarray(0, 16))}... (${b.length} bytes)` : b.length === 0 ? '(none)' : hex(b);
  let what = '';
  if (f.name === 'status') what = ` = ${STATUS_NAMES[v as number] ?? 'unknown'}`;
  else if (typeof v === 'number' && (f.t === 'u16' || f.t === 'u32') && v > 9) what = ` = ${v} = 0x${v.toString(16)}`;
  else if (typeof v === 'number') what = ` = ${v}`;
  else if (typeof v === 'string') what = ` = "${v}"`;
  return `${f.name}: ${shown}${what}`;
}

export interface BuiltPayload { payload: Uint8Array; lines: string[] }

/**
 * Payload bytes of message `name` with `values` (keyed by SPEC field name), plus, per field, a
 * `# +offset name: bytes = value` comment line followed by its `field name value` line.
 */
export function buildPayload(name: string, values: Record<string, Value>): BuiltPayload {
  const [, fields] = MESSAGES[name]!;
  const parts: Uint8Array[] = [];
  const lines: string[] = [];
  let off = 0;
  const put = (f: FieldSpec, v: number | string | Uint8Array, label: string): void => {
    const b = bytesOf(f, v);
    lines.push(`# +${off} ${note({ ...f, name: label }, v, b)}`, `field ${label} ${show(f, v)}`);
    parts.push(b);
    off += b.length;
  };
  for (const f of fields) {
    const v = values[f.name];
    if (v === undefined) throw new Error(`${name}: no value for ${f.name}`);
    if (f.t === 'parts') {
      const list = v as PartValues[];
      put(u8('nparts'), list.length, 'nparts');
      list.forEach((p, i) => {
        for (const pf of PART_FIELDS) put(pf, p[pf.name] ?? (pf.name === 'reserved' ? 0 : undefined)!, `parts[${i}].${pf.name}`);
      });
    } else {
      put(f, v as number | string | Uint8Array, f.name);
    }
  }
  for (const k of Object.keys(values)) if (!fields.some((f) => f.name === k)) throw new Error(`${name}: unknown field ${k}`);
  return { payload: cat(...parts), lines };
}
