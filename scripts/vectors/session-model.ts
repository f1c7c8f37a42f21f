/**
 * What a device in the vector configuration (SPEC §9.6) answers, computed from the SPEC's rules
 * for the generator of protocol/vectors/sessions (independent of src/device-sim): the frames as
 * wire bytes with a one-line description, the data-phase bookkeeping of §4.5 with the credit and
 * ACK rules pinned in §9.6, and HELLO_ACK from the reference flash of appendix A.
 */
import { createHash } from 'node:crypto';
import { buildPayload, MESSAGES, STATUS, type PartValues, type Value } from './layouts.js';
import { body, cat, le, wire } from './ref.js';

export interface Wire { bytes: Uint8Array; text: string }

const describe = (values: Record<string, Value>): string =>
  Object.entries(values)
    .filter(([k]) => !['header', 'bytes', 'resume_id', 'parts', 'magic'].includes(k))
    .map(([k, v]) => (k === 'status' ? `${statusName(v as number)}` : `${k}=${typeof v === 'string' ? `"${v}"` : String(v)}`))
    .join(' ');

export const statusName = (s: number): string => Object.entries(STATUS).find(([, v]) => v === s)?.[0] ?? `0x${s.toString(16)}`;

export function msg(name: string, values: Record<string, Value>, note = ''): Wire {
  const { payload } = buildPayload(name, values);
  return { bytes: wire(body(MESSAGES[name]![0], payload)), text: `${name} ${describe(values)}${note}`.trim() };
}

/** A frame with any version, type and payload (for malformed requests). */
export function raw(type: number, payload: Uint8Array, text: string, ver = 1): Wire {
  return { bytes: wire(body(type, payload, ver)), text };
}

/** Short reply of §4.9. */
export const shortReply = (code: number, status: number): Wire =>
  raw(code, Uint8Array.of(status), `short reply type ${code.toString(16)}: ${statusName(status)}`);

/** The reference device configuration of SPEC §9.6. */
export const CONFIG = {
  max_frame: 1040, window: 2048, max_baud: 921600, chip_id: 0, chip_rev: 300, flags: 0x10, efuse_secure_version: 0,
};
const MiB = 0x100000;
export const EMPTY_PART = (subtype: number, offset: number): PartValues => ({ subtype, state: 0xff, valid: 0, offset, size: MiB, secure_version: 0, version: '' });
export const FACTORY: PartValues = { subtype: 0x00, state: 0xff, valid: 1, offset: 0x10000, size: MiB, secure_version: 0, version: '1.0.0-factory' };

export interface HelloState {
  running?: number; boot?: number; target?: number; flags?: number;
  resume?: { id: Uint8Array; offset: number; total: number };
  /**
   * The image installed since the last reset, while `boot` still names its slot (SPEC §4.2 bit6):
   * `digest` is SHA-256 of the whole file.
   */
  installed?: { digest: Uint8Array; total: number };
  parts?: PartValues[];
}

const SLOT = ['factory', 'ota_0', 'ota_1'];

export function helloAck(h: HelloState = {}): Wire {
  const w = helloAckMsg(h);
  const parts = (h.parts ?? [FACTORY, EMPTY_PART(0x10, 0x110000), EMPTY_PART(0x11, 0x210000)]).map((p, i) =>
    `${SLOT[i]} ${p['valid'] ? 'valid' : 'not valid'}${p['version'] ? ` "${String(p['version'])}"` : ''}${p['state'] === 0xff ? '' : ` state ${String(p['state'])}`}`);
  const flags = helloFlags(h);
  const r = reported(h);
  const resume = r ? ` resume_offset=${r.offset} resume_total=${r.total}` : '';
  return { bytes: w.bytes, text: `HELLO_ACK OK running=${h.running ?? 0} boot=${h.boot ?? 0} target=${h.target ?? 1} flags=0x${flags.toString(16)}${resume}; ${parts.join(', ')}` };
}

/**
 * The configuration bits, 0x08 while a session is resumable, else 0x40 while an image installed
 * since the last reset is still what boots, and 0x20: every device takes multi-chunk DATA.
 */
const helloFlags = (h: HelloState): number => (h.flags ?? CONFIG.flags) | (h.resume ? 0x08 : h.installed ? 0x40 : 0) | 0x20;

/** What resume_* carry: the session, else the installed image (offset = total). */
const reported = (h: HelloState): { id: Uint8Array; offset: number; total: number } | undefined =>
  h.resume ?? (h.installed && { id: h.installed.digest, offset: h.installed.total, total: h.installed.total });

function helloAckMsg(h: HelloState): Wire {
  return msg('HELLO_ACK', {
    status: 0, proto: 1, max_frame: CONFIG.max_frame, window: CONFIG.window, max_baud: CONFIG.max_baud,
    chip_id: CONFIG.chip_id, chip_rev: CONFIG.chip_rev, flags: helloFlags(h),
    efuse_secure_version: 0, running: h.running ?? 0, boot: h.boot ?? 0, target: h.target ?? 1,
    run_version: '1.0.0-factory', run_project: 'ota-uart-sim-factory', run_secure_version: 0,
    resume_id: reported(h)?.id ?? new Uint8Array(32), resume_offset: reported(h)?.offset ?? 0, resume_total: reported(h)?.total ?? 0,
    parts: h.parts ?? [FACTORY, EMPTY_PART(0x10, 0x110000), EMPTY_PART(0x11, 0x210000)],
  });
}

export const imageId = (header: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(header).digest());

/** An encrypted image as the host pushes it. */
export class Image {
  readonly header: Uint8Array;
  readonly total: number;
  readonly binSize: number;
  constructor(readonly bytes: Uint8Array) {
    this.header = bytes.subarray(0, 512);
    this.binSize = Buffer.from(this.header).readUInt32LE(404);
    this.total = bytes.length;
  }
  get id(): Uint8Array { return imageId(this.header); }
  /** SPEC §4.2 bit6: SHA-256 of the whole file. */
  get digest(): Uint8Array { return new Uint8Array(createHash('sha256').update(this.bytes).digest()); }
}

export const hello = (): Wire => msg('HELLO', { magic: 'OTAU', host_proto: 1, flags: 0 });
export const begin = (header: Uint8Array, total: number, chunk: number, flags = 0): Wire =>
  msg('BEGIN', { flags, chunk, total, header }, ' (header: the image\'s 512 bytes)');
/** DATA(offset) carrying `len` file bytes (zeros past the end of the file, for refused frames). */
export const data = (img: Image, offset: number, len: number): Wire => {
  const bytes = new Uint8Array(len);
  bytes.set(img.bytes.subarray(offset, offset + len));
  return { bytes: wire(body(0x04, cat(le(offset, 4), bytes))), text: `DATA offset=${offset} (${len} bytes)` };
};

/**
 * The data phase of §4.5 for an IRAM-safe device (§9.6): credit after BEGIN and after every
 * in-order consumption is min(total, next + W * chunk), W = max(1, min(64, floor(window/chunk))),
 * never decreasing; one answer per DATA frame.
 */
export class DataPhase {
  next: number;
  credit: number;
  readonly held = new Set<number>();
  constructor(readonly img: Image, public chunk: number, public start = 512) {
    this.next = start;
    this.credit = 0;
    this.grant();
  }

  private grant(): void {
    const w = Math.max(1, Math.min(64, Math.floor(CONFIG.window / this.chunk)));
    this.credit = Math.max(this.credit, Math.min(this.img.total, this.next + w * this.chunk));
  }

  sack(): number {
    let s = 0;
    for (let i = 0; i < 32; i++) if (this.held.has(this.next + (i + 1) * this.chunk)) s |= 1 << i;
    return s >>> 0;
  }

  ack(status = 0): Wire {
    return msg('ACK', { status, next_offset: this.next, credit_end: this.credit, sack: this.sack(), busy_ms: 0 });
  }

  /** A BEGIN for the same image (§6.4): exactly next_offset, a new grid there, held chunks forgotten, fresh credit. */
  resume(chunk: number): void {
    this.chunk = chunk;
    this.start = this.next;
    this.held.clear();
    this.credit = 0;
    this.grant();
  }

  beginAck(target = 1): Wire {
    return msg('BEGIN_ACK', { status: 0, next_offset: this.next, credit_end: this.credit, target, detail: 0 });
  }

  /**
   * The device's answer to DATA(offset, len) and the state change, by the order of checks of §4.5:
   * rules 1-3 on the whole frame (the length `min(m * chunk, total - offset)`, m >= 1: bit5), then
   * rules 4-6 on each of its chunks in order, one answer after the last.
   */
  feed(offset: number, len: number): { reply: Wire; kind: string } {
    const { chunk, img } = this;
    if (offset < this.next) return { reply: this.ack(), kind: (offset - this.start) % chunk === 0 && offset >= this.start ? 'duplicate (below next_offset)' : 'duplicate (below next_offset, off this grid)' };
    if ((offset - this.start) % chunk !== 0) return { reply: shortReply(0x84, STATUS.BAD_REQUEST!), kind: 'off the grid' };
    const wholeChunks = len % chunk === 0 || offset + len === img.total;
    if (offset >= img.total || len === 0 || !wholeChunks || offset + len > img.total || offset + len > this.credit) {
      return { reply: shortReply(0x84, STATUS.BAD_REQUEST!), kind: 'refused (length, total or credit)' };
    }
    const kinds: string[] = [];
    for (let o = offset; o < offset + len; o += chunk) kinds.push(this.chunkRule(o));
    return { reply: this.ack(), kind: kinds.length === 1 ? kinds[0]! : kinds.map((k, i) => `${offset + i * chunk}: ${k}`).join('; ') };
  }

  /** Rules 4-6 for one chunk on the grid, within credit. */
  private chunkRule(offset: number): string {
    const { chunk, img } = this;
    if (offset < this.next) return 'duplicate (consumed just before)';
    if (this.held.has(offset)) return 'duplicate (already held)';
    if (offset !== this.next) {
      this.held.add(offset);
      return 'out of order: held';
    }
    this.next += Math.min(chunk, img.total - offset);
    let extra = 0;
    while (this.held.delete(this.next)) {
      this.next += Math.min(chunk, img.total - this.next);
      extra++;
    }
    this.grant();
    return extra ? `in order, and ${extra} held chunk(s) after it` : 'in order';
  }
}
