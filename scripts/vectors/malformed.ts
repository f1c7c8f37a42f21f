/**
 * malformed.vec (SPEC §9): inputs a receiver must survive, with the frames it must deliver and the
 * counters it must end with. Expectations come from the reference receiver in ref.ts; every case
 * also states what it is meant to exercise (`want`), and generation fails if the reference
 * receiver disagrees, so a case cannot silently stop testing what its name says.
 */
import { HEADER } from './basic.js';
import { COUNTER_KEYS, ascii, body, cat, cobs, cobsMax, hex, le, prng, receive, wire, type Counters } from './ref.js';

interface Case { name: string; what: string; maxFrame?: number; input: Uint8Array; want: Partial<Counters> }

const ping = (nonce: number): Uint8Array => body(0x09, Uint8Array.of(...le(nonce, 4)));
const BOOT_LOG = ascii(
  'ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n' +
  'configsip: 0, SPIWP:0xee\r\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n' +
  'mode:DIO, clock div:2\r\nload:0x3fff0030,len:7104\r\nentry 0x400805f0\r\n' +
  '\x1b[0;32mI (29) boot: ESP-IDF v5.4.1 2nd stage bootloader\x1b[0m\r\n',
);

/** A DATA body whose last 254 bytes (data + CRC) are non-zero, preceded by a zero. */
function bodyEndingInFullBlock(): Uint8Array {
  const rnd = prng(0x46554c4c);
  for (;;) {
    const b = body(0x04, cat(le(512, 4), rnd(250, { noZero: true })));
    if (b.subarray(b.length - 4).every((x) => x !== 0)) return b;
  }
}

function cases(): Case[] {
  const rnd = prng(0x4d414c46);
  const p1 = ping(1);
  const p2 = ping(2);
  const data = body(0x04, cat(le(512, 4), rnd(300)));
  const dataEnc = cobs(data);
  // A cut at a block boundary leaves valid COBS: the first boundary with >= 6 body bytes before it.
  let boundary = 0;
  for (let decoded = 0; decoded < 7; ) { // the zero after the last block is not decoded
    const code = dataEnc[boundary]!;
    decoded += code;
    boundary += code;
  }
  const firstBlock = dataEnc[0]!;
  const full = bodyEndingInFullBlock();
  const fullEnc = cobs(full);
  const crcBad = (b: Uint8Array, i: number, x: number): Uint8Array => { const c = b.slice(); c[i]! ^= x; return c; };
  const beCrc = (() => { const c = p1.slice(); c.set(c.subarray(6, 10).reverse(), 6); return c; })();
  const z = [0];
  const maxBody = (n: number): Uint8Array => body(0x04, cat(le(512, 4), rnd(n - 10, { noZero: true })));
  const list: Case[] = [
    { name: 'garbage_only', what: 'non-zero noise with no delimiter stays pending', input: rnd(300, { noZero: true }), want: { pending: 300 } },
    { name: 'boot_log_then_frame', what: 'an ESP32 boot log printed before the first frame', input: cat(BOOT_LOG, wire(p1)), want: { frames: 1, noise_bytes: BOOT_LOG.length } },
    { name: 'no_leading_delimiter', what: 'a frame at the very start of the input without its leading 0x00 (the receiver starts as if a delimiter had just passed)', input: cat(cobs(p1), z), want: { frames: 1 } },
    { name: 'back_to_back', what: 'frames sharing delimiters', input: cat(z, cobs(p1), z, cobs(data), z, cobs(p2), z), want: { frames: 3 } },
    { name: 'empty_frames', what: 'runs of delimiters are empty frames: ignored, not counted', input: cat(z, z, z, wire(p1), z, z), want: { frames: 1 } },
    { name: 'boot_log_between_frames', what: 'a reset in the middle: boot log between two frames', input: cat(wire(p1), BOOT_LOG, wire(p2)), want: { frames: 2, noise_bytes: BOOT_LOG.length } },
    { name: 'truncated_mid_block', what: 'a DATA frame cut inside a COBS block, then the next frame', input: cat(z, dataEnc.subarray(0, firstBlock + 10), wire(p1)), want: { frames: 1, bad_cobs: 1 } },
    { name: 'truncated_at_block_boundary', what: 'a DATA frame cut exactly at a COBS block boundary: valid COBS, so the CRC catches it', input: cat(z, dataEnc.subarray(0, boundary), wire(p1)), want: { frames: 1, bad_crc: 1 } },
    { name: 'truncated_at_end', what: 'input ends inside a frame: its bytes stay pending', input: wire(p1).subarray(0, 7), want: { pending: 6 } },
    { name: 'bad_cobs_code_past_end', what: 'code 05 announces 4 bytes, 2 follow', input: cat([0, 5, 0x11, 0x22, 0], wire(p1)), want: { frames: 1, bad_cobs: 1, noise_bytes: 3 } },
    { name: 'too_short_empty_body', what: 'COBS 01 decodes to an empty body', input: cat([0, 1, 0], wire(p1)), want: { frames: 1, too_short: 1 } },
    { name: 'too_short_5', what: 'a 5-byte body (one less than ver type crc32)', input: cat(z, cobs(Uint8Array.of(1, 9, 1, 2, 3)), wire(p1)), want: { frames: 1, too_short: 1 } },
    { name: 'bad_crc_payload_bit', what: 'one payload bit flipped', input: cat(wire(crcBad(p1, 2, 0x04)), wire(p2)), want: { frames: 1, bad_crc: 1 } },
    { name: 'bad_crc_in_crc', what: 'one bit of the CRC flipped', input: cat(wire(crcBad(p1, 9, 0x80)), wire(p2)), want: { frames: 1, bad_crc: 1 } },
    { name: 'bad_crc_type_changed', what: 'the CRC covers ver and type: type 09 -> 0a', input: cat(wire(crcBad(p1, 1, 0x03)), wire(p2)), want: { frames: 1, bad_crc: 1 } },
    { name: 'bad_crc_big_endian', what: 'CRC stored big-endian', input: cat(wire(beCrc), wire(p2)), want: { frames: 1, bad_crc: 1 } },
    { name: 'bad_version_2', what: 'good CRC, ver 2 (a device delivers it and answers HELLO_ACK, SPEC §2.4)', input: cat(wire(body(0x09, Uint8Array.of(1, 0, 0, 0), 2)), wire(p1)), want: { frames: 1, bad_version: 1 } },
    { name: 'bad_version_0', what: 'good CRC, ver 0', input: cat(wire(body(0x01, ascii('OTAU\x01\x00'), 0)), wire(p1)), want: { frames: 1, bad_version: 1 } },
    { name: 'zero_inside_frame', what: 'a byte of the encoding replaced by 00 splits it into two bad candidates', input: (() => { const w = wire(data); w[40] = 0; return cat(w, wire(p1)); })(), want: { frames: 1 } },
    { name: 'noncanonical_full_block', what: 'a body ending in a full 254-byte block, encoded with the optional trailing 01', input: cat(z, fullEnc, [1], z), want: { frames: 1 } },
    { name: 'canonical_full_block', what: 'the same body, canonical encoding', input: cat(z, fullEnc, z), want: { frames: 1 } },
  ];
  for (const mf of [640, 1040, 4112]) {
    const cap = cobsMax(mf);
    list.push(
      { name: `max_body_${mf}`, maxFrame: mf, what: `a body of exactly max_frame = ${mf} bytes is accepted`, input: wire(maxBody(mf)), want: { frames: 1 } },
      { name: `body_over_max_${mf}`, maxFrame: mf, what: `a good-CRC body of max_frame + 1 bytes whose encoding fits COBS_MAX is too long`, input: cat(wire(maxBody(mf + 1)), wire(p1)), want: { frames: 1, too_long: 1 } },
      { name: `run_over_cobs_max_${mf}`, maxFrame: mf, what: `a run of COBS_MAX + 1 = ${cap + 1} non-zero bytes is dropped once, then the next frame arrives`, input: cat(z, rnd(cap + 1, { noZero: true }), wire(p1)), want: { frames: 1, too_long: 1, noise_bytes: cap + 1 } },
      { name: `long_run_${mf}`, maxFrame: mf, what: 'a run three times COBS_MAX (noise without delimiters) is dropped once', input: cat(rnd(3 * cap, { noZero: true }), wire(p1)), want: { frames: 1, too_long: 1, noise_bytes: 3 * cap } },
      { name: `run_of_cobs_max_${mf}`, maxFrame: mf, what: `a run of exactly COBS_MAX = ${cap} bytes is decoded (here: invalid COBS), not too long`, input: cat(z, new Uint8Array(cap).fill(0x80), wire(p1)), want: { frames: 1, bad_cobs: 1 } },
    );
  }
  // Order of checks: a run within COBS_MAX that decodes past max_frame before its COBS turns out
  // bad is bad_cobs (a byte-at-a-time decoder stops storing at max_frame but keeps following the
  // COBS blocks to the delimiter); the same run with valid COBS is too_long.
  const ones = new Uint8Array(642).fill(1);
  list.push(
    { name: 'bad_cobs_past_max_640', maxFrame: 640, what: '642 x 01 (642 zeros) then 05 11 (code past the end): 644 = COBS_MAX bytes: bad_cobs, although more than 640 bytes decode', input: cat(z, ones, [5, 0x11], wire(p1)), want: { frames: 1, bad_cobs: 1 } },
    { name: 'valid_cobs_past_max_640', maxFrame: 640, what: '642 x 01 then 02 11: valid COBS of 644 bytes decoding to 643 > 640: too_long', input: cat(z, ones, [2, 0x11], wire(p1)), want: { frames: 1, too_long: 1 } },
  );
  const burst = rnd(2000);
  list.push({ name: 'random_burst_between_frames', what: '2000 pseudo-random bytes (with zeros) between two frames; neither frame is lost', input: cat(wire(p1), burst, wire(p2)), want: {} });
  return list;
}

const WIRE_LINE = 2048;

export function malformedVec(): string {
  const out = HEADER('malformed.vec', 'inputs with the frames and counters a receiver must end with (SPEC §2.3)');
  for (const c of cases()) {
    const maxFrame = c.maxFrame ?? 4112;
    const { out: got, c: counters } = receive(c.input, maxFrame);
    for (const [k, v] of Object.entries(c.want)) {
      if (counters[k as keyof Counters] !== v) throw new Error(`malformed case ${c.name}: ${k} = ${counters[k as keyof Counters]}, meant ${v}`);
    }
    if (c.name === 'random_burst_between_frames' && !(got[0]?.ver1 && got[got.length - 1]?.ver1)) throw new Error('burst ate a frame');
    out.push(`case ${c.name}`, `# ${c.what}`, `max_frame ${maxFrame}`);
    for (let i = 0; i < c.input.length; i += WIRE_LINE) out.push(`wire ${hex(c.input.subarray(i, i + WIRE_LINE))}`);
    if (c.input.length === 0) out.push('wire -');
    for (const f of got) out.push(`${f.ver1 ? 'frame' : 'badver'} ${hex(f.body)}`);
    out.push(`expect ${COUNTER_KEYS.map((k) => `${k}=${counters[k]}`).join(' ')}`, '');
  }
  return out.join('\n');
}
