/**
 * The device side of SPEC §2-§4 frame by frame (no link): HELLO_ACK contents, version and type
 * handling, malformed payloads, PING, BAUD with its fallback, and every BEGIN refusal.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createFlashImage, SimDevice, type SimDeviceOptions } from '../../src/device-sim/index.js';
import {
  BEGIN_FLAGS, HELLO_FLAGS, MSG, NO_TARGET, OTA_STATE, STATUS, encodeFrame, encodeMessage, type MessageOf,
} from '../../src/protocol/index.js';
import { Probe, beginMsg, fixture, testKey } from './helpers.js';

const HELLO = { type: 'HELLO', hostProto: 1, flags: 0 } as const;

function device(o: Partial<SimDeviceOptions> = {}) {
  const clock = new FakeClock();
  const flash = o.flash ?? createFlashImage();
  const dev = new SimDevice({ flash, key: testKey, clock, ...o });
  return { dev, flash, clock, probe: new Probe(dev) };
}

describe('HELLO_ACK', () => {
  it('describes identity, limits, partitions, running/boot/target and no resumable session', async () => {
    const { probe } = device({ chipRev: 301, window: 8192, maxBaud: 921600, maxFrame: 2048 });
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h).toMatchObject({
      type: 'HELLO_ACK', status: STATUS.OK, proto: 1, maxFrame: 2048, window: 8192, maxBaud: 921600, chipId: 0, chipRev: 301,
      running: 0, boot: 0, target: 1, runVersion: '1.0.0-factory', runProject: 'ota-uart-sim-factory', runSecureVersion: 0,
      resumeOffset: 0, resumeTotal: 0,
    });
    expect(h!.flags & HELLO_FLAGS.RESUMABLE).toBe(0);
    expect(h!.flags & HELLO_FLAGS.IRAM_ISR).toBe(HELLO_FLAGS.IRAM_ISR);
    expect(h!.parts.map((p) => [p.subtype, p.state, p.valid, p.offset, p.size, p.version])).toEqual([
      [0x00, OTA_STATE.UNDEFINED, true, 0x10000, 0x100000, '1.0.0-factory'],
      [0x10, OTA_STATE.UNDEFINED, false, 0x110000, 0x100000, ''],
      [0x11, OTA_STATE.UNDEFINED, false, 0x210000, 0x100000, ''],
    ]);
  });

  it('sets the rollback, anti-rollback flags and reports the eFuse secure_version', async () => {
    const { probe } = device({ rollback: true, antiRollback: true, efuseSecureVersion: 0, iramUart: false });
    const [h] = (await probe.send(HELLO)) as MessageOf<'HELLO_ACK'>[];
    expect(h!.flags).toBe(HELLO_FLAGS.ROLLBACK | HELLO_FLAGS.ANTI_ROLLBACK | HELLO_FLAGS.MULTI_CHUNK);
    expect(h!.efuseSecureVersion).toBe(0);
  });

  it('stays silent when anti-rollback leaves no bootable app (like a real ESP32, no receiver runs)', async () => {
    const { probe, dev } = device({ antiRollback: true, efuseSecureVersion: 3 });
    expect(await probe.send(HELLO)).toEqual([]);
    expect(dev.stats.bytesLostInReset).toBeGreaterThan(0);
  });

  it('answers a frame of an unknown protocol version with HELLO_ACK (SPEC §2.4)', async () => {
    const { probe, dev } = device();
    const out = await probe.sendRaw(encodeFrame(MSG.PING, Uint8Array.of(1, 2, 3, 4), 7));
    expect(out.map((m) => m.type)).toEqual(['HELLO_ACK']);
    expect(dev.stats.otherVersions).toBe(1);
  });

  it('ignores a HELLO with the wrong magic (stray traffic)', async () => {
    const { probe } = device();
    expect(await probe.sendRaw(encodeFrame(MSG.HELLO, new TextEncoder().encode('XXXX\x01\x00')))).toEqual([]);
  });
});

describe('requests it cannot serve', () => {
  it('answers an unknown request type with UNSUPPORTED in the reply type', async () => {
    const { probe, dev } = device();
    const out = await probe.sendRaw(encodeFrame(0x33, new Uint8Array(3)));
    expect(out).toEqual([{ type: 'REPLY', code: 0xb3, status: STATUS.UNSUPPORTED }]);
    expect(dev.stats.unsupported).toBe(1);
  });

  it('answers a payload too short for its type with a short reply BAD_REQUEST (SPEC §4.9)', async () => {
    const { probe, dev } = device();
    const out = await probe.sendRaw(encodeFrame(MSG.BEGIN, new Uint8Array(10)));
    expect(out).toEqual([{ type: 'REPLY', code: MSG.BEGIN_ACK, status: STATUS.BAD_REQUEST }]);
    const ping = await probe.sendRaw(encodeFrame(MSG.PING, new Uint8Array(2)));
    expect(ping).toEqual([{ type: 'REPLY', code: MSG.PONG, status: STATUS.BAD_REQUEST }]);
    expect(dev.stats.badPayload).toBe(2);
    // The wire form: type | 0x80 and exactly one payload byte.
    const raw: Uint8Array[] = [];
    dev.onOutput((b) => raw.push(b));
    await probe.sendRaw(encodeFrame(MSG.END, new Uint8Array(0)));
    expect(Buffer.concat(raw).equals(Buffer.from(encodeFrame(MSG.RESULT, Uint8Array.of(STATUS.BAD_REQUEST))))).toBe(true);
  });

  it('ignores frames of reply types', async () => {
    const { probe, dev } = device();
    expect(await probe.sendRaw(encodeFrame(MSG.ACK, new Uint8Array(15)))).toEqual([]);
    expect(dev.stats.ignoredReplies).toBe(1);
  });

  it('drops corrupted frames and counts them, then still answers the next good one', async () => {
    const { probe, dev } = device();
    const wire = encodeMessage({ type: 'PING', nonce: 7 });
    const bad = wire.slice();
    bad[4]! ^= 0x10;
    const out = await probe.sendRaw(Uint8Array.from([...new TextEncoder().encode('boot log text'), ...bad, ...wire]));
    expect(out).toEqual([{ type: 'PONG', status: STATUS.OK, nonce: 7 }]);
    // Two candidates dropped: the log text and the corrupted frame.
    expect(dev.stats.badCrc + dev.stats.badCobs + dev.stats.tooShort).toBe(2);
    expect(dev.stats.noiseBytes).toBe(13 + bad.length - 2);
  });
});

describe('BAUD (SPEC §4.3)', () => {
  it('refuses rates above max_baud, and every rate when max_baud is 0', async () => {
    const a = device({ maxBaud: 921600 });
    expect(await a.probe.send({ type: 'BAUD', baud: 2_000_000 })).toEqual([{ type: 'BAUD_ACK', status: STATUS.UNSUPPORTED, baud: 2_000_000 }]);
    expect(a.dev.baud).toBe(115200);
    const b = device({ maxBaud: 0 });
    expect(await b.probe.send({ type: 'BAUD', baud: 230400 })).toMatchObject([{ status: STATUS.UNSUPPORTED }]);
  });

  it('switches after answering at the old rate, and keeps the rate once a valid frame arrives', async () => {
    const { probe, dev, clock } = device();
    expect(await probe.send({ type: 'BAUD', baud: 921600 })).toEqual([{ type: 'BAUD_ACK', status: STATUS.OK, baud: 921600 }]);
    expect(dev.baud).toBe(921600);
    await clock.advance(500);
    await probe.send({ type: 'PING', nonce: 1 });
    await clock.advance(2000);
    expect(dev.baud).toBe(921600);
    expect(dev.stats.baudFallbacks).toBe(0);
  });

  it('falls back to the old rate when nothing valid arrives within 1 s', async () => {
    const { probe, dev, clock } = device();
    await probe.send({ type: 'BAUD', baud: 921600 });
    await clock.advance(999);
    expect(dev.baud).toBe(921600);
    await clock.advance(2);
    expect(dev.baud).toBe(115200);
    expect(dev.stats.baudFallbacks).toBe(1);
  });
});

describe('PING', () => {
  it('echoes the nonce', async () => {
    const { probe } = device();
    expect(await probe.send({ type: 'PING', nonce: 0xdeadbeef })).toEqual([{ type: 'PONG', status: STATUS.OK, nonce: 0xdeadbeef }]);
  });
});

describe('BEGIN refusals (SPEC §4.4): immediate, no session afterwards, nothing written', () => {
  const image = fixture('app_esp32.rsa.enc.bin');

  async function refused(msg: MessageOf<'BEGIN'>, o: Partial<SimDeviceOptions> = {}) {
    const d = device(o);
    const before = d.flash.snapshot();
    const [ack] = (await d.probe.send(msg)) as MessageOf<'BEGIN_ACK'>[];
    // No session: DATA is refused with NO_SESSION, and the flash is byte-for-byte unchanged.
    const [after] = (await d.probe.send({ type: 'DATA', offset: 512, data: image.subarray(512, 1536) })) as MessageOf<'ACK'>[];
    expect(after!.status).toBe(STATUS.NO_SESSION);
    expect(d.flash.snapshot().equals(before)).toBe(true);
    return ack!;
  }

  it('BAD_REQUEST for a chunk that is not a multiple of 16 or does not fit max_frame', async () => {
    expect((await refused(beginMsg(image, 0, 1000))).status).toBe(STATUS.BAD_REQUEST);
    expect((await refused(beginMsg(image, 0, 2048), { maxFrame: 2048 })).status).toBe(STATUS.BAD_REQUEST);
  });

  it('NOT_ENCRYPTED for a bad magic', async () => {
    expect((await refused(beginMsg(fixture('app_esp32.rsa.enc.bad_magic.bin')))).status).toBe(STATUS.NOT_ENCRYPTED);
  });

  it('BAD_SIZE when total is not 512 + bin_size', async () => {
    const t = fixture('app_esp32.rsa.enc.truncated.bin');
    const ack = await refused(beginMsg(t));
    expect(ack).toMatchObject({ status: STATUS.BAD_SIZE, detail: 3664 });
  });

  it('TOO_LARGE with the partition size in detail, before any key work', async () => {
    const h = Buffer.from(image.subarray(0, 512));
    h.writeUInt32LE(0x100000 + 16, 404);
    const ack = await refused({ type: 'BEGIN', flags: 0, chunk: 1024, total: 512 + 0x100000 + 16, header: h });
    expect(ack).toMatchObject({ status: STATUS.TOO_LARGE, detail: 0x100000, target: 1 });
  });

  // WRONG_KEY is not among them: a new session's key is unwrapped after BEGIN_ACK and refused on
  // DATA and END (key-after-begin.test.ts).

  it('accepts the ECIES image on a device holding the ECIES HMAC key', async () => {
    const { loadDecryptionKey } = await import('../../src/image/index.js');
    const key = loadDecryptionKey(fixture('ecies_device_hmac_key.bin'), { hmac: true });
    const { probe } = device({ key });
    const [ack] = (await probe.send(beginMsg(fixture('app_esp32.ecies.enc.bin')))) as MessageOf<'BEGIN_ACK'>[];
    expect(ack).toMatchObject({ status: STATUS.OK, nextOffset: 512, target: 1 });
  });

  it('grants credit of min(window, 64 chunks), whole chunks, from 512', async () => {
    const big = device({ window: 64 * 1024 });
    const [a] = (await big.probe.send(beginMsg(image, 0, 32))) as MessageOf<'BEGIN_ACK'>[];
    expect(a).toMatchObject({ status: STATUS.OK, nextOffset: 512, creditEnd: 512 + 64 * 32 });
    const small = device({ window: 3000 });
    const [b] = (await small.probe.send(beginMsg(image))) as MessageOf<'BEGIN_ACK'>[];
    expect(b!.creditEnd).toBe(512 + 2 * 1024);
  });

  it('FRESH and ALLOW_DOWNGRADE flags are accepted together', async () => {
    const { probe } = device();
    const [a] = (await probe.send(beginMsg(image, BEGIN_FLAGS.FRESH | BEGIN_FLAGS.ALLOW_DOWNGRADE))) as MessageOf<'BEGIN_ACK'>[];
    expect(a!.status).toBe(STATUS.OK);
    expect(a!.target).not.toBe(NO_TARGET);
  });
});
