/**
 * protocol/vectors/sessions/*.vec (SPEC §9.6): scripted exchanges with a device in the reference
 * configuration. Each h2d line is fed alone; the d2h lines after it are everything the device
 * must send in answer, byte for byte, before it is idle again.
 */
import { readFileSync } from 'node:fs';
import { HEADER } from './basic.js';
import { STATUS } from './layouts.js';
import {
  CONFIG, DataPhase, EMPTY_PART, FACTORY, Image, begin, data, hello, helloAck, msg, raw, shortReply, type HelloState, type Wire,
} from './session-model.js';
import { ascii, body, cat, hex, wire } from './ref.js';

/** BEGIN flags bit1 (§4.4). */
const FRESH = 2;

const VEC = new URL('../../protocol/vectors/', import.meta.url);
const input = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(p, VEC)));

class Script {
  readonly lines: string[];
  constructor(file: string, what: string) {
    this.lines = HEADER(`sessions/${file}`, what).slice(0, 3);
    this.lines.push(
      '# Device: the reference configuration of SPEC §9.6 (key: TEST KEY).',
      'device key keys/rsa3072_private.TEST-KEY.pem',
      'device flash factory',
      ...Object.entries(CONFIG).map(([k, v]) => `device ${k} ${v}`),
    );
  }
  step(title: string): this { this.lines.push('', `# --- ${title}`); return this; }
  send(w: Wire): this { this.lines.push(`# h2d ${w.text}`, `h2d ${hex(w.bytes)}`); return this; }
  expect(...ws: Wire[]): this {
    if (ws.length === 0) this.lines.push('# (no answer)');
    for (const w of ws) this.lines.push(`# d2h ${w.text}`, `d2h ${hex(w.bytes)}`);
    return this;
  }
  /** DATA(offset) through the model: sends it and expects the model's answer. */
  data(m: DataPhase, offset: number, len = Math.min(m.chunk, m.img.total - offset)): this {
    const d = data(m.img, offset, len);
    const { reply, kind } = m.feed(offset, len);
    this.lines.push(`# h2d ${d.text}: ${kind}`, `h2d ${hex(d.bytes)}`);
    return this.expect(reply);
  }
  /** Every chunk from the model's next_offset to the end, in order. */
  rest(m: DataPhase): this {
    while (m.next < m.img.total) this.data(m, m.next);
    return this;
  }
  text(): string { return `${this.lines.join('\n')}\n`; }
}

const GOOD = new Image(input('images/app_esp32.rsa.enc.bin'));
const TAMPERED = new Image(input('images/app_esp32.rsa.enc.tampered_ct.bin'));
const CHUNK = 256;
const after = (parts: Record<number, Record<string, number | string>>): HelloState['parts'] => {
  const base = [FACTORY, EMPTY_PART(0x10, 0x110000), EMPTY_PART(0x11, 0x210000)];
  return base.map((p, i) => ({ ...p, ...parts[i] }));
};
/** ota_0 as it is in flash once the 1.2.3-vector app was written: valid only if it verifies. */
const written = (valid: number) => ({ 1: { valid, secure_version: 1, version: '1.2.3-vector' } });
const result = (status: number, detail = 0) => msg('RESULT', { status, boot: 0xff, secure_version: 0, version: '', detail });
const BOOT_LOG = ascii('ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nentry 0x400805f0\r\n');

function sessions(): Record<string, Script> {
  const s: Record<string, Script> = {};

  s['hello.vec'] = new Script('hello.vec', 'HELLO on the reference factory flash')
    .step('HELLO: identity, limits, the three app slots; the update would go to ota_0').send(hello()).expect(helloAck())
    .step('boot-log text before the HELLO (no 0x00 in it): dropped, the HELLO still answered')
    .send({ bytes: cat(BOOT_LOG, wire(body(0x01, ascii('OTAU\x01\x00')))), text: `${BOOT_LOG.length} bytes of boot log, then HELLO` }).expect(helloAck())
    .step('HELLO again: same answer').send(hello()).expect(helloAck());

  s['hello-version.vec'] = new Script('hello-version.vec', 'frames of a protocol version the device does not speak are answered with HELLO_ACK (§2.4)')
    .step('a HELLO in a version-2 frame').send(raw(0x01, ascii('OTAU\x02\x00'), 'HELLO in a frame with ver=2', 2)).expect(helloAck())
    .step('any other type in a version-2 frame').send(raw(0x09, Uint8Array.of(1, 2, 3, 4), 'PING in a frame with ver=2', 2)).expect(helloAck())
    .step('version 0').send(raw(0x42, new Uint8Array(0), 'type 0x42 in a frame with ver=0', 0)).expect(helloAck());

  s['unsupported.vec'] = new Script('unsupported.vec', 'request types this version does not define: short reply UNSUPPORTED (§4.9)')
    .step('type 0x0B, empty payload').send(raw(0x0b, new Uint8Array(0), 'type 0x0B (not defined)')).expect(shortReply(0x8b, STATUS.UNSUPPORTED!))
    .step('type 0x7F with a payload').send(raw(0x7f, Uint8Array.of(9, 9, 9), 'type 0x7F (not defined)')).expect(shortReply(0xff, STATUS.UNSUPPORTED!))
    .step('a reply type sent to the device is ignored').send(raw(0x89, Uint8Array.of(0, 1, 2, 3, 4), 'PONG sent to the device')).expect()
    .step('still alive').send(msg('PING', { nonce: 7 })).expect(msg('PONG', { status: 0, nonce: 7 }));

  s['bad-request.vec'] = new Script('bad-request.vec', 'payloads shorter than their type needs: short reply BAD_REQUEST (§4.9); a HELLO that does not parse is ignored')
    .step('PING with 2 of its 4 payload bytes').send(raw(0x09, Uint8Array.of(1, 2), 'PING, payload 0102')).expect(shortReply(0x89, STATUS.BAD_REQUEST!))
    .step('BAUD with 3 bytes').send(raw(0x02, Uint8Array.of(0, 0x10, 0x0e), 'BAUD, payload 00100e')).expect(shortReply(0x82, STATUS.BAD_REQUEST!))
    .step('BEGIN with 7 bytes (no header)').send(raw(0x03, Uint8Array.of(0, 0, 1, 0x50, 0x0e, 0, 0), 'BEGIN, 7 payload bytes')).expect(shortReply(0x83, STATUS.BAD_REQUEST!))
    .step('DATA with 3 bytes (no session either: the payload is checked first)').send(raw(0x04, Uint8Array.of(0, 2, 0), 'DATA, payload 000200')).expect(shortReply(0x84, STATUS.BAD_REQUEST!))
    .step('END without its flags byte').send(raw(0x05, new Uint8Array(0), 'END, empty payload')).expect(shortReply(0x85, STATUS.BAD_REQUEST!))
    .step('HELLO with a wrong magic: stray traffic, no answer').send(raw(0x01, ascii('OTAX\x01\x00'), 'HELLO, magic "OTAX"')).expect()
    .step('HELLO too short: no answer').send(raw(0x01, ascii('OTA'), 'HELLO, payload "OTA"')).expect()
    .step('still alive').send(hello()).expect(helloAck());

  const badMagic = input('images/app_esp32.rsa.enc.bad_magic.bin').subarray(0, 512);
  const OTHER_KEY = new Image(input('images/app_esp32.other_key.enc.bin'));
  const otherKey = new DataPhase(OTHER_KEY, CHUNK);
  const wrongKeyAck = msg('ACK', { status: STATUS.WRONG_KEY!, next_offset: 0, credit_end: 0, sack: 0, busy_ms: 0 });
  const huge = GOOD.header.slice();
  Buffer.from(huge.buffer, huge.byteOffset, 512).writeUInt32LE(0x100001, 404);
  const refuse = (status: number, target: number, detail: number) => msg('BEGIN_ACK', { status, next_offset: 0, credit_end: 0, target, detail });
  s['begin-refusals.vec'] = new Script('begin-refusals.vec', 'BEGIN refused (§4.4): at once, or for a wrong key on DATA and END; no session exists afterwards')
    .step('magic 07 88 b6 cf (wrong byte order)').send(begin(badMagic, 3664, CHUNK)).expect(refuse(STATUS.NOT_ENCRYPTED!, 1, 0))
    .step('total 3663, but the header says 512 + 3152: detail = the total the header implies').send(begin(GOOD.header, 3663, CHUNK)).expect(refuse(STATUS.BAD_SIZE!, 1, 3664))
    .step('bin_size 0x100001 > ota_0 (1 MiB): detail = partition size').send(begin(huge, 512 + 0x100001, CHUNK)).expect(refuse(STATUS.TOO_LARGE!, 1, 0x100000))
    .step('an image encrypted for another key: the key is unwrapped after BEGIN_ACK (§4.4 step 5)')
    .send(begin(OTHER_KEY.header, OTHER_KEY.total, CHUNK)).expect(otherKey.beginAck())
    .step('so its DATA and END are refused, each of them, until the next BEGIN').send(data(OTHER_KEY, 512, CHUNK)).expect(wrongKeyAck)
    .send(data(OTHER_KEY, 512 + CHUNK, CHUNK)).expect(wrongKeyAck)
    .send(msg('END', { flags: 0 })).expect(result(STATUS.WRONG_KEY!))
    .step('chunk 250: not a multiple of 16 (detail = chunk, target 0xFF)').send(begin(GOOD.header, GOOD.total, 250)).expect(refuse(STATUS.BAD_REQUEST!, 0xff, 250))
    .step('chunk 1040 > max_frame - 10').send(begin(GOOD.header, GOOD.total, 1040)).expect(refuse(STATUS.BAD_REQUEST!, 0xff, 1040))
    .step('no session: DATA and END say so').send(data(GOOD, 512, CHUNK))
    .expect(msg('ACK', { status: STATUS.NO_SESSION!, next_offset: 0, credit_end: 0, sack: 0, busy_ms: 0 }))
    .send(msg('END', { flags: 0 })).expect(result(STATUS.NO_SESSION!))
    .step('nothing changed').send(hello()).expect(helloAck());

  const m = new DataPhase(GOOD, CHUNK);
  const small = new Script('session-small.vec', 'a complete update of app_esp32.rsa.enc.bin (3664 bytes, 1.2.3-vector) in 256-byte chunks')
    .step('HELLO').send(hello()).expect(helloAck())
    .step('BEGIN: new session at 512, credit min(window, 32 chunks) = 8 chunks').send(begin(GOOD.header, GOOD.total, CHUNK)).expect(m.beginAck())
    .step('in order').data(m, 512).data(m, 768)
    .step('1024 is lost: 1280 and 1536 are held out of order (sack)').data(m, 1280).data(m, 1536)
    .step('1024 arrives: it and the two held chunks are consumed at once').data(m, 1024)
    .step('a duplicate is acknowledged again').data(m, 768)
    .step('the rest, in order; the last chunk is short (80 bytes)');
  small.rest(m)
    .step('END: tag checked, app verified, otadata set: ota_0 boots next').send(msg('END', { flags: 0 }))
    .expect(msg('RESULT', { status: 0, boot: 1, secure_version: 1, version: '1.2.3-vector', detail: 0 }))
    .step('HELLO: factory still runs; ota_0 boots next (state UNDEFINED: rollback off); an update would now go to ota_1; installed (flag 0x40): resume_id = SHA-256 of the whole file, offset = total')
    .send(hello()).expect(helloAck({ boot: 1, target: 2, installed: { digest: GOOD.digest, total: GOOD.total }, parts: after(written(1)) }));
  s['session-small.vec'] = small;

  const md = new DataPhase(GOOD, CHUNK);
  s['data-refusals.vec'] = new Script('data-refusals.vec', 'DATA the device refuses with a short reply BAD_REQUEST while the session goes on (§4.5, §4.9)')
    .step('BEGIN').send(begin(GOOD.header, GOOD.total, CHUNK)).expect(md.beginAck())
    .step('off the slot grid').data(md, 600, CHUNK)
    .step('beyond credit_end (2560)').data(md, 2560)
    .step('wrong length (not the chunk size)').data(md, 512, 128)
    .step('at or beyond total').data(md, 3840, CHUNK)
    .step('the session is intact').data(md, 512)
    .step('ABORT').send(msg('ABORT', {})).expect(msg('ABORT_ACK', { status: 0 }));

  const mr = new DataPhase(GOOD, CHUNK);
  const resumeVec = new Script('resume.vec', 'BEGIN again for the same image (§6.4): it continues at exactly next_offset with the new chunk size; frames of the earlier grid below it are duplicates (§4.5 rule 1)')
    .step('BEGIN, chunk 256').send(begin(GOOD.header, GOOD.total, CHUNK)).expect(mr.beginAck())
    .step('three chunks in order, then 1792 held out of order (1280 is missing)').data(mr, 512).data(mr, 768).data(mr, 1024).data(mr, 1792)
    .step('BEGIN again, chunk 512: next_offset stays 1280 (not a multiple of 512 after 512); the held chunk is forgotten');
  mr.resume(2 * CHUNK);
  resumeVec.send(begin(GOOD.header, GOOD.total, 2 * CHUNK)).expect(mr.beginAck())
    .step('stale frames of the first grid below next_offset: acknowledged again, not refused')
    .data(mr, 768, CHUNK).data(mr, 1024, CHUNK).data(mr, 600, CHUNK)
    .step('stale frames at or above next_offset: refused (1536 is off the new grid; 1792 is on it but 256 bytes long)')
    .data(mr, 1536, CHUNK).data(mr, 1792, CHUNK)
    .step('the rest on the new grid; the last chunk is short (336 bytes)');
  resumeVec.rest(mr)
    .step('END: the whole image, decrypted across the resume, verifies').send(msg('END', { flags: 0 }))
    .expect(msg('RESULT', { status: 0, boot: 1, secure_version: 1, version: '1.2.3-vector', detail: 0 }))
    .step('HELLO: installed (0x40); the file digest spans the resume in RAM (every byte went through once)')
    .send(hello()).expect(helloAck({ boot: 1, target: 2, installed: { digest: GOOD.digest, total: GOOD.total }, parts: after(written(1)) }));
  s['resume.vec'] = resumeVec;

  // Credit beyond sack (§4.5): with 16-byte chunks the 2048-byte window is 128 chunks, credit stops at 64.
  const mw = new DataPhase(GOOD, 16);
  const wide = new Script('wide-credit.vec', 'credit reaches 64 chunks, twice what sack shows (§4.5): a chunk held more than 32 chunks beyond next_offset is reported once next_offset comes within 32 chunks of it')
    .step('BEGIN, chunk 16: credit min(window, 64 chunks) = 1024 bytes, to 1536').send(begin(GOOD.header, GOOD.total, 16)).expect(mw.beginAck())
    .step('1152, 40 chunks out: held, but beyond the 32 bits of sack (sack 0)').data(mw, 1152)
    .step('the last chunk within credit (1520, 63 chunks out): held, not shown either').data(mw, 1520)
    .step('beyond credit (1536): refused').data(mw, 1536)
    .step('528 (bit 0): held and shown').data(mw, 528)
    .step('512: consumed, 528 with it; credit moves to 1568; 1152 is 37 chunks out, still not shown').data(mw, 512);
  for (let o = 544; o < 656; o += 16) wide.data(mw, o);
  wide.step('656 brings next_offset to 672: 1152 is 29 chunks out and shows as bit 29').data(mw, 656)
    .step('BEGIN again, chunk 1024: next_offset stays 672, the held chunks are forgotten (§6.4)');
  mw.resume(1024);
  wide.send(begin(GOOD.header, GOOD.total, 1024)).expect(mw.beginAck())
    .step('the rest in 1 KiB chunks');
  wide.rest(mw)
    .step('END: the image verifies').send(msg('END', { flags: 0 }))
    .expect(msg('RESULT', { status: 0, boot: 1, secure_version: 1, version: '1.2.3-vector', detail: 0 }));
  s['wide-credit.vec'] = wide;

  // Chunk 256 with max_frame 1040: up to 4 chunks (1024 + 10 bytes) in one frame.
  const mm = new DataPhase(GOOD, CHUNK);
  const multi = new Script('multi-chunk.vec', 'DATA frames that carry several chunks (§4.5, HELLO_ACK flag bit5): checked as a whole, then each chunk as if it came alone, one answer per frame')
    .step('BEGIN, chunk 256: credit 8 chunks, to 2560').send(begin(GOOD.header, GOOD.total, CHUNK)).expect(mm.beginAck())
    .step('4 chunks from 2048 would end at 3072, beyond credit_end: refused, nothing changes').data(mm, 2048, 4 * CHUNK)
    .step('4 chunks at 512: all in order, one ACK').data(mm, 512, 4 * CHUNK)
    .step('not a whole number of chunks (300 bytes): refused').data(mm, 1536, 300)
    .step('2816 alone, out of order: held').data(mm, 2816, CHUNK)
    .step('2560 and 2816 in one frame: 2560 is held too, 2816 was already held').data(mm, 2560, 2 * CHUNK)
    .step('1536..2559 in one frame: consumed, and the two held chunks after them').data(mm, 1536, 4 * CHUNK)
    .step('a multi-chunk frame below next_offset: a duplicate as a whole (rule 1)').data(mm, 2560, 2 * CHUNK)
    .step('5 chunks (1280 + 10 bytes > max_frame): the decoder drops the frame, no answer')
    .send(data(GOOD, 3072, 5 * CHUNK)).expect()
    .step('3328 alone: held')
    .data(mm, 3328, CHUNK)
    .step('the last frame: 3072, 3328 and the short 80-byte chunk (592 bytes); 3072 completes a run that takes 3328 from the held ones, so the frame\'s own 3328 is a duplicate')
    .data(mm, 3072, GOOD.total - 3072)
    .step('END').send(msg('END', { flags: 0 }))
    .expect(msg('RESULT', { status: 0, boot: 1, secure_version: 1, version: '1.2.3-vector', detail: 0 }));
  s['multi-chunk.vec'] = multi;

  const mt = new DataPhase(TAMPERED, CHUNK);
  const tampered = new Script('tampered.vec', 'app_esp32.rsa.enc.tampered_ct.bin (ciphertext byte 100 flipped): AUTH_FAILED at END, nothing boots differently')
    .step('HELLO').send(hello()).expect(helloAck())
    .step('BEGIN (the header is intact: key unwrap succeeds)').send(begin(TAMPERED.header, TAMPERED.total, CHUNK)).expect(mt.beginAck())
    .step('all data in order (the early checks pass: byte 100 is in the project name)');
  tampered.rest(mt)
    .step('END: the GCM tag does not match').send(msg('END', { flags: 0 })).expect(result(STATUS.AUTH_FAILED!))
    .step('HELLO: boot unchanged (factory); ota_0 holds the written plaintext, which does not verify')
    .send(hello()).expect(helloAck({ parts: after(written(0)) }));
  s['tampered.vec'] = tampered;

  const mi = new DataPhase(GOOD, CHUNK);
  const resume = { id: GOOD.id, offset: 512, total: GOOD.total };
  const incomplete = new Script('incomplete.vec', 'END before all data: INCOMPLETE with detail = next_offset, and the session stays')
    .step('BEGIN').send(begin(GOOD.header, GOOD.total, CHUNK)).expect(mi.beginAck())
    .step('HELLO during the session: resumable (flag 0x08), image id = SHA-256 of the header, offset, total')
    .send(hello()).expect(helloAck({ resume }))
    .step('three chunks').data(mi, 512).data(mi, 768).data(mi, 1024)
    .step('END too early').send(msg('END', { flags: 0 })).expect(result(STATUS.INCOMPLETE!, 1280))
    .step('the session goes on');
  incomplete.rest(mi).step('END').send(msg('END', { flags: 0 }))
    .expect(msg('RESULT', { status: 0, boot: 1, secure_version: 1, version: '1.2.3-vector', detail: 0 }));
  s['incomplete.vec'] = incomplete;

  const mp = new DataPhase(GOOD, CHUNK);
  const again = new DataPhase(GOOD, CHUNK);
  const repeats = new Script('repeats.vec', 'BEGIN and END sent again by a host that heard no answer (§4.4 Repeats, §4.7): a repeat changes nothing')
    .step('BEGIN with FRESH').send(begin(GOOD.header, GOOD.total, CHUNK, FRESH)).expect(mp.beginAck())
    .step('the same BEGIN again (its answer was lost): the session starts again at 512, the same answer')
    .send(begin(GOOD.header, GOOD.total, CHUNK, FRESH)).expect(mp.beginAck())
    .step('BEGIN without FRESH again: the session in RAM is resumed where it is, at 512')
    .send(begin(GOOD.header, GOOD.total, CHUNK)).expect(mp.beginAck())
    .step('the whole image, in order');
  repeats.rest(mp)
    .step('END').send(msg('END', { flags: 0 }))
    .expect(msg('RESULT', { status: 0, boot: 1, secure_version: 1, version: '1.2.3-vector', detail: 0 }))
    .step('END again (its RESULT was lost): no session any more, nothing else changes').send(msg('END', { flags: 0 })).expect(result(STATUS.NO_SESSION!))
    .step('HELLO: ota_0 is set to boot, which is what the host checks after NO_SESSION to a repeated END; installed (0x40): this image')
    .send(hello()).expect(helloAck({ boot: 1, target: 2, installed: { digest: GOOD.digest, total: GOOD.total }, parts: after(written(1)) }))
    .step('BEGIN for the same image anyway (a host that does not read bit6): a new session, to ota_1; the installed image is forgotten')
    .send(begin(GOOD.header, GOOD.total, CHUNK)).expect(again.beginAck(2))
    .step('ABORT').send(msg('ABORT', {})).expect(msg('ABORT_ACK', { status: 0 }))
    .step('HELLO: ota_0 still boots, but neither a session nor the installed image is reported')
    .send(hello()).expect(helloAck({ boot: 1, target: 2, parts: after(written(1)) }));
  s['repeats.vec'] = repeats;

  const ma = new DataPhase(GOOD, CHUNK);
  s['abort.vec'] = new Script('abort.vec', 'ABORT drops the session; the running app and otadata are untouched')
    .step('BEGIN and two chunks').send(begin(GOOD.header, GOOD.total, CHUNK)).expect(ma.beginAck()).data(ma, 512).data(ma, 768)
    .step('ABORT').send(msg('ABORT', {})).expect(msg('ABORT_ACK', { status: 0 }))
    .step('no session any more').send(data(GOOD, 1024, CHUNK))
    .expect(msg('ACK', { status: STATUS.NO_SESSION!, next_offset: 0, credit_end: 0, sack: 0, busy_ms: 0 }))
    .send(msg('END', { flags: 0 })).expect(result(STATUS.NO_SESSION!))
    .step('ABORT without a session is answered OK too').send(msg('ABORT', {})).expect(msg('ABORT_ACK', { status: 0 }))
    .step('HELLO: not resumable, factory boots; ota_0 holds 512 plaintext bytes (a header, no valid app)')
    .send(hello()).expect(helloAck({ parts: after(written(0)) }));

  s['ping.vec'] = new Script('ping.vec', 'PING/PONG and BAUD')
    .step('PING').send(msg('PING', { nonce: 0x04030201 })).expect(msg('PONG', { status: 0, nonce: 0x04030201 }))
    .step('a longer payload: the extra bytes are ignored (§4)').send(raw(0x09, Uint8Array.of(0xef, 0xbe, 0xad, 0xde, 1, 2, 3), 'PING nonce=0xdeadbeef + 3 extra bytes'))
    .expect(msg('PONG', { status: 0, nonce: 0xdeadbeef }))
    .step('BAUD above max_baud: refused, nothing changes').send(msg('BAUD', { baud: 3000000 })).expect(msg('BAUD_ACK', { status: STATUS.UNSUPPORTED!, baud: 3000000 }))
    .step('BAUD 921600: accepted (answered at the old rate, then the device switches)').send(msg('BAUD', { baud: 921600 })).expect(msg('BAUD_ACK', { status: 0, baud: 921600 }))
    .step('PING at the new rate confirms the switch').send(msg('PING', { nonce: 1 })).expect(msg('PONG', { status: 0, nonce: 1 }));
  return s;
}

export function sessionVecs(): Record<string, string> {
  return Object.fromEntries(Object.entries(sessions()).map(([name, sc]) => [`sessions/${name}`, sc.text()]));
}
