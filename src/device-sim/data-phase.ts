/**
 * DATA and ACK (SPEC §4.5, §6.3): consume in order, hold out-of-order chunks, acknowledge, grant
 * credit, and write the plaintext to the slot.
 *
 * Two credit plans, as the SPEC asks:
 * - IRAM-safe UART ISR: credit is a full window beyond next_offset; plaintext is written after
 *   every consumed chunk (esp_ota_write per chunk), and acknowledged once written, while the ring
 *   buffer keeps taking input.
 * - ISR in flash: flash work blinds the UART except for its 128-byte FIFO, so credit only reaches
 *   the next flash point. When everything up to it has arrived the device says BUSY, writes the
 *   whole batch, then grants the next batch: nothing the host may send can arrive during the work.
 * After every write the durable resume record (§7) is appended, after the data it describes (far
 * more often than the DURABLE_INTERVAL minimum, so even a small image resumes after a power cut),
 * or, with `recordInterval`, after the write that completes each interval, as the firmware does.
 */
import { IMAGE_HEADER_SIZE, MSG, STATUS, statusName, type MessageOf } from '../protocol/index.js';
import { BUSY_ANNOUNCE_MS, type DeviceCore } from './device-core.js';
import { FlashError } from './flash.js';
import { opsMs, type FlashOp } from './flash-ops.js';
import type { OtaSession } from './ota-session.js';

export function ackMsg(s: OtaSession | undefined, status: number, busyMs = 0): MessageOf<'ACK'> {
  return {
    type: 'ACK',
    status,
    nextOffset: s?.next ?? 0,
    creditEnd: s?.creditEnd ?? 0,
    sack: s ? s.sack() : 0,
    busyMs: Math.min(0xffff, Math.ceil(busyMs)),
  };
}

/** Ops that write the session's pending plaintext and then record how far the slot is good. */
export function planFlush(d: DeviceCore, s: OtaSession): FlashOp[] {
  if (s.pendingBytes === 0) return [];
  const rewrites = s.writer.rewrites;
  d.apps.invalidate(s.target); // HELLO_ACK.parts shows the slot as it is in flash (SPEC §4.2)
  const ops = s.writer.planWrite(s.takePending());
  d.counters.sectorRewrites += s.writer.rewrites - rewrites;
  // §7: offset = 512 + 16k, never more than the slot holds; at least every 64 KiB (recordInterval
  // 0: after every write).
  const good = s.writer.written - (s.writer.written % 16);
  const interval = d.opts.recordInterval;
  if (d.records && (interval === 0 || good - s.recorded >= interval)) {
    ops.push(...d.records.append(IMAGE_HEADER_SIZE + good, s.imageId));
    s.recorded = good;
    d.counters.records++;
  }
  return ops;
}

/** Runs flash work for the session; a flash failure ends it with FLASH_ERROR. False if it failed. */
export async function runSessionFlash(d: DeviceCore, s: OtaSession, ops: FlashOp[]): Promise<boolean> {
  try {
    await d.flashWork(ops);
    return true;
  } catch (e) {
    if (!(e instanceof FlashError)) throw e;
    if (d.session === s) d.session = undefined;
    d.counters.refusals++;
    d.event({ type: 'refused', phase: 'data', status: 'FLASH_ERROR', reason: e.message });
    d.send({ ...ackMsg(s, STATUS.FLASH_ERROR), sack: 0 });
    await clearRecordQuietly(d);
    return false;
  }
}

/**
 * A refusal that ends a session clears its durable record (SPEC §7), as END and ABORT do. Best
 * effort: if the flash cannot even erase the record sector, the record stays, and a later BEGIN
 * re-runs the early checks and rewrites the sector after the resume point anyway.
 */
export async function clearRecordQuietly(d: DeviceCore): Promise<void> {
  if (!d.records) return;
  try {
    await d.flashWork(d.records.clear());
  } catch (e) {
    if (!(e instanceof FlashError)) throw e;
  }
}

/** Consumes `data` at next_offset and every held chunk that follows it; false if the early checks ended the session. */
function consumeRun(d: DeviceCore, s: OtaSession, first: Uint8Array): boolean {
  for (let data: Uint8Array | undefined = first; data; data = s.takeHeldAtNext()) {
    const r = s.consume(data, () => d.earlyContext());
    d.counters.consumed++;
    if (r && !r.ok) {
      d.session = undefined;
      d.counters.refusals++;
      d.event({ type: 'refused', phase: 'data', status: statusName(r.status), reason: r.reason });
      d.send({ ...ackMsg(s, r.status), sack: r.detail }); // §4.5: an error ACK carries the detail in place of sack
      return false;
    }
  }
  return true;
}

export async function handleData(d: DeviceCore, m: MessageOf<'DATA'>): Promise<void> {
  const s = d.session;
  d.counters.dataFrames++;
  if (!s) {
    if (d.refusal === undefined) d.counters.noSession++;
    d.send(ackMsg(undefined, d.refusal ?? STATUS.NO_SESSION));
    return;
  }
  const verdict = s.classify(m.offset, m.data.length, d.opts.multiChunk);
  if (verdict === 'bad') {
    d.counters.badRequests++;
    if (m.offset + m.data.length > s.creditEnd) d.counters.creditViolations++;
    d.send({ type: 'REPLY', code: MSG.ACK, status: STATUS.BAD_REQUEST }); // §4.9: ignored, the session continues
    return;
  }
  if (verdict === 'duplicate') {
    d.counters.duplicates++;
    d.send(ackMsg(s, STATUS.OK));
    return;
  }
  // Each chunk of the frame as if it had come alone (§4.5); one answer for the frame. A frame that
  // starts at next_offset after the early checks, with nothing held inside it, is the same thing as
  // one run: it is decrypted in one piece (8 chunks of 512 bytes: 8x fewer crypto calls).
  let consumed = false;
  const end = m.offset + m.data.length;
  if (s.app && m.data.length > s.chunk && m.offset === s.next && s.noneHeldIn(m.offset + s.chunk, end)) {
    if (!consumeRun(d, s, m.data)) return;
    d.counters.consumed += Math.ceil(m.data.length / s.chunk) - 1; // consumeRun counted one
    consumed = true;
  }
  for (let off = consumed ? end : m.offset; off < end; off += s.chunk) {
    const piece = m.data.subarray(off - m.offset, Math.min(off - m.offset + s.chunk, m.data.length));
    const v = s.chunkVerdict(off);
    if (v === 'duplicate') d.counters.duplicates++;
    else if (v === 'store') {
      s.store(off, piece);
      d.counters.outOfOrder++;
    } else {
      consumed = true;
      if (!consumeRun(d, s, piece)) return;
    }
  }
  if (!consumed) {
    d.send(ackMsg(s, STATUS.OK));
    return;
  }
  if (d.powerCutAt(s.next)) return;
  const { window, iramUart } = d.opts;
  if (iramUart) {
    // Written (and recorded) before it is acknowledged, so what the host saw acknowledged survives
    // a power cut; the ring buffer keeps taking the host's next chunks meanwhile.
    s.grant(window, iramUart);
    const ops = planFlush(d, s);
    const ms = opsMs(ops);
    if (ms >= BUSY_ANNOUNCE_MS) d.send(ackMsg(s, STATUS.BUSY, ms));
    if (!(await runSessionFlash(d, s, ops))) return;
    d.send(ackMsg(s, STATUS.OK));
    return;
  }
  if (s.next < s.flashPoint) {
    d.send(ackMsg(s, STATUS.OK));
    return;
  }
  // Flash point reached: everything granted has arrived, so the host is quiet now.
  const ops = planFlush(d, s);
  const ms = opsMs(ops);
  d.send(ackMsg(s, ms >= BUSY_ANNOUNCE_MS ? STATUS.BUSY : STATUS.OK, ms >= BUSY_ANNOUNCE_MS ? ms : 0));
  if (!(await runSessionFlash(d, s, ops))) return;
  if (d.session !== s || s.next >= s.total) return;
  s.grant(window, iramUart);
  d.send(ackMsg(s, STATUS.OK));
}
