import { describe, expect, it } from 'vitest';
import { OtaError } from '../../src/errors.js';
import { STATUS } from '../../src/protocol/index.js';
import { MemoryReporter } from '../../src/reporter.js';
import { push, type PushOptions } from '../../src/session/push.js';
import { seededRng } from '../../src/transport/memory.js';
import { drive, rig, testImage, type Rig } from './rig.js';

const image = testImage(40_000);

function run(r: Rig, extra: Partial<PushOptions> = {}) {
  const reporter = new MemoryReporter();
  const p = push({ image, imageName: 'app.enc', open: r.open, portLabel: 'memA', clock: r.clock, reporter, ...extra });
  return { reporter, done: drive(r.clock, p) };
}

const sameBytes = (r: Rig): boolean => Buffer.compare(Buffer.from(r.dev.received.subarray(512)), image.subarray(512)) === 0;

describe('push() over an in-memory link (FakeClock)', () => {
  it('delivers the exact image, reports hello/begin/progress/result in order, with no retries', async () => {
    const r = rig();
    const { reporter, done } = run(r);
    const { value, error } = await done;
    expect(error).toBeUndefined();
    expect(sameBytes(r)).toBe(true);
    expect(value).toMatchObject({ bytes: image.length, resumeOffset: 0, retries: 0, resyncs: 0, port: 'memA' });
    expect(value!.after.boot).toMatchObject({ slot: 'ota_0', version: 'new' });
    expect(value!.before.running).toMatchObject({ slot: 'factory', version: '1.0.0' });
    const types = reporter.events.map((e) => e.type).filter((t) => t !== 'progress');
    expect(types).toEqual(['hello', 'begin', 'result']);
    const prog = reporter.ofType('progress');
    expect(prog.at(-1)).toMatchObject({ acked: image.length, total: image.length });
    expect(prog.every((e, i) => i === 0 || e.acked > prog[i - 1]!.acked)).toBe(true);
  });

  it('keeps within the credit of a small window', async () => {
    const r = rig({ dev: { window: 2048 } });
    const { error } = await run(r).done;
    expect(error).toBeUndefined();
    expect(r.dev.creditViolations).toBe(0);
    expect(sameBytes(r)).toBe(true);
  });

  it('resends lost chunks on a lossy link (gaps) and still delivers the exact image', async () => {
    const r = rig({ link: () => ({ aToB: { dropRate: 2e-4, ber: 2e-5, rng: seededRng(3) } }) });
    const { value, error } = await run(r).done;
    expect(error).toBeUndefined();
    expect(sameBytes(r)).toBe(true);
    expect(value!.retries).toBeGreaterThan(0);
  });

  it('survives a boot log on the line before the device answers', async () => {
    const r = rig({ dev: { bootLog: 'ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET),boot:0x13\r\nI (31) boot: ESP-IDF v5.4.1\r\n' } });
    const { error } = await run(r).done;
    expect(error).toBeUndefined();
    expect(sameBytes(r)).toBe(true);
  });

  it('switches baud when the device allows it, and stays when it does not support switching', async () => {
    const a = rig();
    const ra = await run(a, { baud: 921600 }).done;
    expect(ra.value?.baud).toBe(921600);
    expect(a.dev.log).toContain('BAUD');
    const b = rig({ dev: { maxBaud: 0 } });
    const { reporter, done } = run(b, { baud: 921600 });
    const rb = await done;
    expect(rb.value?.baud).toBe(115200);
    expect(reporter.ofType('log').some((e) => /staying at 115200/.test(e.message))).toBe(true);
  });

  it('refuses at BEGIN without sending data (wrong key)', async () => {
    const r = rig({ dev: { beginStatus: STATUS.WRONG_KEY } });
    const { error } = await run(r).done;
    expect(error).toBeInstanceOf(OtaError);
    expect(error).toMatchObject({ code: 'WRONG_KEY', exitStatus: 5 });
    expect((error as Error).message).toContain('app.enc');
    expect(r.dev.dataFrames).toBe(0);
  });

  it('names the way out when the device has no slot it may write, before any BEGIN', async () => {
    const pending = rig({ dev: { noTarget: true, pendingVerify: true, rollback: true } });
    const a = await run(pending).done;
    expect(a.error).toMatchObject({ code: 'DEVICE_STATE', exitStatus: 25 });
    expect((a.error as Error).message).toMatch(/pending verification.*ota-uart confirm.*ota-uart rollback/);
    expect(pending.dev.log).not.toContain('BEGIN');
    const busy = rig({ dev: { noTarget: true } });
    const b = await run(busy).done;
    expect(b.error).toMatchObject({ code: 'DEVICE_STATE' });
    expect((b.error as Error).message).toMatch(/no slot it may write.*reset the device/);
    expect(busy.dev.log).not.toContain('BEGIN');
  });

  it('stops at an early rejection within the first window (wrong chip, downgrade)', async () => {
    for (const [status, code] of [[STATUS.WRONG_CHIP, 'WRONG_CHIP'], [STATUS.DOWNGRADE, 'DOWNGRADE']] as const) {
      const r = rig({ dev: { earlyReject: { at: 512 + 1024, status }, window: 8192 } });
      const { error } = await run(r).done;
      expect(error).toMatchObject({ code });
      // the host stops at once: at most the first window went out
      expect(r.dev.dataFrames).toBeLessThanOrEqual(8);
      if (code === 'DOWNGRADE') expect((error as Error).message).toContain('--allow-downgrade');
    }
  });

  it('reports a failed tag check at END and the boot slot stays', async () => {
    const r = rig({ dev: { endStatus: STATUS.AUTH_FAILED } });
    const { error } = await run(r).done;
    expect(error).toMatchObject({ code: 'AUTH_FAILED', exitStatus: 6 });
    expect((error as Error).message).not.toMatch(/resume/); // a refused image is not resumable
    expect(r.dev.boot).toBe(0);
  });

  it('reconnects after the link is cut and resumes from the acknowledged offset', async () => {
    const r = rig({ link: (n) => (n === 0 ? { aToB: { disconnectAfterBytes: 20_000 } } : {}) });
    const { reporter, done } = run(r);
    const { value, error } = await done;
    expect(error).toBeUndefined();
    expect(sameBytes(r)).toBe(true);
    expect(value!.resyncs).toBe(1);
    const resume = reporter.ofType('resume');
    expect(resume).toHaveLength(1);
    expect(resume[0]!.offset).toBeGreaterThan(512);
    expect(r.links).toHaveLength(2);
  });

  it('a second push of the same image resumes where the first one stopped', async () => {
    const r = rig({ link: (n) => (n === 0 ? { aToB: { disconnectAfterBytes: 20_000 } } : {}) });
    // the first run gives up at once (no reconnect window)
    const first = await run(r, { maxResyncs: 0 }).done;
    expect(first.error).toMatchObject({ code: 'LINK_LOST' });
    // and its message says that nothing is lost, and how far it got
    const delivered = (first.error as OtaError).details.delivered as number;
    expect(delivered).toBeGreaterThan(512);
    expect(delivered).toBeLessThan(20_000);
    expect((first.error as Error).message).toMatch(new RegExp(`${(delivered / 1024).toFixed(1)} KiB of ${(image.length / 1024).toFixed(1)} KiB had reached the device; run the same command again to resume`));
    const second = await run(r).done;
    expect(second.error).toBeUndefined();
    expect(second.value!.resumeOffset).toBeGreaterThan(512);
    expect(second.value!.bytesSent).toBeLessThan(image.length - 512);
    expect(sameBytes(r)).toBe(true);
  });

  it('starts over when the device lost its session (reset) mid-transfer', async () => {
    const r = rig();
    let reset = false;
    const reporter = new MemoryReporter();
    const watch = { event: (e: Parameters<MemoryReporter['event']>[0]) => {
      reporter.event(e);
      if (e.type === 'progress' && e.acked > 15_000 && !reset) { reset = true; r.dev.reset(); }
    } };
    const { value, error } = await drive(r.clock, push({ image, open: r.open, clock: r.clock, reporter: watch }));
    expect(error).toBeUndefined();
    expect(value!.resyncs).toBe(1);
    expect(reporter.ofType('begin')).toHaveLength(2);
    expect(sameBytes(r)).toBe(true);
  });

  it('finds a device that reset at the switched rate back at its initial rate, and resumes', async () => {
    const r = rig();
    let reset = false;
    const watch = { event: (e: Parameters<MemoryReporter['event']>[0]) => {
      if (e.type === 'progress' && e.acked > 15_000 && !reset) { reset = true; r.dev.reset(); }
    } };
    const { value, error } = await drive(r.clock, push({ image, open: r.open, clock: r.clock, reporter: watch, baud: 921600 }));
    expect(error).toBeUndefined();
    expect(reset).toBe(true);
    expect(value!.baud).toBe(921600);
    expect(r.dev.log.filter((t) => t === 'BAUD')).toHaveLength(3); // up, up again after the reset, back down at the end
    expect(sameBytes(r)).toBe(true);
  });

  it('resends the image when the device lost its session just before END', async () => {
    const r = rig();
    let reset = false;
    const watch = { event: (e: Parameters<MemoryReporter['event']>[0]) => {
      if (e.type === 'progress' && e.acked === e.total && !reset) { reset = true; r.dev.reset(); }
    } };
    const { value, error } = await drive(r.clock, push({ image, open: r.open, clock: r.clock, reporter: watch }));
    expect(error).toBeUndefined();
    expect(value!.resyncs).toBe(1);
    expect(r.dev.boot).toBe(1);
    expect(sameBytes(r)).toBe(true);
  });

  it('gives up with TIMEOUT when the device stops acknowledging, after bounded retries', async () => {
    const r = rig();
    const reporter = new MemoryReporter();
    const watch = { event: (e: Parameters<MemoryReporter['event']>[0]) => {
      reporter.event(e);
      if (e.type === 'progress' && e.acked > 10_000) r.dev.dataDeaf = true;
    } };
    const { error } = await drive(r.clock, push({ image, open: r.open, clock: r.clock, reporter: watch, maxResyncs: 2 }));
    expect(error).toMatchObject({ code: 'TIMEOUT', exitStatus: 17 });
    expect((error as OtaError).details.offset).toBeGreaterThan(10_000);
    expect(reporter.ofType('resync')).toHaveLength(2);
    expect(r.dev.log.filter((t) => t === 'BEGIN')).toHaveLength(3);
    expect(reporter.ofType('retry').length).toBeGreaterThan(0);
  });

  it('sends ABORT when aborted and fails with ABORTED (exit 130)', async () => {
    const r = rig({ dev: { window: 2048 } });
    const ac = new AbortController();
    const watch = { event: (e: { type: string; acked?: number }) => { if (e.type === 'progress' && e.acked! > 8000) ac.abort(); } };
    const { error } = await drive(r.clock, push({ image, open: r.open, clock: r.clock, reporter: watch as never, signal: ac.signal }));
    expect(error).toMatchObject({ code: 'ABORTED', exitStatus: 130 });
    expect((error as Error).message).not.toMatch(/resume/); // ABORT dropped the device's progress
    expect(r.dev.log).toContain('ABORT');
    expect(r.dev.session).toBeUndefined();
    expect(r.dev.boot).toBe(0);
  });

  it('on a slow link, waits for the ABORT to get past the data still in flight', async () => {
    // 115200 baud, 16 KiB window, an OS/adapter buffer that holds it all: the ABORT queues behind ~1.4 s of DATA
    const r = rig({ dev: { window: 16 * 1024 }, link: () => ({ aToB: { pace: true, txBufferBytes: 64 * 1024 }, bToA: { pace: true } }) });
    const ac = new AbortController();
    const watch = { event: (e: Parameters<MemoryReporter['event']>[0]) => { if (e.type === 'progress' && e.acked > 4000) ac.abort(); } };
    const { error } = await drive(r.clock, push({ image, open: r.open, clock: r.clock, reporter: watch, signal: ac.signal }));
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(r.dev.log).toContain('ABORT');
    expect(r.dev.session).toBeUndefined();
  });

  it('says what was tried when no device answers', async () => {
    const silent = rig();
    silent.dev.deaf = true;
    const a = await run(silent, { connectTimeoutMs: 2000 }).done;
    expect(a.error).toMatchObject({ code: 'NO_DEVICE', exitStatus: 14 });
    expect((a.error as Error).message).toMatch(/on memA at 115200 baud: sent 10 HELLO frames over 2\.0 s; no bytes at all came back/);

    const chatty = rig({ dev: { bootLog: 'I (31) boot: ESP-IDF v5.4.1 2nd stage bootloader\r\n'.repeat(20) } });
    chatty.dev.deaf = true;
    const b = await run(chatty, { connectTimeoutMs: 2000 }).done;
    expect((b.error as Error).message).toMatch(/got 1000 bytes of non-protocol text \("I \(31\) boot: ESP-IDF/);
  });

  it('refuses a file that is not an encrypted image before opening the port', async () => {
    const r = rig();
    let opened = 0;
    const bad = Buffer.alloc(4096, 0x55);
    const p = push({ image: bad, imageName: 'plain.bin', open: async () => { opened++; return r.open(); }, clock: r.clock });
    await expect(p).rejects.toMatchObject({ code: 'NOT_ENCRYPTED_IMAGE' });
    expect(opened).toBe(0);
  });

  it('a device that goes silent after END: the error says to check with info, not to resume', async () => {
    const r = rig();
    const origAttach = r.dev.attach.bind(r.dev);
    r.dev.attach = (t) => {
      const write = t.write.bind(t);
      t.write = (b: Uint8Array) => (r.dev.log.includes('END') ? Promise.resolve() : write(b));
      origAttach(t);
    };
    const { error } = await run(r, { maxResyncs: 1 }).done;
    expect(error).toBeInstanceOf(OtaError);
    expect((error as Error).message).toMatch(/every byte had been delivered and END sent: `ota-uart info` shows whether the device installed it/);
    expect((error as Error).message).not.toMatch(/run the same command again/);
    expect((error as OtaError).details.delivered).toBe(image.length);
  });

  it('reports success when only the RESULT was lost (device switched to the target slot)', async () => {
    const r = rig();
    let dropped = false;
    // drop the first RESULT frame on its way back to the host
    const origAttach = r.dev.attach.bind(r.dev);
    r.dev.attach = (t) => {
      const write = t.write.bind(t);
      t.write = (b: Uint8Array) => {
        if (!dropped && b.length > 0 && r.dev.log.at(-1) === 'END') { dropped = true; return Promise.resolve(); }
        return write(b);
      };
      origAttach(t);
    };
    const { value, error } = await run(r).done;
    expect(error).toBeUndefined();
    expect(dropped).toBe(true);
    expect(value!.after.boot.slot).toBe('ota_0');
    expect(r.dev.log.filter((t) => t === 'END')).toHaveLength(2);
  });
});
