/**
 * A scriptable protocol device for session and CLI tests: the whole message set of SPEC §4, no
 * crypto and no flash. It stores what it receives, grants `window` bytes of credit, and can be told
 * to refuse at BEGIN, refuse early at an offset, fail the tag check at END, go deaf, lose its
 * session (a reset), print a boot log, or refuse baud switching. Kept separate from the real
 * simulator (src/device-sim) so session bugs and simulator bugs cannot hide each other.
 */
import { FrameDecoder, decodeMessage, encodeMessage, STATUS, MSG, REPLY_BIT, type Message, type PartInfo } from '../../src/protocol/index.js';
import type { Transport } from '../../src/transport/transport.js';
import { systemClock, type Clock, type Timer } from '../../src/clock.js';

export interface FakeDeviceOptions {
  runVersion?: string;
  window?: number;
  maxFrame?: number;
  /** 0: refuses BAUD with UNSUPPORTED. */
  maxBaud?: number;
  /** Status BEGIN answers with (default OK). */
  beginStatus?: number;
  /** Refuse with this ACK status once next_offset reaches `at`. */
  earlyReject?: { at: number; status: number };
  /** Status END answers with (default OK). */
  endStatus?: number;
  /** Printed (as plain text) whenever a transport is attached, like an ESP32 boot log. */
  bootLog?: string;
  rollback?: boolean;
  pendingVerify?: boolean;
  /** HELLO_ACK target 0xFF: no slot may be written (e.g. the other slot is already set to boot). */
  noTarget?: boolean;
  /** For the baud-switch fallback timer (SPEC §4.3). Default systemClock. */
  clock?: Clock;
}

export class FakeDevice {
  readonly o: Required<Pick<FakeDeviceOptions, 'runVersion' | 'window' | 'maxFrame' | 'maxBaud'>> & FakeDeviceOptions;
  received = new Uint8Array(0);
  session: { id: string; total: number; chunk: number; next: number; start: number } | undefined;
  /** Every request type received, in order. */
  readonly log: string[] = [];
  dataFrames = 0;
  creditViolations = 0;
  /** Ignore everything (a board that is off, or firmware without a receiver). */
  deaf = false;
  /** Stop acknowledging DATA (the link dies mid-transfer). */
  dataDeaf = false;
  boot = 0; // index into parts
  running = 0;
  pending = false;
  private t: Transport | undefined;
  private decoder = new FrameDecoder();
  private stored = new Map<number, Uint8Array>();
  /** Running after a baud switch until a valid frame arrives at the new rate. */
  private fallback: Timer | undefined;

  constructor(o: FakeDeviceOptions = {}) {
    this.o = { runVersion: '1.0.0', window: 16 * 1024, maxFrame: 4112, maxBaud: 3_000_000, ...o };
    this.pending = !!o.pendingVerify;
  }

  parts(): PartInfo[] {
    const p = (subtype: number, offset: number, version: string, state: number): PartInfo => ({
      subtype, state, valid: version !== '', offset, size: 0x100000, secureVersion: 0, version,
    });
    return [p(0x00, 0x10000, this.o.runVersion, 0xff), p(0x10, 0x110000, this.slotVersion[1] ?? '', this.pending ? 1 : 0xff), p(0x11, 0x210000, this.slotVersion[2] ?? '', 0xff)];
  }
  slotVersion: Record<number, string> = {};
  get target(): number {
    if (this.o.noTarget) return 0xff;
    return this.running === 1 ? 2 : 1;
  }

  attach(t: Transport): void {
    this.t = t;
    this.decoder = new FrameDecoder();
    t.onData((b) => this.onBytes(b));
    if (this.o.bootLog) void t.write(new TextEncoder().encode(this.o.bootLog)).catch(() => {});
  }

  /** Power cycle: RAM session lost, the boot log is printed again on the next attach. */
  reset(): void {
    this.session = undefined;
    this.stored.clear();
    // a reset ESP32 listens at its initial rate again
    if (this.t && this.t.baud !== 115200) void this.t.setBaud(115200).catch(() => {});
  }

  private reply(m: Message): void {
    void this.t?.write(encodeMessage(m)).catch(() => {});
  }

  private creditEnd(): number {
    const s = this.session!;
    const slots = Math.min(Math.floor(this.o.window / s.chunk), 32);
    return Math.min(s.total, s.next + slots * s.chunk);
  }

  private ack(status: number = STATUS.OK): void {
    const s = this.session!;
    let sack = 0;
    for (let i = 0; i < 32; i++) if (this.stored.has(s.next + (i + 1) * s.chunk)) sack |= 1 << i;
    this.reply({ type: 'ACK', status, nextOffset: s.next, creditEnd: this.creditEnd(), sack: sack >>> 0, busyMs: 0 });
  }

  private onBytes(b: Uint8Array): void {
    if (this.deaf) return;
    for (const f of this.decoder.push(b)) {
      const m = decodeMessage(f);
      if (!m) continue;
      this.fallback?.cancel();
      this.fallback = undefined;
      this.log.push(m.type);
      this.handle(m);
    }
  }

  private handle(m: Message): void {
    switch (m.type) {
      case 'HELLO':
        this.reply({
          type: 'HELLO_ACK', status: STATUS.OK, proto: 1, maxFrame: this.o.maxFrame, window: this.o.window, maxBaud: this.o.maxBaud,
          chipId: 0, chipRev: 300, flags: (this.o.rollback ? 1 : 0) | (this.pending ? 4 : 0) | (this.session ? 8 : 0),
          efuseSecureVersion: 0, running: this.running, boot: this.boot, target: this.target,
          runVersion: this.running === 0 ? this.o.runVersion : (this.slotVersion[this.running] ?? ''), runProject: 'fake_app', runSecureVersion: 0,
          resumeId: new Uint8Array(32), resumeOffset: this.session?.next ?? 0, resumeTotal: this.session?.total ?? 0, parts: this.parts(),
        });
        break;
      case 'BAUD':
        if (this.o.maxBaud === 0) this.reply({ type: 'REPLY', code: MSG.BAUD | REPLY_BIT, status: STATUS.UNSUPPORTED });
        else {
          this.reply({ type: 'BAUD_ACK', status: STATUS.OK, baud: m.baud });
          const t = this.t!;
          const old = t.baud;
          void t.drain().then(async () => {
            await t.setBaud(m.baud);
            // no valid frame within 1 s at the new rate: back to the old one (SPEC §4.3)
            this.fallback = (this.o.clock ?? systemClock).setTimer(1000, () => { void t.setBaud(old).catch(() => {}); });
          }).catch(() => {});
        }
        break;
      case 'PING':
        this.reply({ type: 'PONG', status: STATUS.OK, nonce: m.nonce });
        break;
      case 'BEGIN': {
        const status = this.o.beginStatus ?? STATUS.OK;
        if (status !== STATUS.OK) {
          this.session = undefined;
          this.reply({ type: 'BEGIN_ACK', status, nextOffset: 0, creditEnd: 0, target: this.target, detail: 0 });
          break;
        }
        const id = Buffer.from(m.header).toString('hex');
        const fresh = (m.flags & 2) !== 0;
        if (!this.session || this.session.id !== id || fresh) {
          this.session = { id, total: m.total, chunk: m.chunk, next: 512, start: 512 };
          this.received = new Uint8Array(m.total);
        } else {
          this.session.chunk = m.chunk;
          this.session.start = this.session.next;
        }
        this.stored.clear();
        this.reply({ type: 'BEGIN_ACK', status: STATUS.OK, nextOffset: this.session.next, creditEnd: this.creditEnd(), target: this.target, detail: 0 });
        break;
      }
      case 'DATA':
        this.onData(m.offset, m.data);
        break;
      case 'END': {
        const s = this.session;
        if (!s) { this.reply({ type: 'RESULT', status: STATUS.NO_SESSION, boot: this.boot, secureVersion: 0, version: '', detail: 0 }); break; }
        if (s.next < s.total) { this.reply({ type: 'RESULT', status: STATUS.INCOMPLETE, boot: this.boot, secureVersion: 0, version: '', detail: s.next }); break; }
        const status = this.o.endStatus ?? STATUS.OK;
        this.session = undefined;
        if (status === STATUS.OK) {
          this.slotVersion[this.target] = 'new';
          this.boot = this.target;
        }
        this.reply({ type: 'RESULT', status, boot: this.boot, secureVersion: 0, version: status === STATUS.OK ? 'new' : '', detail: 0 });
        break;
      }
      case 'ABORT':
        this.session = undefined;
        this.reply({ type: 'ABORT_ACK', status: STATUS.OK });
        break;
      case 'CONFIRM':
        this.reply({ type: 'CONFIRM_ACK', status: this.pending ? STATUS.OK : STATUS.NO_PENDING, boot: this.boot });
        this.pending = false;
        break;
      case 'ROLLBACK':
        this.reply({ type: 'ROLLBACK_ACK', status: this.pending ? STATUS.OK : STATUS.NO_PENDING, boot: 0 });
        if (this.pending) { this.pending = false; this.boot = 0; this.running = 0; }
        break;
      case 'REBOOT':
        this.reply({ type: 'REBOOT_ACK', status: STATUS.OK });
        break;
      default:
        break;
    }
  }

  private onData(offset: number, data: Uint8Array): void {
    const s = this.session;
    if (!s) { this.reply({ type: 'ACK', status: STATUS.NO_SESSION, nextOffset: 0, creditEnd: 0, sack: 0, busyMs: 0 }); return; }
    if (this.dataDeaf) return;
    this.dataFrames++;
    if (offset + data.length > this.creditEnd()) this.creditViolations++;
    if (offset === s.next) {
      this.received.set(data, offset);
      s.next += data.length;
      for (let d = this.stored.get(s.next); d; d = this.stored.get(s.next)) {
        this.stored.delete(s.next);
        this.received.set(d, s.next);
        s.next += d.length;
      }
    } else if (offset > s.next && offset < this.creditEnd()) {
      this.stored.set(offset, data.slice());
    }
    const er = this.o.earlyReject;
    if (er && s.next >= er.at) {
      this.session = undefined;
      this.reply({ type: 'ACK', status: er.status, nextOffset: s.next, creditEnd: s.next, sack: 0, busyMs: 0 });
      return;
    }
    this.ack();
  }
}
