/**
 * frames.vec (SPEC §9): one valid frame of every message type, and a few more for edge cases,
 * each with a comment and a `field` line per payload field, its `body` and its `wire` bytes.
 */
import { HEADER } from './basic.js';
import { MESSAGES, STATUS, buildPayload, type PartValues, type Value } from './layouts.js';
import { body, cat, hex, prng, wire } from './ref.js';

/** The frame lines (msg, per-field comments and field lines, body, wire) of one message. */
export function frameLines(name: string, values: Record<string, Value>): { lines: string[]; wire: Uint8Array } {
  const [code] = MESSAGES[name]!;
  const { payload, lines } = buildPayload(name, values);
  return frameFrom(name, code, payload, lines);
}

/** A short reply (SPEC §4.9): type `code` (a reply type), payload = the status byte only. */
export function replyLines(code: number, status: number): { lines: string[]; wire: Uint8Array } {
  const lines = [`# +0 status: ${hex([status])} = ${nameOf(status)}`, `field status ${status}`];
  return frameFrom('REPLY', code, Uint8Array.of(status), lines);
}

const nameOf = (s: number): string => Object.entries(STATUS).find(([, v]) => v === s)?.[0] ?? 'unknown';

function frameFrom(name: string, code: number, payload: Uint8Array, fieldLines: string[]) {
  const b = body(code, payload);
  const w = wire(b);
  const crcBytes = b.subarray(b.length - 4);
  const lines = [
    `msg ${name} ${hex([code])}`,
    ...fieldLines,
    `# body: ver 01, type ${hex([code])}, ${payload.length} payload bytes, crc ${hex(crcBytes)} (little-endian)`,
    `body ${hex(b)}`,
    `wire ${hex(w)}`,
  ];
  return { lines, wire: w };
}

const MiB = 0x100000;
/** The partitions of the reference factory flash (SPEC appendix A) as HELLO_ACK lists them. */
export const FACTORY_PARTS: PartValues[] = [
  { subtype: 0x00, state: 0xff, valid: 1, offset: 0x10000, size: MiB, secure_version: 0, version: '1.0.0-factory' },
  { subtype: 0x10, state: 0xff, valid: 0, offset: 0x110000, size: MiB, secure_version: 0, version: '' },
  { subtype: 0x11, state: 0xff, valid: 0, offset: 0x210000, size: MiB, secure_version: 0, version: '' },
];

export function framesVec(): string {
  const rnd = prng(0x4652414d);
  const header = cat([0xcf, 0xb6, 0x88, 0x07], rnd(508));
  const z32 = new Uint8Array(32);
  const helloAck = (over: Record<string, Value>): Record<string, Value> => ({
    // SPEC §9.6's reference configuration on the reference factory flash (appendix A)
    status: 0, proto: 1, max_frame: 1040, window: 2048, max_baud: 921600, chip_id: 0, chip_rev: 300, flags: 0x10 | 0x20,
    efuse_secure_version: 0, running: 0, boot: 0, target: 1, run_version: '1.0.0-factory', run_project: 'ota-uart-sim-factory',
    run_secure_version: 0, resume_id: z32, resume_offset: 0, resume_total: 0, parts: FACTORY_PARTS, ...over,
  });
  const nonzero = rnd(1024, { noZero: true });
  const frames: [string, string, ReturnType<typeof frameLines>][] = [
    ['HELLO', 'host looking for the device', frameLines('HELLO', { magic: 'OTAU', host_proto: 1, flags: 0 })],
    ['HELLO_ACK_factory', 'a device in the reference configuration (SPEC §9.6) on the reference factory flash (appendix A): factory app runs, update goes to ota_0', frameLines('HELLO_ACK', helloAck({}))],
    ['HELLO_ACK_resumable', 'running ota_0 (VALID), a resumable session for ota_1, anti-rollback on', frameLines('HELLO_ACK', helloAck({
      flags: 0x01 | 0x02 | 0x08 | 0x10 | 0x20, efuse_secure_version: 1, running: 1, boot: 1, target: 2, run_version: '1.2.3-vector',
      run_project: 'esp_ota_vectors', run_secure_version: 1, resume_id: Uint8Array.from({ length: 32 }, (_, i) => i + 1),
      resume_offset: 2560, resume_total: 3664,
      parts: [FACTORY_PARTS[0]!, { ...FACTORY_PARTS[1]!, state: 2, valid: 1, secure_version: 1, version: '1.2.3-vector' }, FACTORY_PARTS[2]!],
    }))],
    ['HELLO_ACK_no_parts', 'a device that lists no partitions and cannot update (target 0xFF)', frameLines('HELLO_ACK', helloAck({ target: 0xff, parts: [] }))],
    ['BAUD', 'switch to 921600', frameLines('BAUD', { baud: 921600 })],
    ['BAUD_ACK', 'accepted', frameLines('BAUD_ACK', { status: 0, baud: 921600 })],
    ['BAUD_ACK_refused', 'rate refused, nothing changes', frameLines('BAUD_ACK', { status: STATUS.UNSUPPORTED!, baud: 3000000 })],
    ['BEGIN', 'chunk 256, total 3664, a synthetic header (magic then pseudo-random bytes)', frameLines('BEGIN', { flags: 0, chunk: 256, total: 3664, header })],
    ['BEGIN_flags', 'ALLOW_DOWNGRADE | FRESH, chunk 1024', frameLines('BEGIN', { flags: 3, chunk: 1024, total: 1049088, header })],
    ['BEGIN_ACK', 'new session at 512 with 8 chunks of credit', frameLines('BEGIN_ACK', { status: 0, next_offset: 512, credit_end: 2560, target: 1, detail: 0 })],
    ['BEGIN_ACK_too_large', 'refused: detail = partition size', frameLines('BEGIN_ACK', { status: STATUS.TOO_LARGE!, next_offset: 0, credit_end: 0, target: 1, detail: MiB })],
    ['DATA', 'first chunk: 256 pseudo-random bytes', frameLines('DATA', { offset: 512, bytes: rnd(256) })],
    ['DATA_final_short', 'the final chunk ends at total (80 bytes)', frameLines('DATA', { offset: 3584, bytes: rnd(80) })],
    ['DATA_nonzero_1024', '1024 non-zero bytes: the encoding has full 254-byte blocks', frameLines('DATA', { offset: 1536, bytes: nonzero })],
    ['DATA_max', 'the largest body: 6 + 4 + 4102 = MAX_FRAME_ABS (4112)', frameLines('DATA', { offset: 512, bytes: rnd(4102) })],
    ['ACK', 'in order, no holes', frameLines('ACK', { status: 0, next_offset: 1024, credit_end: 3072, sack: 0, busy_ms: 0 })],
    ['ACK_sack', 'chunks 2 and 3 after next_offset held, chunk 1 after it missing', frameLines('ACK', { status: 0, next_offset: 768, credit_end: 2816, sack: 0b110, busy_ms: 0 })],
    ['ACK_busy', 'erasing for 450 ms', frameLines('ACK', { status: STATUS.BUSY!, next_offset: 66048, credit_end: 66048, sack: 0, busy_ms: 450 })],
    ['ACK_wrong_chip', 'early check failed: the session ends; the sack field carries the detail, the image\'s chip id (5: ESP32-C3)', frameLines('ACK', { status: STATUS.WRONG_CHIP!, next_offset: 768, credit_end: 2560, sack: 5, busy_ms: 0 })],
    ['ACK_secure_version', 'early anti-rollback refusal: the sack field carries the detail, the image\'s secure_version (1)', frameLines('ACK', { status: STATUS.SECURE_VERSION!, next_offset: 768, credit_end: 2560, sack: 1, busy_ms: 0 })],
    ['END', 'no reboot', frameLines('END', { flags: 0 })],
    ['END_reboot', 'REBOOT after success', frameLines('END', { flags: 1 })],
    ['RESULT', 'ota_0 boots next, version 1.2.3-vector', frameLines('RESULT', { status: 0, boot: 1, secure_version: 1, version: '1.2.3-vector', detail: 0 })],
    ['RESULT_auth_failed', 'GCM tag mismatch', frameLines('RESULT', { status: STATUS.AUTH_FAILED!, boot: 0xff, secure_version: 0, version: '', detail: 0 })],
    ['RESULT_full_version', 'a version filling all 32 bytes (no NUL)', frameLines('RESULT', { status: 0, boot: 2, secure_version: 7, version: '2026.01.01-build.1234567890abcde', detail: 0 })],
    ['ABORT', '', frameLines('ABORT', {})],
    ['ABORT_ACK', '', frameLines('ABORT_ACK', { status: 0 })],
    ['CONFIRM', '', frameLines('CONFIRM', {})],
    ['CONFIRM_ACK', 'ota_0 marked valid, boots next', frameLines('CONFIRM_ACK', { status: 0, boot: 1 })],
    ['ROLLBACK', '', frameLines('ROLLBACK', {})],
    ['ROLLBACK_ACK', 'nothing pending', frameLines('ROLLBACK_ACK', { status: STATUS.NO_PENDING!, boot: 0 })],
    ['PING', '', frameLines('PING', { nonce: 0x04030201 })],
    ['PONG', '', frameLines('PONG', { status: 0, nonce: 0x04030201 })],
    ['REBOOT', '', frameLines('REBOOT', {})],
    ['REBOOT_ACK', '', frameLines('REBOOT_ACK', { status: 0 })],
    ['REPLY_unknown_type', 'answer to an unknown request type 0x0B', replyLines(0x8b, STATUS.UNSUPPORTED!)],
    ['REPLY_bad_request', 'answer to a BEGIN whose payload is too short', replyLines(0x83, STATUS.BAD_REQUEST!)],
  ];
  const out = HEADER('frames.vec', 'valid frames: frame, msg, field (one per payload field), body, wire');
  for (const [label, what, f] of frames) {
    out.push(`frame ${label}`);
    if (what) out.push(`# ${what}`);
    out.push(...f.lines, '');
  }
  return out.join('\n');
}
