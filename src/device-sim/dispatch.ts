/**
 * One received frame (its CRC already checked) to the handler of its request (SPEC §2.4, §4): an
 * unknown frame version gets HELLO_ACK, an unknown request type and a payload that does not parse
 * get short replies (§4.9), frames of reply types are ignored; everything else goes to its module.
 */
import { PROTO_VERSION, REPLY_BIT, STATUS, decodeMessage, messageName, type Frame } from '../protocol/index.js';
import { handleBegin } from './begin.js';
import { handleAbort, handleBaud, handleConfirm, handleReboot, handleRollback, shortReply } from './control.js';
import { handleData } from './data-phase.js';
import type { DeviceCore } from './device-core.js';
import { handleEnd } from './end.js';

export interface Dispatcher extends DeviceCore {
  sendHello(): void;
  /** Starts the 1 s wait for a valid frame at a new rate (SPEC §4.3); back to `old` without one. */
  armBaudFallback(old: number): void;
  readonly baud: number;
}

export async function dispatchFrame(d: Dispatcher, f: Frame): Promise<void> {
  if (f.ver !== PROTO_VERSION) {
    d.counters.otherVersions++; // not bad_version: a device delivers every version (§2.3)
    d.sendHello();
    return;
  }
  if (f.type & REPLY_BIT) {
    d.counters.ignoredReplies++; // a reply type sent to the device: ignored (§4.9)
    return;
  }
  const name = messageName(f.type);
  if (!name) {
    d.counters.unsupported++;
    d.send({ type: 'REPLY', code: f.type | REPLY_BIT, status: STATUS.UNSUPPORTED });
    return;
  }
  const m = decodeMessage(f);
  if (!m) {
    d.counters.badPayload++;
    const r = shortReply(name, STATUS.BAD_REQUEST);
    if (r) d.send(r);
    return;
  }
  switch (m.type) {
    case 'HELLO':
      d.sendHello();
      d.event({ type: 'hello' });
      return;
    case 'BAUD': {
      const old = d.baud;
      if (await handleBaud(d, m)) d.armBaudFallback(old);
      return;
    }
    case 'BEGIN': return handleBegin(d, m);
    case 'DATA': return handleData(d, m);
    case 'END': return handleEnd(d, m);
    case 'ABORT': return handleAbort(d);
    case 'CONFIRM': return handleConfirm(d);
    case 'ROLLBACK': return handleRollback(d);
    case 'REBOOT': return handleReboot(d);
    case 'PING':
      d.send({ type: 'PONG', status: STATUS.OK, nonce: m.nonce });
      return;
    default:
      d.counters.badPayload++;
  }
}
