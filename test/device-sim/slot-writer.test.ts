/**
 * The slot writer's erase-ahead plan and the durable record log, as flash operations: blocks where
 * aligned, sectors otherwise, never beyond the image, programs inside one 4 KiB sector, and the
 * record log's append/wrap/clear rules (SPEC §7 layout).
 */
import { describe, expect, it } from 'vitest';
import { Flash, FLASH_TIMINGS } from '../../src/device-sim/index.js';
import type { FlashOp } from '../../src/device-sim/flash-ops.js';
import { RECORD_MAGIC, RECORD_SIZE, RecordLog, encodeRecord, readResumeRecord } from '../../src/device-sim/resume-record.js';
import { SlotWriter } from '../../src/device-sim/slot-writer.js';
import { crc32 } from '../../src/protocol/index.js';

const part = { label: 'ota_0', type: 0, subtype: 0x10, offset: 0x110000, size: 0x100000, flags: 0 };
const run = (ops: FlashOp[]) => ops.forEach((o) => o.run());
const kinds = (ops: FlashOp[]) => ops.map((o) => o.what.split(' ')[0] + ' ' + o.what.split(' ')[1]);

describe('SlotWriter', () => {
  it('erases 64 KiB blocks ahead of the pointer, then sectors for the tail, never past the image', () => {
    const flash = new Flash();
    const w = new SlotWriter({ flash, timing: FLASH_TIMINGS.esp32, part, imageLen: 3 * 65536 + 5000 });
    const first = w.planWrite(new Uint8Array(1024).fill(1));
    expect(kinds(first)).toEqual(['erase 0x110000+0x10000', 'program 0x110000+1024']);
    expect(first[0]!.ms).toBe(150);
    run(first);
    let ops: FlashOp[] = [];
    for (let i = 1; i < 200; i++) ops = ops.concat(w.planWrite(new Uint8Array(1024).fill(2)));
    run(ops);
    const erases = ops.filter((o) => o.what.startsWith('erase')).map((o) => o.what);
    expect(erases).toEqual(['erase 0x120000+0x10000', 'erase 0x130000+0x10000', 'erase 0x140000+0x1000', 'erase 0x141000+0x1000']);
    // Everything after the image is untouched: the tail stopped at 0x142000.
    expect(flash.read(0x142000, 16).every((b) => b === 0xff)).toBe(true);
  });

  it('splits programs at 4 KiB sector boundaries', () => {
    const w = new SlotWriter({ flash: new Flash(), timing: FLASH_TIMINGS.esp32, part, imageLen: 65536 });
    w.planWrite(new Uint8Array(3000));
    const ops = w.planWrite(new Uint8Array(3000)).filter((o) => o.what.startsWith('program'));
    expect(ops.map((o) => o.what)).toEqual(['program 0x110bb8+1096', 'program 0x111000+1904']);
  });

  it('after a resume, rewrites the sector (record lowered first) when the bytes after the resume point are not blank', () => {
    const flash = new Flash();
    flash.program(part.offset, new Uint8Array(5000).fill(0x11)); // 5000 good bytes...
    flash.program(part.offset + 5000, new Uint8Array(100).fill(0x00)); // ...then junk from before the cut
    const lowered: number[] = [];
    const w = new SlotWriter({
      flash, timing: FLASH_TIMINGS.esp32, part, imageLen: 65536, done: 5000,
      lowerRecord: (n) => { lowered.push(n); return []; },
    });
    const ops = w.planWrite(new Uint8Array(1000).fill(0x22));
    expect(lowered).toEqual([4096]);
    expect(kinds(ops)).toEqual(['erase 0x111000+0x1000', 'program 0x111000+1904']);
    run(ops);
    expect(flash.read(part.offset + 4096, 904).every((b) => b === 0x11)).toBe(true);
    expect(flash.read(part.offset + 5000, 1000).every((b) => b === 0x22)).toBe(true);
    expect(w.rewrites).toBe(1);
  });

  it('after a resume, writes without any erase when the rest of the sector is blank', () => {
    const flash = new Flash();
    flash.program(part.offset, new Uint8Array(5000).fill(0x33));
    const w = new SlotWriter({ flash, timing: FLASH_TIMINGS.esp32, part, imageLen: 65536, done: 5000 });
    const ops = w.planWrite(new Uint8Array(2000).fill(0x33));
    expect(kinds(ops)).toEqual(['program 0x111388+2000']);
    run(ops);
    expect(w.rewrites).toBe(0);
  });

  it('after a resume, does not program over bytes written before the reset, even the same ones (SPEC §7: blank first)', () => {
    // The common case after a cut between a write and its record: the same plaintext is already
    // there. NOR would take a value over itself, but a half-programmed cell from a torn write, and
    // flash APIs that require erased flash, make "blank before writing" the rule.
    const flash = new Flash();
    flash.program(part.offset, new Uint8Array(6000).fill(0x33));
    const w = new SlotWriter({ flash, timing: FLASH_TIMINGS.esp32, part, imageLen: 65536, done: 5000, lowerRecord: () => [] });
    const ops = w.planWrite(new Uint8Array(2000).fill(0x33));
    expect(kinds(ops)).toEqual(['erase 0x111000+0x1000', 'program 0x111000+2904']);
    run(ops);
    expect(w.rewrites).toBe(1);
    expect(flash.read(part.offset, 7000).every((b) => b === 0x33)).toBe(true);
  });
});

describe('RecordLog (SPEC §7 record in the nvs partition\'s first sector)', () => {
  const NVS = 0x9000;
  const id = Buffer.alloc(32, 0xab);

  it('encodes magic "MSER", offset, a 20-byte id prefix and a CRC-32 of the first 28 bytes', () => {
    const e = encodeRecord(4608, id);
    expect(e.length).toBe(RECORD_SIZE);
    expect(e.subarray(0, 4).toString('latin1')).toBe('MSER');
    expect(e.readUInt32LE(0)).toBe(RECORD_MAGIC);
    expect(e.readUInt32LE(4)).toBe(4608);
    expect(e.subarray(8, 28).equals(id.subarray(0, 20))).toBe(true);
    expect(e.readUInt32LE(28)).toBe(crc32(e.subarray(0, 28)));
  });

  it('appends into erased space, wraps with a sector erase after 128 entries, and clears', () => {
    const flash = new Flash();
    const log = new RecordLog(flash, FLASH_TIMINGS.esp32, NVS);
    for (let i = 1; i <= 128; i++) run(log.append(512 + 16 * i, id));
    expect(readResumeRecord(flash, NVS)!.offset).toBe(512 + 16 * 128);
    const wrap = log.append(9999 * 16, id);
    expect(kinds(wrap)).toEqual(['erase 0x9000+0x1000', 'program 0x9000+32']);
    run(wrap);
    expect(readResumeRecord(flash, NVS)!.offset).toBe(9999 * 16);
    expect(new RecordLog(flash, FLASH_TIMINGS.esp32, NVS).append(1, id)[0]!.what).toBe('program 0x9020+32');
    run(log.clear());
    expect(readResumeRecord(flash, NVS)).toBeUndefined();
    expect(log.clear()).toEqual([]);
  });

  it('skips an entry whose CRC does not check', () => {
    const flash = new Flash();
    const log = new RecordLog(flash, FLASH_TIMINGS.esp32, NVS);
    run(log.append(1024, id));
    const bad = encodeRecord(2048, id);
    bad[5]! ^= 1;
    flash.program(NVS + RECORD_SIZE, bad);
    expect(readResumeRecord(flash, NVS)!.offset).toBe(1024);
  });
});
