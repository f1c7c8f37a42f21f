/**
 * BEGIN (SPEC §4.4): refuse at once what can be refused from the header (state, magic, size, slot
 * size), then decide where to start: the session still in RAM (§6.4), the durable record after a
 * reset (§7: key unwrapped, GCM state rebuilt by re-encrypting the plaintext already in the slot),
 * or a new session at 512 whose key is unwrapped just after BEGIN_ACK (a wrong key is then
 * refused on DATA and END). On any refusal no session exists afterwards and nothing that boots
 * changes.
 */
import { ENC_HEADER_SIZE, APP_PREFIX_SIZE, hasEncryptedMagic, imageId, parseEncryptedHeader, unwrapAesKey } from '../image/index.js';
import { BEGIN_FLAGS, NO_TARGET, STATUS, statusName, type MessageOf } from '../protocol/index.js';
import type { DeviceCore } from './device-core.js';
import { clearRecordQuietly, planFlush, runSessionFlash } from './data-phase.js';
import { GcmStream } from './gcm-stream.js';
import { OtaSession } from './ota-session.js';
import { recordMatches } from './resume-record.js';
import { SlotWriter } from './slot-writer.js';

const REPLAY_PIECE = 64 * 1024;

export async function handleBegin(d: DeviceCore, m: MessageOf<'BEGIN'>): Promise<void> {
  const { opts, apps } = d;
  const refuse = (status: number, detail: number, reason: string, target = NO_TARGET): void => {
    d.session = undefined;
    d.counters.refusals++;
    d.event({ type: 'refused', phase: 'begin', status: statusName(status), reason });
    d.send({ type: 'BEGIN_ACK', status, nextOffset: 0, creditEnd: 0, target, detail });
  };
  d.counters.begins++;
  if (m.chunk % 16 !== 0 || m.chunk < 16 || m.chunk > opts.maxFrame - 10) return refuse(STATUS.BAD_REQUEST, m.chunk, `chunk ${m.chunk}`);
  if (opts.rollback && apps.runningPending()) return refuse(STATUS.BAD_STATE, 1, 'running app is pending verification');
  const target = apps.target();
  if (target === NO_TARGET) return refuse(STATUS.BAD_STATE, 2, 'no update slot (the other slot is set to boot; reboot first)');
  if (!hasEncryptedMagic(m.header)) return refuse(STATUS.NOT_ENCRYPTED, 0, 'bad magic', target);
  const header = parseEncryptedHeader(m.header);
  if (m.total !== ENC_HEADER_SIZE + header.binSize) return refuse(STATUS.BAD_SIZE, ENC_HEADER_SIZE + header.binSize, `total ${m.total}`, target);
  const part = apps.apps[target]!;
  if (header.binSize > part.size) return refuse(STATUS.TOO_LARGE, part.size, `${header.binSize} > ${part.size}`, target);

  const unwrap = async (): Promise<Buffer | undefined> => {
    const unwrapMs = opts.key.scheme === 'rsa' ? opts.timing.unwrapRsaMs : opts.timing.unwrapEciesMs;
    d.announceBusy(unwrapMs);
    await d.cpuWork(unwrapMs);
    try {
      return unwrapAesKey(header, opts.key);
    } catch {
      return undefined;
    }
  };
  const id = imageId(m.header);
  const fresh = (m.flags & BEGIN_FLAGS.FRESH) !== 0;
  const allowDowngrade = (m.flags & BEGIN_FLAGS.ALLOW_DOWNGRADE) !== 0;
  const record = d.records?.read();
  const lowerRecord = (plain: number) => d.records?.append(ENC_HEADER_SIZE + plain, id) ?? [];

  let s: OtaSession;
  let resumed: 'no' | 'ram' | 'flash' = 'no';
  const ram = d.session;
  if (!fresh && ram && ram.imageId.equals(id) && ram.target === target) {
    // The same header in RAM: its key is the one already unwrapped.
    resumed = 'ram';
    s = ram;
    // A batch still in RAM is written first, so the new grid starts with nothing pending.
    if (s.pendingBytes > 0 && !(await runSessionFlash(d, s, planFlush(d, s)))) return;
    s.restart(m.chunk, allowDowngrade);
  } else if (!fresh && record && recordMatches(record, id) && record.offset > ENC_HEADER_SIZE && record.offset <= m.total) {
    // Rebuilding the GCM state needs the key before the start offset can be promised.
    const aesKey = await unwrap();
    if (!aesKey) return refuse(STATUS.WRONG_KEY, 0, 'key unwrap failed', target);
    resumed = 'flash';
    const done = record.offset - ENC_HEADER_SIZE;
    await d.cpuWork((done / 1024) * opts.timing.replayMsPerKiB);
    const gcm = new GcmStream(aesKey, header.iv);
    for (let o = 0; o < done; o += REPLAY_PIECE) gcm.replay(d.flash.view(part.offset + o, Math.min(REPLAY_PIECE, done - o)));
    s = new OtaSession({
      imageId: id, header, total: m.total, chunk: m.chunk, next: record.offset, target, part, gcm, allowDowngrade,
      writer: new SlotWriter({ flash: d.flash, timing: opts.timing.flash, part, imageLen: header.binSize, done, lowerRecord }),
      prefix: d.flash.read(part.offset, Math.min(APP_PREFIX_SIZE, done)),
    });
  } else {
    // A new image, keyed after BEGIN_ACK (below).
    d.session = undefined;
    s = new OtaSession({
      imageId: id, header, total: m.total, chunk: m.chunk, next: ENC_HEADER_SIZE, target, part, allowDowngrade, rawHeader: m.header,
      writer: new SlotWriter({ flash: d.flash, timing: opts.timing.flash, part, imageLen: header.binSize, lowerRecord }),
    });
  }
  if (resumed !== 'no') {
    // The early checks passed when this prefix first arrived; flags or the running app may differ now.
    const r = s.check(d.earlyContext());
    if (r && !r.ok) {
      // The refusal ends the session, so its record goes too (SPEC §7 "Clearing the record").
      await clearRecordQuietly(d);
      return refuse(r.status, r.detail, r.reason, target);
    }
    d.counters.resumes++;
    if (resumed === 'flash') d.counters.resumesFromFlash++;
  }
  d.session = s;
  s.grant(opts.window, opts.iramUart);
  d.event({ type: 'begin', offset: s.next, total: s.total, target: part.label, resumed });
  d.send({ type: 'BEGIN_ACK', status: STATUS.OK, nextOffset: s.next, creditEnd: s.creditEnd, target, detail: 0 });
  if (resumed !== 'no') return;

  // Step 5: the key of a new session is unwrapped now, while the host's first window arrives into
  // the UART buffer (it holds a window), so the RSA time overlaps the transfer. DATA waits.
  const aesKey = await unwrap();
  if (!aesKey) {
    // Nothing was erased or written, and the record (another image's progress) stays.
    d.session = undefined;
    d.refusal = STATUS.WRONG_KEY;
    d.counters.refusals++;
    d.event({ type: 'refused', phase: 'begin', status: statusName(STATUS.WRONG_KEY), reason: 'key unwrap failed' });
    return;
  }
  s.keyed(new GcmStream(aesKey, header.iv));
  // A new image: the old record (if any) no longer describes what the slot will hold.
  if (d.records) await d.flashWork(d.records.clear());
}
