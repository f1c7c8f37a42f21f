/**
 * Wire constants of protocol version 1 (protocol/SPEC.md §4, §4.2, §4.4, §4.7, §8).
 *
 * Pure data, no dependencies. test/protocol/constants.test.ts checks the §8 values against SPEC.md
 * and the C receiver's otarx_config.h, so change them only together with SPEC.md.
 */

/** Frame layout / protocol version this host speaks (SPEC §2.1). */
export const PROTO_VERSION = 1;
/** Largest frame body (ver..crc) any receiver accepts in version 1: 4096 data + 16 spare. */
export const MAX_FRAME_ABS = 4112;
/** Smallest `max_frame` a device may announce: BEGIN (6 + 519 bytes) must fit. */
export const MIN_MAX_FRAME = 640;
/** Host resends HELLO this often until answered (ms). */
export const HELLO_INTERVAL_MS = 200;
/** Host default for finding the device, covering an ESP32 boot log (ms). */
export const CONNECT_TIMEOUT_MS = 10000;
/** Time allowed for BEGIN_ACK: RSA-3072 key unwrap on an ESP32 takes hundreds of ms. */
export const BEGIN_TIMEOUT_MS = 5000;
/** Time allowed for RESULT after END (tag check + image verify), plus any busy_ms. */
export const END_TIMEOUT_MS = 10000;
/** Lower bound of the adaptive retransmission timeout (ms). */
export const MIN_RTO_MS = 200;
/** Consecutive retransmission timeouts without progress before the host gives up (TIMEOUT). */
export const MAX_STALLS = 8;
/** Window after a baud switch in which a PING/PONG must succeed, else both fall back (ms). */
export const BAUD_CONFIRM_MS = 1000;
/** Number of chunks beyond next_offset that ACK.sack can describe (bits of a u32). */
export const MAX_SACK_CHUNKS = 32;
/**
 * Most chunks of credit a device grants beyond next_offset (SPEC §4.5). Twice what sack shows: a
 * chunk held farther out is reported once next_offset comes within 32 chunks of it. It lets a
 * noisy fast line use half-size chunks (a lost bit costs half as much) with the same window.
 */
export const MAX_CREDIT_CHUNKS = 64;

/** W of SPEC §4.5: the chunks of credit a device with `window` bytes grants beyond next_offset. */
export function creditChunks(window: number, chunk: number): number {
  return Math.max(1, Math.min(MAX_CREDIT_CHUNKS, Math.floor(window / chunk)));
}
/** Default DATA payload size (bytes), a multiple of 16. */
export const DEFAULT_CHUNK = 1024;
/** A device updates its durable resume record at least every this many plaintext bytes. */
export const DURABLE_INTERVAL = 65536;

/** Size of the esp_encrypted_img header carried in BEGIN (SPEC §1). */
export const IMAGE_HEADER_SIZE = 512;
/** Frame body overhead: ver:u8 type:u8 ... crc:u32 (SPEC §2.1). */
export const FRAME_OVERHEAD = 6;
/** Smallest valid frame body (empty payload). */
export const MIN_FRAME_BODY = FRAME_OVERHEAD;
/** DATA payload overhead beyond the file bytes: offset:u32. A chunk fits when chunk + 10 <= max_frame. */
export const DATA_OVERHEAD = 4;
/** Magic at the start of a HELLO payload (SPEC §4.1). */
export const HELLO_MAGIC = 'OTAU';
/** Largest number of partitions a HELLO_ACK lists (SPEC §4.2). */
export const MAX_PARTS = 16;
/** `target` value meaning "no update slot possible" (SPEC §4.2). */
export const NO_TARGET = 0xff;

/** Message type codes (SPEC §4). The answer to request type t is t | 0x80. */
export const MSG = {
  HELLO: 0x01,
  HELLO_ACK: 0x81,
  BAUD: 0x02,
  BAUD_ACK: 0x82,
  BEGIN: 0x03,
  BEGIN_ACK: 0x83,
  DATA: 0x04,
  ACK: 0x84,
  END: 0x05,
  RESULT: 0x85,
  ABORT: 0x06,
  ABORT_ACK: 0x86,
  CONFIRM: 0x07,
  CONFIRM_ACK: 0x87,
  ROLLBACK: 0x08,
  ROLLBACK_ACK: 0x88,
  PING: 0x09,
  PONG: 0x89,
  REBOOT: 0x0a,
  REBOOT_ACK: 0x8a,
} as const;
export type MsgName = keyof typeof MSG;

/** Bit that turns a request type into its reply type. */
export const REPLY_BIT = 0x80;

/** Device status bytes (SPEC §5). Descriptions and error mapping live in status.ts. */
export const STATUS = {
  OK: 0x00,
  BUSY: 0x01,
  NOT_ENCRYPTED: 0x10,
  BAD_SIZE: 0x11,
  WRONG_KEY: 0x12,
  TOO_LARGE: 0x13,
  NOT_APP: 0x14,
  WRONG_CHIP: 0x15,
  CHIP_REV: 0x16,
  DOWNGRADE: 0x17,
  SECURE_VERSION: 0x18,
  AUTH_FAILED: 0x19,
  INVALID_IMAGE: 0x1a,
  INCOMPLETE: 0x1b,
  FLASH_ERROR: 0x1c,
  NO_SESSION: 0x1d,
  BAD_STATE: 0x1e,
  ABORTED: 0x1f,
  UNSUPPORTED: 0x20,
  BAD_REQUEST: 0x21,
  NO_PENDING: 0x22,
} as const;
export type StatusName = keyof typeof STATUS;

/** BEGIN.flags bits (SPEC §4.4). */
export const BEGIN_FLAGS = { ALLOW_DOWNGRADE: 1, FRESH: 2 } as const;
/** END.flags bits (SPEC §4.7). */
export const END_FLAGS = { REBOOT: 1 } as const;
/** HELLO_ACK.flags bits (SPEC §4.2). */
export const HELLO_FLAGS = {
  ROLLBACK: 1,
  ANTI_ROLLBACK: 2,
  PENDING_VERIFY: 4,
  RESUMABLE: 8,
  IRAM_ISR: 16,
  /** DATA frames may carry several chunks (SPEC §4.5). */
  MULTI_CHUNK: 32,
  /** No session; resume_* name the image installed since the last reset, which still boots (SPEC §4.2). */
  INSTALLED: 64,
} as const;
/** otadata state of a slot, PartInfo.state (SPEC §4.2; ESP-IDF esp_ota_img_states_t order). */
export const OTA_STATE = {
  NEW: 0,
  PENDING_VERIFY: 1,
  VALID: 2,
  INVALID: 3,
  ABORTED: 4,
  UNDEFINED: 0xff,
} as const;
