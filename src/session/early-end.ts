/**
 * END without waiting for the last ACK (SPEC §4.7): once every DATA frame has been sent, END can
 * follow at once. Frames cannot overtake each other on a serial line, so END reaches the device
 * after them; if all of them arrived intact the device verifies straight away and the RESULT comes
 * back one round trip sooner than after "last ACK, then END". If one was lost, the device answers
 * INCOMPLETE and keeps the session; the uploader resends the hole and sends END again right behind
 * the resends (and again, should a resend be lost too).
 *
 * Only for a device whose UART is IRAM-safe (HELLO_ACK flags bit4): a device that loses input
 * during flash work plans its credit so nothing arrives in a blackout, and an END it did not ask
 * for could.
 */
import { END_FLAGS, STATUS } from '../protocol/index.js';
import type { DeviceLink, MessageOf } from './device-link.js';

export class EarlyEnd {
  /** True once END went out ahead of the last ACK. */
  sent = false;
  /** The device's answer to that END, if it came (INCOMPLETE means: send END again later). */
  result: MessageOf<'RESULT'> | undefined;
  /** Its answer must have been lost (the uploader saw data sent after END fill a hole): END again. */
  private unanswered = false;
  private readonly off: () => void;

  constructor(private readonly link: DeviceLink, private readonly reboot: boolean) {
    this.off = link.listen((m) => {
      if (m.type === 'RESULT' && this.sent && !this.result) this.result = m;
    });
  }

  /** Sends END: once, and again after an INCOMPLETE (behind the resends it asked for) or a lost answer. */
  async send(): Promise<void> {
    if (this.sent && !this.again) return;
    this.sent = true;
    this.unanswered = false;
    this.result = undefined;
    await this.link.send({ type: 'END', flags: this.reboot ? END_FLAGS.REBOOT : 0 });
  }

  /** The answer to the END sent can only have been an INCOMPLETE that was lost (see uploader.ts). */
  answerLost(): void {
    if (this.sent && !this.result) this.unanswered = true;
  }

  /** Whether finishSession still has to send END itself. */
  get needsEnd(): boolean {
    return !this.sent || this.again;
  }

  /** The END sent must go again: it was answered INCOMPLETE, or its answer was lost. */
  private get again(): boolean {
    return this.result?.status === STATUS.INCOMPLETE || this.unanswered;
  }

  dispose(): void {
    this.off();
  }
}
