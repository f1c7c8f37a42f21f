/**
 * The typed messages of SPEC §4: a discriminated union on `type` (the message NAME). Field names
 * are the camelCase forms of the SPEC's field names; all integers are plain numbers (u32 fit
 * exactly), fixed char[n] fields are strings. No runtime code; layouts are in message-layouts.ts.
 */

/** One app partition in HELLO_ACK (SPEC §4.2), 48 bytes on the wire. */
export interface PartInfo {
  /** 0x00 factory, 0x10 + k ota_k. */
  subtype: number;
  /** otadata state (OTA_STATE). */
  state: number;
  /** The slot holds an app that passes verification. */
  valid: boolean;
  offset: number;
  size: number;
  secureVersion: number;
  /** Version of the app in the slot, "" if none (char[32]). */
  version: string;
}

export interface HelloMsg { type: 'HELLO'; hostProto: number; flags: number }
export interface HelloAckMsg {
  type: 'HELLO_ACK';
  status: number;
  proto: number;
  maxFrame: number;
  window: number;
  maxBaud: number;
  chipId: number;
  chipRev: number;
  flags: number;
  efuseSecureVersion: number;
  running: number;
  boot: number;
  target: number;
  runVersion: string;
  runProject: string;
  runSecureVersion: number;
  /** 32 bytes: image id of the resumable session (zeros if none). */
  resumeId: Uint8Array;
  resumeOffset: number;
  resumeTotal: number;
  /** At most MAX_PARTS entries. */
  parts: PartInfo[];
}
export interface BaudMsg { type: 'BAUD'; baud: number }
export interface BaudAckMsg { type: 'BAUD_ACK'; status: number; baud: number }
export interface BeginMsg {
  type: 'BEGIN';
  flags: number;
  chunk: number;
  total: number;
  /** Exactly 512 bytes: the esp_encrypted_img header. */
  header: Uint8Array;
}
export interface BeginAckMsg {
  type: 'BEGIN_ACK';
  status: number;
  nextOffset: number;
  creditEnd: number;
  target: number;
  detail: number;
}
export interface DataMsg { type: 'DATA'; offset: number; data: Uint8Array }
export interface AckMsg {
  type: 'ACK';
  status: number;
  nextOffset: number;
  creditEnd: number;
  sack: number;
  busyMs: number;
}
export interface EndMsg { type: 'END'; flags: number }
export interface ResultMsg {
  type: 'RESULT';
  status: number;
  boot: number;
  secureVersion: number;
  version: string;
  detail: number;
}
export interface AbortMsg { type: 'ABORT' }
export interface AbortAckMsg { type: 'ABORT_ACK'; status: number }
export interface ConfirmMsg { type: 'CONFIRM' }
export interface ConfirmAckMsg { type: 'CONFIRM_ACK'; status: number; boot: number }
export interface RollbackMsg { type: 'ROLLBACK' }
export interface RollbackAckMsg { type: 'ROLLBACK_ACK'; status: number; boot: number }
export interface PingMsg { type: 'PING'; nonce: number }
export interface PongMsg { type: 'PONG'; status: number; nonce: number }
export interface RebootMsg { type: 'REBOOT' }
export interface RebootAckMsg { type: 'REBOOT_ACK'; status: number }
/**
 * The short answer (SPEC §4.9): frame type `code` (a reply type, request | 0x80) whose payload is a
 * single status byte, e.g. UNSUPPORTED for a request type the device does not know.
 */
export interface ReplyMsg { type: 'REPLY'; code: number; status: number }

export type Message =
  | HelloMsg
  | HelloAckMsg
  | BaudMsg
  | BaudAckMsg
  | BeginMsg
  | BeginAckMsg
  | DataMsg
  | AckMsg
  | EndMsg
  | ResultMsg
  | AbortMsg
  | AbortAckMsg
  | ConfirmMsg
  | ConfirmAckMsg
  | RollbackMsg
  | RollbackAckMsg
  | PingMsg
  | PongMsg
  | RebootMsg
  | RebootAckMsg
  | ReplyMsg;

export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;
