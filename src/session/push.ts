/**
 * push(): one complete update of one device. Validates the file before touching the port, finds
 * the device, switches baud, begins (the device unwraps the key and may resume), streams the data,
 * ends (tag + image verification on the device, then the boot switch) and reports the result.
 *
 * Recovery: if the link drops (USB re-enumeration), the device resets mid-transfer (it answers
 * NO_SESSION), or it goes quiet, push() reopens the port within the reconnect window, says HELLO
 * again and BEGINs the same image, which the device resumes from its acknowledged (or durable)
 * offset. Ctrl-C (the AbortSignal) sends ABORT so the device drops the session; the running
 * firmware is never touched by any failure.
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { OtaError } from '../errors.js';
import { chipName, imageId, parseEncryptedHeader, checkEncryptedFileSize, ENC_HEADER_SIZE } from '../image/index.js';
import { BEGIN_FLAGS, BEGIN_TIMEOUT_MS, CONNECT_TIMEOUT_MS, DEFAULT_CHUNK, HELLO_FLAGS, NO_TARGET, STATUS, type Message } from '../protocol/index.js';
import { silentReporter, type Reporter } from '../reporter.js';
import type { Transport } from '../transport/transport.js';
import { requestReboot } from './device-commands.js';
import { DeviceLink } from './device-link.js';
import { switchBaud } from './baud-switch.js';
import { connectAtRates, type HelloAck } from './handshake.js';
import { describeDevice, type DeviceSummary, slotLabel, slotSummary, type SlotSummary } from './device-summary.js';
import { EarlyEnd } from './early-end.js';
import { finishSession, type FinishResult } from './finish.js';
import { deviceStatusError, noTargetError, SessionLostError, type StatusContext } from './status-errors.js';
import { newUploadStats, uploadData, type UploadStats } from './uploader.js';
import { reopenWithin } from './reconnect.js';
import { repeatRequest } from './reply-timeout.js';
import { smallerChunkAdvice } from './chunk-advice.js';
import { withResumeHint } from './resume-hint.js';

export interface PushOptions {
  /** The esp_encrypted_img file, as bytes. */
  image: Uint8Array;
  imageName?: string;
  /** Opens the link (a serial port, or an in-memory link to a simulated device). Called again to reconnect. */
  open: () => Promise<Transport>;
  portLabel?: string;
  /** Line rate for the data phase; switched to after the handshake when it differs. */
  baud?: number;
  allowDowngrade?: boolean;
  reboot?: boolean;
  /** Start from zero even if the device holds a resumable session for this image. */
  fresh?: boolean;
  chunk?: number;
  /** Caps bytes in flight (bench: one chunk = stop-and-wait). */
  maxInFlight?: number;
  /**
   * Most chunks per DATA frame (SPEC §4.5). Default: as many as the device's max_frame holds, when
   * it takes multi-chunk frames (HELLO_ACK bit5); 1 = one chunk per frame.
   */
  chunksPerFrame?: number;
  /**
   * Send BEGIN or END again when the device stays silent for longer than SPEC §6.3 allows
   * (reply-timeout.ts; default true). False waits out BEGIN_TIMEOUT / END_TIMEOUT before
   * reconnecting, as before: the side-by-side in scripts/bench/loss-sweep.ts.
   */
  repeatRequests?: boolean;
  connectTimeoutMs?: number;
  /** How long to wait for a vanished port to come back (USB re-enumeration after a reset). */
  reconnectTimeoutMs?: number;
  /** How many times a lost session may be picked up again before giving up. */
  maxResyncs?: number;
  clock?: Clock;
  reporter?: Reporter;
  signal?: AbortSignal;
}

export interface PushResult {
  port?: string;
  device: DeviceSummary;
  before: { running: SlotSummary; boot: SlotSummary };
  after: { boot: SlotSummary; rebooting: boolean };
  imageId: string;
  bytes: number;
  /** Bytes actually streamed in this run (less than `bytes` after a resume). */
  bytesSent: number;
  seconds: number;
  bytesPerSecond: number;
  baud: number;
  resumeOffset: number;
  /** The device had this image installed already (since its last reset) and nothing was sent. */
  alreadyInstalled?: boolean;
  resyncs: number;
  retries: number;
  timeouts: number;
  crcErrors: number;
  /** DATA chunk size of the (last) session. */
  chunk: number;
  /** Smoothed round trip of the data phase (ms; 0 when nothing was measured). */
  roundTripMs: number;
  /** A smaller chunk to use on this line next time (chunk-advice.ts), when the resends call for one. */
  suggestedChunk?: number;
  counters: Record<string, number>;
}

export async function push(opts: PushOptions): Promise<PushResult> {
  const clock = opts.clock ?? systemClock;
  const reporter = opts.reporter ?? silentReporter;
  const header = validateImage(opts.image, opts.imageName);
  const id = imageId(opts.image.subarray(0, ENC_HEADER_SIZE));
  const ctx: StatusContext = { imageName: opts.imageName, total: opts.image.length };
  const t0 = clock.now();
  const totals = { retries: 0, timeouts: 0, crc: 0, resyncs: 0, sent: 0 };
  let firstHello: HelloAck | undefined;
  let resumeOffset = 0;
  let transport = await opts.open();
  // The rate the device listens at after a reset; a resync may have to go back to it.
  const initialBaud = transport.baud;
  let baud = transport.baud;
  let baudWorks = true;
  /** The slot an END was sent for (set before END goes out). */
  let endSentTo: number | undefined;
  /** Highest offset the device acknowledged (or resumed at): what a failure message reports. */
  let delivered = 0;
  /** The chunk size and data-phase round trip of the last session (for the result). */
  let used = { chunk: 0, roundTripMs: 0 };
  /** The device had installed this very image already (HELLO_ACK bit6): nothing was sent. */
  let alreadyInstalled = false;

  try {
    for (let attempt = 0; ; attempt++) {
      const link = new DeviceLink(transport, clock);
      const stats = newUploadStats();
      try {
        // A device keeps the rate a host switched it to until it resets (SPEC §4.3), and a port
        // opened again starts at the initial rate: look for it at both.
        const hello = attempt === 0
          ? await connectAtRates(link, [initialBaud, opts.baud ?? initialBaud], opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, { clock, signal: opts.signal, portLabel: opts.portLabel })
          : await connectAtRates(link, [baud, initialBaud], RECONNECT_HELLO_MS * (baud === initialBaud ? 1 : 2), { clock, signal: opts.signal, portLabel: opts.portLabel });
        if (!firstHello) {
          firstHello = hello;
          reporter.event({ type: 'hello', device: describeDevice(hello) });
        }
        ctx.runningVersion = hello.runVersion;
        ctx.targetSize = hello.parts[hello.target]?.size;
        ctx.chipName = chipName(hello.chipId);
        ctx.chipRev = hello.chipRev;
        ctx.efuseSecureVersion = hello.efuseSecureVersion;
        baud = transport.baud;
        // END went out before the session was lost: the device may have switched otadata and
        // reset before its RESULT arrived. Then the update is in; BEGIN would call it a downgrade.
        let result = endSentTo !== undefined ? installedBy(hello, endSentTo) : undefined;
        // A host that died after END (or lost the RESULT with the link) runs again: the device says
        // the image it installed since its last reset is this one (SPEC §4.2 bit6). Nothing to send.
        if (!result && endSentTo === undefined && !opts.fresh && holdsInstalled(hello, opts.image)) {
          result = installedBy(hello, hello.boot);
          if (result) {
            alreadyInstalled = true;
            reporter.event({ type: 'log', level: 'info', message: `the device already has this image: ${result.version} in ${result.bootLabel}, set to boot next (nothing to send; --fresh writes it again)` });
            if (opts.reboot) await requestReboot(link, opts.signal);
          }
        }
        if (!result) {
          if (hello.target === NO_TARGET) {
            throw noTargetError((hello.flags & HELLO_FLAGS.PENDING_VERIFY) !== 0, slotSummary(hello, hello.boot).slot, slotSummary(hello, hello.running).slot);
          }
          if (opts.baud && opts.baud !== transport.baud && baudWorks) {
            baud = await switchBaud(link, opts.baud, hello.maxBaud, { clock, reporter, signal: opts.signal });
            baudWorks = baud === opts.baud;
          }
          const chunk = pickChunk(opts.chunk, hello);
          const flags = (opts.allowDowngrade ? BEGIN_FLAGS.ALLOW_DOWNGRADE : 0) | (opts.fresh && attempt === 0 ? BEGIN_FLAGS.FRESH : 0);
          const began = await beginSession(link, { type: 'BEGIN', flags, chunk, total: opts.image.length, header: header.raw }, { clock, reporter, totals, repeat: opts.repeatRequests ?? true, signal: opts.signal });
          if (began.status !== STATUS.OK) throw deviceStatusError(began.status, ctx, began.detail);
          if (attempt === 0) resumeOffset = began.nextOffset > ENC_HEADER_SIZE ? began.nextOffset : 0;
          delivered = Math.max(delivered, began.nextOffset);
          const where = { offset: began.nextOffset, total: opts.image.length, target: began.target };
          reporter.event(began.nextOffset > ENC_HEADER_SIZE ? { type: 'resume', ...where } : { type: 'begin', ...where });
          totals.sent += opts.image.length - began.nextOffset;
          // END right after the last DATA frame when the device cannot lose it to a flash blackout.
          const early = (hello.flags & HELLO_FLAGS.IRAM_ISR) !== 0 ? new EarlyEnd(link, !!opts.reboot) : undefined;
          const sendEarlyEnd = early && (async (): Promise<void> => {
            endSentTo = began.target;
            await early.send();
          });
          try {
            await uploadData(link, {
              image: opts.image, start: began.nextOffset, chunk, creditEnd: began.creditEnd, maxInFlight: opts.maxInFlight,
              chunksPerFrame: frameChunks(opts.chunksPerFrame, hello, chunk),
              clock, reporter, signal: opts.signal, statusContext: ctx, stats, onAllSent: sendEarlyEnd,
              onEndUnanswered: () => early?.answerLost(),
              onProgress: (acked) => {
                delivered = Math.max(delivered, acked);
                reporter.event({ type: 'progress', acked, total: opts.image.length, elapsedMs: clock.now() - t0 });
              },
            });
            used = { chunk, roundTripMs: stats.srttMs };
            endSentTo = began.target;
            result = await finishSession(link, {
              clock, reporter, signal: opts.signal, reboot: !!opts.reboot, ctx, target: began.target, total: opts.image.length,
              slotName: (i) => slotSummary(hello, i).slot, early,
              ...(opts.repeatRequests !== false && { srttMs: stats.srttMs, onRepeat: () => { totals.retries++; } }),
            });
          } finally {
            early?.dispose();
          }
        }
        // Leave the device at the rate it listens at after a reset, where `info` and the next
        // push look for it first (it keeps a switched rate until it resets, SPEC §4.3).
        if (!opts.reboot && transport.baud !== initialBaud) await restoreRate(link, initialBaud, hello.maxBaud, clock, reporter, opts.signal);
        addCounters(totals, link, stats);
        const seconds = (clock.now() - t0) / 1000;
        const out: PushResult = {
          port: opts.portLabel,
          device: describeDevice(firstHello),
          before: { running: slotSummary(firstHello, firstHello.running), boot: slotSummary(firstHello, firstHello.boot) },
          after: { boot: { slot: result.bootLabel, version: result.version, secureVersion: result.secureVersion }, rebooting: !!opts.reboot },
          imageId: Buffer.from(id).toString('hex'),
          bytes: opts.image.length,
          bytesSent: totals.sent,
          seconds,
          bytesPerSecond: seconds > 0 ? totals.sent / seconds : 0,
          baud,
          resumeOffset,
          ...(alreadyInstalled && { alreadyInstalled }),
          resyncs: totals.resyncs,
          retries: totals.retries,
          timeouts: totals.timeouts,
          crcErrors: totals.crc,
          chunk: used.chunk,
          roundTripMs: Math.round(used.roundTripMs * 10) / 10,
          counters: { ...link.decoder.counters, ...link.counters },
        };
        const suggestedChunk = smallerChunkAdvice({ chunk: used.chunk, retries: totals.retries, bytesSent: totals.sent, baud, roundTripMs: used.roundTripMs, window: firstHello.window });
        if (suggestedChunk !== undefined) out.suggestedChunk = suggestedChunk;
        reporter.event({ type: 'result', ok: true, ...out });
        return out;
      } catch (e) {
        addCounters(totals, link, stats);
        if (!isRecoverable(e) || attempt >= (opts.maxResyncs ?? 5) || opts.signal?.aborted) throw withTotals(e, totals);
        totals.resyncs++;
        reporter.event({ type: 'resync', reason: (e as Error).message, attempt: attempt + 1 });
        if (!transport.isOpen || (e instanceof OtaError && e.disconnected)) {
          await transport.close().catch(() => {});
          transport = await reopenWithin(opts.open, opts.reconnectTimeoutMs ?? 10_000, clock, opts.signal, opts.portLabel);
        }
      }
    }
  } catch (e) {
    if (e instanceof OtaError && e.code === 'ABORTED') {
      // The ABORT queues behind the data already in flight (up to a window): allow for draining it.
      const inFlight = (firstHello?.window ?? 0) + (firstHello?.maxFrame ?? 0);
      await sendAbort(transport, clock, 500 + (inFlight * 10 * 1000) / Math.max(1, transport.baud));
    }
    throw withResumeHint(e, { delivered, total: opts.image.length, endSent: endSentTo !== undefined });
  } finally {
    await transport.close().catch(() => {});
  }
}

type Totals = { retries: number; timeouts: number; crc: number; resyncs: number; sent: number };

function addCounters(totals: Totals, link: DeviceLink, s: UploadStats): void {
  totals.crc += link.decoder.counters.badCrc;
  totals.retries += s.retransmits;
  totals.timeouts += s.timeouts;
}

/** Attaches what the failed push did (retries, reconnects) to its error, for reports. */
function withTotals(e: unknown, totals: Totals): unknown {
  if (e instanceof OtaError) Object.assign(e.details, { retries: totals.retries, timeouts: totals.timeouts, crcErrors: totals.crc, resyncs: totals.resyncs });
  return e;
}

/**
 * The update is in if the slot END was sent for now boots (or runs) and verifies: an update slot is
 * never the one set to boot or running (SPEC §6.1), so only that END can have made it so.
 */
function installedBy(hello: HelloAck, target: number): FinishResult | undefined {
  const p = hello.parts[target];
  if (!p || !p.valid || (hello.boot !== target && hello.running !== target)) return undefined;
  return { bootLabel: slotLabel(p.subtype), version: p.version, secureVersion: p.secureVersion };
}

/**
 * HELLO_ACK bit6 with this file's length and SHA-256 (of the whole file, not only the header: a
 * damaged copy must not pass for the installed image): the device installed it since it last reset.
 */
function holdsInstalled(hello: HelloAck, image: Uint8Array): boolean {
  if ((hello.flags & HELLO_FLAGS.INSTALLED) === 0 || hello.resumeTotal !== image.length) return false;
  return createHash('sha256').update(image).digest().equals(Buffer.from(hello.resumeId));
}

/**
 * Tries to switch back a few times: one lost BAUD or BAUD_ACK leaves both ends at the fast rate
 * (SPEC §4.3: each side falls back to the rate it had), where `info` and tools that only know the
 * reset rate will not find the device until it resets. On a noisy line that is one push in fifty
 * (the fault matrix's "ber 1e-4" row: push OK, then `info` NO_DEVICE). A device still at the fast
 * rate afterwards gets a warning; the update itself is in either way.
 */
async function restoreRate(link: DeviceLink, rate: number, maxBaud: number, clock: Clock, reporter: Reporter, signal?: AbortSignal): Promise<void> {
  const fast = link.transport.baud;
  for (let attempt = 0; attempt < RESTORE_ATTEMPTS && link.transport.baud !== rate; attempt++) {
    try {
      await switchBaud(link, rate, maxBaud, { clock, reporter: silentReporter, signal });
    } catch {
      break; // the device stopped answering: nothing more to try
    }
  }
  if (link.transport.baud !== rate) {
    reporter.event({
      type: 'log', level: 'warn',
      message: `the device did not switch back to ${rate} baud and stays at ${fast} until it resets: reset it, or give --initial-baud ${fast} to tools that look for it`,
    });
  }
}

const RESTORE_ATTEMPTS = 3;

/** HELLO time after a lost session, per rate tried. */
const RECONNECT_HELLO_MS = 3000;
/** Checks the file before any byte goes to the device: clear local errors beat device refusals. */
function validateImage(image: Uint8Array, name?: string) {
  const header = parseEncryptedHeader(image);
  checkEncryptedFileSize(image.length, header);
  if (header.binSize === 0) throw new OtaError('NOT_ENCRYPTED_IMAGE', `${name ?? 'the image'} holds no data (bin_size 0)`);
  return header;
}

/**
 * The chunk when the caller names none, for a device that takes several chunks per frame (HELLO_ACK
 * bit5). A clean line still gets frames as large as max_frame (FrameSizer), and a noisy one loses
 * 512 bytes per flipped bit instead of 1 KiB, while credit of up to 64 chunks (SPEC §4.5) keeps the
 * window. loss-sweep.ts, BER 1e-5, 40 seeds, 512 vs 1024: 0.881 vs 0.851 of the line at 3 Mbaud +
 * 16 ms, 0.923 vs 0.896 at 921600 + 16 ms, 0.926 vs 0.900 at 3 Mbaud + 1 ms; clean lines the same.
 * Without bit5 every frame is one chunk, and DEFAULT_CHUNK (1 KiB) keeps framing at 1.6 %.
 */
export const MULTI_CHUNK_DEFAULT = 512;

function pickChunk(requested: number | undefined, hello: { flags: number; maxFrame: number }): number {
  const cap = Math.floor((hello.maxFrame - 10) / 16) * 16;
  const want = requested ?? ((hello.flags & HELLO_FLAGS.MULTI_CHUNK) !== 0 ? MULTI_CHUNK_DEFAULT : DEFAULT_CHUNK);
  if (want % 16 !== 0 || want < 16) throw new OtaError('USAGE', `chunk size ${want} must be a multiple of 16 and at least 16`);
  return Math.min(want, cap);
}

/** Chunks one DATA frame may carry: what max_frame holds if the device takes several (bit5), capped by the caller. */
function frameChunks(requested: number | undefined, hello: { flags: number; maxFrame: number }, chunk: number): number {
  if ((hello.flags & HELLO_FLAGS.MULTI_CHUNK) === 0) return 1;
  const fits = Math.max(1, Math.floor((hello.maxFrame - 10) / chunk));
  return Math.max(1, Math.min(fits, requested ?? fits));
}

async function beginSession(link: DeviceLink, begin: Message, o: { clock: Clock; reporter: Reporter; totals: Totals; repeat: boolean; signal?: AbortSignal }) {
  const { clock, signal } = o;
  // A device may announce a long key unwrap or erase with ACK(BUSY) before its BEGIN_ACK.
  let busy = 0;
  const off = link.listen((m) => { if (m.type === 'ACK' && m.status === STATUS.BUSY) busy += m.busyMs; });
  // A lost BEGIN or BEGIN_ACK is sent again after a short silence, not after BEGIN_TIMEOUT.
  const stopRepeats = !o.repeat ? () => {} : repeatRequest(link, begin, {
    clock,
    rttMs: link.lastRttMs,
    onRepeat: () => {
      o.totals.retries++;
      o.reporter.event({ type: 'retry', offset: 0, reason: 'unanswered', request: 'BEGIN' });
    },
  });
  try {
    for (let first = true; ; first = false) {
      const used = busy;
      try {
        return first
          ? await link.request(begin, 'BEGIN_ACK', BEGIN_TIMEOUT_MS + used, { signal })
          : await link.wait('BEGIN_ACK', BEGIN_TIMEOUT_MS + used, { signal });
      } catch (e) {
        if (!(e instanceof OtaError && e.code === 'TIMEOUT' && busy > used)) throw e;
      }
    }
  } finally {
    stopRepeats();
    off();
  }
}

function isRecoverable(e: unknown): boolean {
  if (e instanceof SessionLostError) return true;
  if (!(e instanceof OtaError)) return false;
  return e.code === 'LINK_LOST' || e.code === 'TIMEOUT';
}

async function sendAbort(transport: Transport, clock: Clock, waitMs: number): Promise<void> {
  if (!transport.isOpen) return;
  const link = new DeviceLink(transport, clock);
  try {
    await link.request({ type: 'ABORT' }, 'ABORT_ACK', waitMs);
  } catch {
    // Best effort: the device also drops an idle session on the next BEGIN.
  }
}

