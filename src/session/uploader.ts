/**
 * The data phase (SPEC §4.5): keep as much in flight as the device's credit allows, resend exactly
 * the chunks the device shows as lost, and adapt the retransmission timeout to the measured round
 * trip. Frames cannot overtake each other on a serial line, so a hole below a chunk that arrived
 * (seen in the ACK's sack bitmap) is a loss, and only that chunk is resent (selective repeat: one
 * corrupted frame costs one frame, not a whole window, which is what keeps a noisy 3 Mbaud link with
 * a 16 ms adapter latency efficient).
 */
import type { Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { ENC_HEADER_SIZE } from '../image/index.js';
import { encodeData, MAX_STALLS, MIN_RTO_MS, STATUS } from '../protocol/index.js';
import type { Reporter } from '../reporter.js';
import { abortError, type DeviceLink, type MessageOf } from './device-link.js';
import { ackStatusError, SessionLostError, type StatusContext } from './status-errors.js';
import { RttEstimator } from './rtt.js';
import { FrameSizer } from './frame-sizer.js';
import { leadMs, MIN_WAIT_MS, WirePacer } from './wire-pacer.js';

export interface UploadParams {
  image: Uint8Array;
  /** First offset to send (BEGIN_ACK.nextOffset). */
  start: number;
  chunk: number;
  creditEnd: number;
  /** Caps bytes in flight below the device's credit (1 chunk = stop-and-wait, for comparison). */
  maxInFlight?: number;
  /**
   * Most chunks one DATA frame may carry (SPEC §4.5, HELLO_ACK bit5). Default 1. New data goes out
   * this many chunks per frame while nothing is lost; see FrameSizer.
   */
  chunksPerFrame?: number;
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
  statusContext?: StatusContext;
  /** Called once, when every chunk has been sent and nothing is waiting to be resent (early END). */
  onAllSent?: () => Promise<void>;
  /** Called when the answer to that END can only have been an INCOMPLETE that was lost. */
  onEndUnanswered?: () => void;
  /** Called with every cumulative-ack advance (for progress). */
  onProgress?: (acked: number) => void;
  /** Counters to update in place (so a failed upload still tells how many retries it took). */
  stats?: UploadStats;
}

export function newUploadStats(): UploadStats {
  return { framesSent: 0, retransmits: 0, timeouts: 0, duplicateAcks: 0, busyMs: 0, srttMs: 0 };
}

export interface UploadStats {
  framesSent: number;
  retransmits: number;
  timeouts: number;
  duplicateAcks: number;
  busyMs: number;
  srttMs: number;
}

type Ack = MessageOf<'ACK'>;

export async function uploadData(link: DeviceLink, p: UploadParams): Promise<UploadStats> {
  const total = p.image.length;
  const nChunks = Math.ceil((total - p.start) / p.chunk);
  const offsetOf = (k: number): number => p.start + k * p.chunk;
  const txOrder = new Float64Array(nChunks); // 0 = never sent
  const txTime = new Float64Array(nChunks);
  const txCount = new Uint16Array(nChunks);
  const sacked = new Uint8Array(nChunks);
  const vDone = new Float64Array(nChunks); // when the pacer's model has each chunk's last send off the wire
  const resend = new Set<number>();
  const sizer = new FrameSizer(p.chunksPerFrame ?? 1);
  // The lead is sized for one-chunk frames even when frames carry several: a resend, always one
  // chunk, then never waits behind more than a few ms of new data.
  const pacer = new WirePacer(() => 10_000 / Math.max(1, link.transport.baud), leadMs(link.transport.baud, p.chunk + 20));
  const rtt = new RttEstimator(MIN_RTO_MS);
  const stats: UploadStats = p.stats ?? newUploadStats();

  let acked = p.start; // device's next_offset
  let ackedIdx = 0;
  let credit = p.creditEnd;
  let nextNew = 0; // next chunk never sent
  let order = 0;
  let stalls = 0;
  let busyUntil = 0;
  let lastProgress = p.clock.now();
  // What had come in at the last progress: a device that reset shows up as bytes but no frame.
  let heard = { rx: link.counters.rxBytes, frames: link.counters.receivedFrames };
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => { const w = wake; wake = undefined; w?.(); };

  const onAck = (a: Ack): void => {
    if (a.status !== STATUS.OK && a.status !== STATUS.BUSY) {
      // The first refusal is the cause: frames already on their way when the device dropped the
      // session come back NO_SESSION, which must not hide it.
      failure ??= a.status === STATUS.NO_SESSION ? new SessionLostError(acked) : ackStatusError(a, p.statusContext);
      notify();
      return;
    }
    const now = p.clock.now();
    if (a.status === STATUS.BUSY) {
      busyUntil = Math.max(busyUntil, now + a.busyMs);
      stats.busyMs += a.busyMs;
      // Nothing is consumed before the key: a BUSY at 512 is the unwrap (SPEC §4.4 step 5), not flash work.
      p.reporter.event({ type: 'busy', ms: a.busyMs, offset: a.nextOffset, phase: a.nextOffset === ENC_HEADER_SIZE ? 'key' : 'write' });
    }
    if (a.nextOffset > acked) {
      // The device answered the early END at once, before anything sent after it arrived, and
      // frames keep their order both ways: if next_offset moves past a hole last sent after END
      // and no RESULT came first, it was INCOMPLETE and it was lost. END goes again now, not after
      // a silence (one push in 200 at 3 Mbaud + 16 ms and BER 1e-5, about 200 ms).
      if (endOrder > 0 && allSent === undefined && !ended && txOrder[ackedIdx]! > endOrder) {
        endOrder = 0;
        allSent = p.onAllSent;
        p.onEndUnanswered?.();
      }
      const newIdx = a.nextOffset >= total ? nChunks : Math.floor((a.nextOffset - p.start) / p.chunk);
      for (let k = ackedIdx; k < newIdx; k++) {
        // Karn: only chunks sent exactly once give an unambiguous round-trip sample, and only from
        // the first ACK that shows them: one held above a hole (sacked) is acknowledged
        // cumulatively only when the hole is filled, a round trip or more after it arrived. (A
        // txTime of 0: the ACK beat the stamp after our own write returned; no sample.) The chunks
        // of one frame share a transmission: one sample for the frame.
        if (txCount[k] === 1 && !sacked[k] && txTime[k]! > 0 && txOrder[k] !== txOrder[k - 1]) rtt.sample(now - txTime[k]!);
        resend.delete(k);
        if (!sacked[k]) sizer.delivered(txOrder[k]!);
      }
      if (newIdx > ackedIdx) pacer.delivered(now, vDone[newIdx - 1]!);
      acked = a.nextOffset;
      ackedIdx = newIdx;
      stalls = 0;
      heard = { rx: link.counters.rxBytes, frames: link.counters.receivedFrames };
      rtt.resetBackoff();
      lastProgress = now;
      p.onProgress?.(acked);
    } else if (a.sack === 0) {
      stats.duplicateAcks++;
    }
    credit = Math.max(credit, a.creditEnd);
    if (a.sack !== 0) markSack(a.sack);
    notify();
  };

  const markSack = (sack: number): void => {
    let newestHeld = 0;
    let highest = -1;
    for (let i = 0; i < 32; i++) {
      if (!((sack >>> i) & 1)) continue;
      const k = ackedIdx + i + 1;
      if (k >= nChunks) break;
      if (!sacked[k] && txCount[k] === 1 && txTime[k]! > 0 && txOrder[k] !== txOrder[k - 1]) rtt.sample(p.clock.now() - txTime[k]!);
      if (!sacked[k]) sizer.delivered(txOrder[k]!);
      sacked[k] = 1;
      highest = k;
      pacer.delivered(p.clock.now(), vDone[k]!);
      newestHeld = Math.max(newestHeld, txOrder[k]!);
    }
    // Every hole that was transmitted before something the device now holds is lost.
    for (let k = ackedIdx; k < highest; k++) {
      if (!sacked[k] && txOrder[k]! > 0 && txOrder[k]! < newestHeld) {
        resend.add(k);
        sizer.lost(order);
      }
    }
  };

  let allSent = p.onAllSent;
  /** Transmission number of the last DATA frame before the latest early END (0: none out). */
  let endOrder = 0;
  /** The early END got its final answer: the data phase is over whatever ACKs are still missing. */
  let ended = false;
  // An END sent after the last frame (onAllSent) that finds data missing is answered INCOMPLETE:
  // every chunk sent before it and not held by the device was lost. Resend them now, and END again
  // right behind them: frames keep their order, so if the resends arrive the RESULT comes back a
  // round trip sooner than after waiting for their ACK (one push in two at BER 1e-5 ends so).
  const onIncomplete = (): void => {
    for (let k = ackedIdx; k < nChunks; k++) if (!sacked[k] && txOrder[k]! > 0) resend.add(k);
    sizer.lost(order);
    allSent = p.onAllSent;
    notify();
  };
  const unlisten = link.listen((m) => {
    if (m.type === 'ACK') onAck(m);
    else if (m.type === 'RESULT' && allSent === undefined && p.onAllSent) {
      if (m.status === STATUS.INCOMPLETE) onIncomplete();
      else {
        // Any other answer to the early END is final: OK means the device had every byte and
        // verified the image (the ACK for the last frame was lost on the way); an error ends the
        // session. Resending would only be answered NO_SESSION. finish.ts reads the RESULT.
        ended = true;
        notify();
      }
    }
  });
  // A cut cable (a USB adapter that vanished) ends the wait at once, not at the next RTO: the
  // caller's reconnect and resume start right away.
  const unlistenLost = link.onLost((e) => { failure ??= e; notify(); });
  const onAbort = (): void => { failure = abortError(); notify(); };
  p.signal?.addEventListener('abort', onAbort, { once: true });

  // Frames that may go out now are gathered and written together: one write (one syscall on a
  // serial port) per burst of credit instead of one per frame, which is what lets the engine run at
  // many MB/s when a device acknowledges a burst at once.
  const batch: { k: number; n: number; wire: Uint8Array }[] = [];
  let batchBytes = 0;
  /** One DATA frame with chunks k .. k + n - 1 (n > 1 only for new data: every resend is one chunk). */
  const queue = (k: number, n = 1): void => {
    const off = offsetOf(k);
    const wire = encodeData(off, p.image.subarray(off, Math.min(offsetOf(k + n), total)));
    const done = pacer.wrote(p.clock.now(), wire.length);
    order++;
    for (let i = k; i < k + n; i++) {
      txOrder[i] = order;
      txCount[i] = Math.min(txCount[i]! + 1, 65535);
      vDone[i] = done;
    }
    stats.framesSent++;
    batch.push({ k, n, wire });
    batchBytes += wire.length;
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const frames = batch.splice(0);
    batchBytes = 0;
    await link.sendRaw(frames.length === 1 ? frames[0]!.wire : Buffer.concat(frames.map((f) => f.wire)));
    // Stamp after the write is accepted: time spent queued behind our own earlier frames is not
    // part of the device's round trip.
    const now = p.clock.now();
    for (const f of frames) txTime.fill(now, f.k, f.k + f.n);
  };

  const inFlightLimit = (): number => Math.min(credit, acked + (p.maxInFlight ?? Infinity));
  /** New chunks from nextNew that one frame may carry now: within credit, at most sizer.chunks. */
  const newChunksThatFit = (): number => {
    let n = 0;
    while (n < sizer.chunks && nextNew + n < nChunks && Math.min(offsetOf(nextNew + n + 1), total) <= inFlightLimit()) n++;
    return n;
  };

  try {
    if (p.signal?.aborted) throw abortError();
    while (acked < total && !ended) {
      if (failure) throw failure;
      // 1. Resend what is known lost (lowest offset first), then 2. new chunks within credit.
      let k: number | undefined;
      for (const r of resend) if (r >= ackedIdx && !sacked[r] && (k === undefined || r < k)) k = r;
      if (k !== undefined) {
        resend.delete(k);
        stats.retransmits++;
        p.reporter.event({ type: 'retry', offset: offsetOf(k), reason: 'lost' });
        queue(k);
        if (batchBytes >= MAX_BATCH_BYTES) await flush();
        continue;
      }
      const fit = newChunksThatFit();
      const newFits = fit > 0;
      if (newFits && pacer.waitMs(p.clock.now()) === 0) {
        queue(nextNew, fit);
        nextNew += fit;
        if (batchBytes >= MAX_BATCH_BYTES) await flush();
        continue;
      }
      if (batch.length > 0) {
        await flush();
        continue; // ACKs may have arrived meanwhile
      }
      if (nextNew >= nChunks && allSent) {
        const f = allSent;
        allSent = undefined;
        endOrder = order;
        await f();
        continue;
      }
      // 3. Nothing to send: wait for an ACK or the retransmission timeout.
      // (New data held back by the pacer is sent when the wire has room for it.)
      const now = p.clock.now();
      const deadline = Math.max(lastProgress, busyUntil) + rtt.rto() + flightTimeMs(link, nextNew, ackedIdx, p.chunk);
      // A resent chunk at next_offset that credit keeps us from following with new data can only be
      // confirmed by its own ACK; two round trips without it, and it was lost again: resend it now
      // instead of idling until the RTO (a second loss of one chunk happens at high BER).
      const probeAt = !newFits && ackedIdx < nChunks && txCount[ackedIdx]! >= 2 && rtt.srtt > 0
        ? Math.max(txTime[ackedIdx]! + 2 * rtt.srtt + flightTimeMs(link, nextNew, ackedIdx, p.chunk), busyUntil)
        : Infinity;
      if (now >= probeAt && now < deadline) {
        sizer.lost(order);
        stats.retransmits++;
        p.reporter.event({ type: 'retry', offset: offsetOf(ackedIdx), reason: 'probe' });
        queue(ackedIdx);
        await flush();
        continue;
      }
      const paceWait = newFits ? pacer.waitMs(now) : Infinity;
      if (paceWait === 0) continue; // the wire made room since step 2 looked
      const wakeAt = Math.min(now + paceWait, deadline, probeAt);
      // Before the deadline this is never a timeout, even where `now + paceWait` rounds to `now`.
      const sleepMs = now < wakeAt ? wakeAt - now : now < deadline ? Math.max(MIN_WAIT_MS, Math.min(paceWait, deadline - now)) : 0;
      if (sleepMs > 0) {
        await new Promise<void>((resolve) => {
          const t = p.clock.setTimer(sleepMs, () => { wake = undefined; resolve(); });
          wake = () => { t.cancel(); resolve(); };
        });
        continue;
      }
      // Timeout: nothing moved for a whole RTO. Probe with the first unacknowledged chunk (or the
      // next new one if the device has simply not granted credit yet).
      stats.timeouts++;
      if (++stalls > MAX_STALLS) {
        throw new OtaError(
          'TIMEOUT',
          `the device stopped acknowledging at offset ${acked} of ${total} (${MAX_STALLS} retransmission timeouts); the transfer can be resumed`,
          { details: { offset: acked, total } },
        );
      }
      const noise = link.counters.rxBytes - heard.rx;
      if (stalls >= RESET_STALLS && noise > 0 && link.counters.receivedFrames === heard.frames) {
        // Bytes but not one valid frame since the last progress: not a slow device (it would have
        // said BUSY) but most likely one that reset and prints its boot log at its reset rate while
        // we talk at a switched one. Looking for it again (HELLO at both rates) beats 8 RTOs.
        throw new OtaError(
          'TIMEOUT',
          `the device stopped acknowledging at offset ${acked} of ${total} and only noise came back (${noise} bytes, no valid frame in ${stalls} retransmission timeouts): it probably reset`,
          { details: { offset: acked, total, noiseBytes: noise } },
        );
      }
      rtt.backoff();
      sizer.lost(order);
      lastProgress = p.clock.now();
      const probe = ackedIdx < nChunks ? ackedIdx : undefined;
      if (probe !== undefined && txOrder[probe]! > 0) {
        stats.retransmits++;
        p.reporter.event({ type: 'retry', offset: offsetOf(probe), reason: 'timeout' });
        queue(probe);
        await flush();
      }
    }
    return stats;
  } finally {
    stats.srttMs = rtt.srtt;
    unlisten();
    unlistenLost();
    p.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Consecutive retransmission timeouts with incoming bytes but no valid frame after which the
 * device is taken for reset (SPEC §4.5, informative host behaviour).
 */
const RESET_STALLS = 2;

/** Largest single write of gathered frames. */
const MAX_BATCH_BYTES = 16 * 1024;

/** Time the bytes currently in flight need on the wire at the link's rate (they queue ahead of any ACK). */
function flightTimeMs(link: DeviceLink, nextNew: number, ackedIdx: number, chunk: number): number {
  const bytes = Math.max(0, nextNew - ackedIdx) * (chunk + 16);
  return (bytes * 10 * 1000) / Math.max(1, link.transport.baud);
}
