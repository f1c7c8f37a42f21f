/*
 * otarx.h: public API of the ota-uart device-side receiver (protocol/SPEC.md, version 1).
 *
 * The caller owns an otarx_ctx_t (no malloc, no globals), fills an otarx_ops_t table with its
 * platform functions, calls otarx_init() once, then hands every received UART byte to
 * otarx_feed() and calls otarx_poll() now and then (every 10..100 ms) for timeouts.
 * Replies are written synchronously through ops->uart_write from inside feed/poll, and flash
 * work happens there too: one thread drives a context.
 * Depends on mbedtls (2.28 or 3.x) for RSA/ECDH/GCM/SHA-256; mbedtls may allocate internally
 * (RSA and ECP temporaries); the receiver itself never does.
 */
#ifndef OTARX_H
#define OTARX_H

#include <stddef.h>
#include <stdint.h>

#include "otarx_config.h"
#include "otarx_err.h"
#include "mbedtls/gcm.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* HELLO_ACK flag bits (SPEC §4.2). */
#define OTARX_DEV_ROLLBACK 0x01u      /**< rollback enabled (otadata NEW / PENDING_VERIFY in use) */
#define OTARX_DEV_ANTI_ROLLBACK 0x02u /**< anti-rollback: secure_version checked against eFuse */
#define OTARX_DEV_PENDING 0x04u       /**< running app is PENDING_VERIFY */
#define OTARX_DEV_RESUMABLE 0x08u     /**< set by the library, not the port */
#define OTARX_DEV_IRAM_UART 0x10u     /**< UART input survives flash work: credit is granted freely */
#define OTARX_DEV_MULTI_CHUNK 0x20u   /**< DATA may carry several chunks; set by the library */
#define OTARX_DEV_INSTALLED 0x40u     /**< resume_* name the image installed last; set by the library */

/* otadata states (esp-formats §4.1) as reported in HELLO_ACK parts[].state. */
#define OTARX_STATE_NEW 0u
#define OTARX_STATE_PENDING 1u
#define OTARX_STATE_VALID 2u
#define OTARX_STATE_INVALID 3u
#define OTARX_STATE_ABORTED 4u
#define OTARX_STATE_NONE 0xFFu

#define OTARX_PART_NONE 0xFFu

/** Device identity and boot state, filled by ops->get_info (called for HELLO, BEGIN, BAUD). */
typedef struct {
    uint16_t chip_id;              /**< ESP image chip id (ESP32 = 0) */
    uint16_t chip_rev;             /**< major*100 + minor */
    uint8_t flags;                 /**< OTARX_DEV_* (RESUMABLE is ignored) */
    uint32_t efuse_secure_version; /**< anti-rollback counter */
    uint32_t max_baud;             /**< highest rate accepted in BAUD; 0 = no switching */
    uint32_t baud;                 /**< rate the UART runs at now (for the BAUD fallback) */
    uint8_t nparts;                /**< app partitions, <= OTARX_MAX_PARTS */
    uint8_t running;               /**< index of the running app (OTARX_PART_NONE: unknown) */
    uint8_t boot;                  /**< index of the app the bootloader starts at the next
                                        reset: while the running app is still PENDING_VERIFY,
                                        the previous app, not the pending one (SPEC §4.2) */
    uint8_t target;                /**< index an update goes to, OTARX_PART_NONE if none; never
                                        the running slot nor the boot slot (SPEC §6.1) */
} otarx_dev_info_t;

/** One app partition, filled by ops->get_part. */
typedef struct {
    uint8_t subtype;         /**< 0x00 factory, 0x10 + k ota_k */
    uint8_t state;           /**< OTARX_STATE_* of its otadata entry, OTARX_STATE_NONE */
    uint8_t valid;           /**< 1 if it holds an app that verified */
    uint32_t offset;         /**< flash offset */
    uint32_t size;           /**< bytes */
    uint32_t secure_version; /**< of the app in it (0 if none) */
    char version[32];        /**< of the app in it, NUL-padded ("" if none) */
    char project[32];        /**< project name of the app in it */
} otarx_part_t;

/** Durable resume record (SPEC §7): image id prefix and a file offset 512 + 16k. */
typedef struct {
    uint8_t image_id[20];
    uint32_t offset;
} otarx_record_t;

/** Kinds of flash work, for ops->work_ms. */
typedef enum {
    OTARX_WORK_ERASE = 0,  /**< erasing `bytes` of flash (64 KiB blocks where aligned) */
    OTARX_WORK_WRITE = 1,  /**< programming `bytes` */
    OTARX_WORK_READ = 2,   /**< reading back and hashing/encrypting `bytes` (verify, resume) */
    OTARX_WORK_UNWRAP = 3  /**< the key unwrap (bytes = 0) */
} otarx_work_t;

/**
 * Platform table. Every function returns OTARX_OK or an otarx_err_t unless noted; `user` is
 * otarx_init's user pointer. Flash offsets are relative to the start of app partition `part`
 * (always the update target when the library writes). Optional entries may be NULL.
 */
typedef struct {
    /** Write all `len` bytes to the host (blocking or queued). Required. */
    int (*uart_write)(void *user, const uint8_t *buf, size_t len);
    /** Monotonic milliseconds. Required. */
    uint32_t (*now_ms)(void *user);
    /** Fill `buf` with random bytes (RSA/ECDH blinding). Required. */
    int (*random)(void *user, uint8_t *buf, size_t len);
    /** Required. */
    int (*get_info)(void *user, otarx_dev_info_t *info);
    /** Required. */
    int (*get_part)(void *user, uint8_t index, otarx_part_t *part);
    /** Erase [off, off+len) of partition `part`; off and len are multiples of 4096. Required. */
    int (*flash_erase)(void *user, uint8_t part, uint32_t off, uint32_t len);
    /** Required. */
    int (*flash_write)(void *user, uint8_t part, uint32_t off, const uint8_t *buf, size_t len);
    /** Required. */
    int (*flash_read)(void *user, uint8_t part, uint32_t off, uint8_t *buf, size_t len);
    /** Make partition `part` boot next (esp_ota_set_boot_partition semantics: NEW state with
     *  rollback, the ESP-IDF sequence rule). The image was verified by the library. Required. */
    int (*set_boot)(void *user, uint8_t part);
    /** Mark the running app valid; OTARX_NO_PENDING if it was not pending (optional:
     *  NULL answers UNSUPPORTED). */
    int (*confirm)(void *user);
    /** Mark the running app invalid; OTARX_NO_PENDING / OTARX_BAD_STATE. The reset happens
     *  afterwards through ops->reboot (optional). */
    int (*rollback)(void *user);
    /** Reset the device after draining the UART (optional; on a chip it does not return; a
     *  host port that returns has "rebooted" in place and the library starts afresh). */
    void (*reboot)(void *user);
    /** Switch the UART to `baud` after draining pending output (optional: no BAUD). */
    int (*set_baud)(void *user, uint32_t baud);
    /** Milliseconds `bytes` of `work` will take (optional; NULL: ESP32 flash typicals). Used to
     *  announce BUSY (SPEC §6.3). */
    uint32_t (*work_ms)(void *user, otarx_work_t work, uint32_t bytes);
    /** Load the durable record: OTARX_OK, or OTARX_NO_SESSION if there is none (optional). */
    int (*record_load)(void *user, otarx_record_t *rec);
    /** Store the record, or erase it when `rec` is NULL (optional). */
    int (*record_store)(void *user, const otarx_record_t *rec);
    /** Log a NUL-terminated message (optional); level 1 error .. 4 debug. */
    void (*log)(void *user, int level, const char *msg);
} otarx_ops_t;

/** Frame-layer counters (SPEC §2.3), with the meaning of src/protocol/decoder.ts. */
typedef struct {
    uint32_t frames;      /**< frames with a good CRC and version 1 */
    uint32_t too_long;
    uint32_t bad_cobs;
    uint32_t too_short;
    uint32_t bad_crc;
    uint32_t bad_version;
    uint32_t bad_payload; /**< good CRC, payload not valid for its type (answered BAD_REQUEST) */
    uint32_t noise_bytes; /**< non-delimiter bytes that did not end up in a delivered frame */
} otarx_frame_stats_t;

/** Session counters. */
typedef struct {
    uint32_t data_frames;
    uint32_t consumed;      /**< chunks decrypted in order */
    uint32_t duplicates;
    uint32_t out_of_order;
    uint32_t bad_data;      /**< DATA answered BAD_REQUEST */
    uint32_t acks;
    uint32_t busy;          /**< ACK(BUSY) announcements */
    uint32_t sessions;      /**< BEGINs accepted */
    uint32_t resumes;       /**< of which resumed (RAM or durable record) */
    uint32_t results_ok;
    uint32_t records;       /**< durable records written */
} otarx_session_stats_t;

/** The device key: exactly one of rsa_pem / hmac_key. */
typedef struct {
    const uint8_t *rsa_pem;    /**< RSA-3072 private key, PEM (or DER) */
    size_t rsa_pem_len;        /**< PEM: length including the trailing NUL (mbedtls rule) */
    const uint8_t *hmac_key;   /**< 32-byte ECIES device HMAC key (esp-formats §1.3) */
} otarx_key_t;

/** Runtime limits (within the compile-time buffers). Zero fields take the defaults. */
typedef struct {
    uint16_t max_frame;       /**< largest frame body accepted, [640, OTARX_MAX_FRAME] */
    uint32_t window;          /**< receive window in bytes, multiple of 16, <= OTARX_WINDOW */
    uint32_t record_interval; /**< store the durable record after this many plaintext bytes
                                   (default and maximum OTARX_DURABLE_INTERVAL; 1: after every
                                   write) */
} otarx_limits_t;

/* Internal decoder state; members are private (leading underscore). */
typedef struct {
    uint8_t _discard;     /* an over-long run is being dropped up to the next delimiter */
    uint8_t _code;        /* current COBS code byte (0: none yet) */
    uint8_t _left;        /* data bytes left in the current COBS block */
    uint16_t _max;        /* max_frame */
    uint16_t _len;        /* decoded bytes (may exceed _max; only _max are stored) */
    uint16_t _enc;        /* encoded bytes of this candidate */
    uint8_t _buf[OTARX_MAX_FRAME];
} otarx_decoder_t;

typedef struct {
    mbedtls_gcm_context _gcm;
    uint8_t _key[32];
    uint8_t _iv[16];
    uint8_t _tag[16];      /* from the header */
    uint8_t _calc[16];     /* computed when the last ciphertext byte was decrypted */
    uint8_t _bounce[OTARX_CRYPT_BOUNCE]; /* GCM output (hardware GCM forbids in place) */
    uint8_t _active;
    uint8_t _done;
} otarx_crypt_t;

/** Receiver context: caller-allocated, opaque; see otarx_init. */
typedef struct {
    const otarx_ops_t *_ops;
    void *_user;
    uint32_t _window;
    uint32_t _rec_interval;
    otarx_decoder_t _rx;
    otarx_frame_stats_t _fstats;
    otarx_session_stats_t _sstats;
    /* key material */
    uint8_t _key_kind;     /* 1 RSA, 2 ECIES */
    mbedtls_pk_context _pk;
    uint8_t _ecc_d[32];
    /* baud switch */
    uint8_t _baud_pending;
    uint32_t _old_baud;
    uint32_t _baud_at;
    /* session */
    uint8_t _active;       /* a session exists */
    uint8_t _refused;      /* the key of the last BEGIN's new session failed to unwrap after its
                              BEGIN_ACK: DATA and END get this status until BEGIN/ABORT/reset */
    uint8_t _batch;        /* credit planned around flash work (non-IRAM UART, SPEC §6.3) */
    uint8_t _flags;        /* BEGIN flags */
    uint8_t _target;
    uint8_t _checked;      /* early checks passed */
    uint8_t _nslots;       /* window in chunks (<= OTARX_MAX_CREDIT_CHUNKS) */
    uint16_t _chunk;
    uint32_t _total;       /* file length */
    uint32_t _grid;        /* BEGIN_ACK next_offset: DATA offsets are _grid + k * _chunk */
    uint32_t _next;        /* next_offset: every file byte below it was decrypted */
    uint32_t _credit;      /* credit_end */
    uint64_t _held;        /* bit i: chunk at _next + (i+1)*_chunk is held in _win (ACK.sack:
                              the low 32 bits) */
    uint32_t _batch_start; /* batch mode: file offset of _win[0] */
    uint32_t _wr;          /* plaintext bytes written to the target */
    uint32_t _erased;      /* plaintext bytes of the target erased from 0 */
    uint32_t _recorded;    /* plaintext offset of the last durable record */
    uint8_t _image_id[32];
    /* the image the last successful END installed, until a BEGIN is accepted or a reset (SPEC
     * §4.2 bit6: a host that died after END learns the outcome); RAM only */
    uint8_t _installed;
    uint8_t _installed_slot;
    uint32_t _installed_total;
    uint8_t _installed_digest[32]; /* SHA-256 of the whole file */
    /* that digest while the session runs (digest.c); off after a resume from the record */
    uint8_t _digesting;
    mbedtls_md_context_t _digest;
    uint8_t _head[OTARX_APP_PREFIX];
    otarx_crypt_t _crypt;
    uint8_t _tx[OTARX_TX_MAX];
    uint8_t _win[OTARX_WINDOW];
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    uint8_t _fuzz_wrapped[384], _fuzz_key[32], _fuzz_unwrap_ok; /* see crypt.c */
#endif
} otarx_ctx_t;

/**
 * Initialise `ctx`: parse or derive the device key. `ops` must outlive ctx; `limits` may be NULL.
 * Returns OTARX_OK, OTARX_ERR_ARG (missing required op, key or bad limits), OTARX_ERR_KEY
 * (unparsable key, not RSA-3072, or an HMAC key that gives no valid P-256 scalar).
 */
int otarx_init(otarx_ctx_t *ctx, const otarx_ops_t *ops, void *user, const otarx_key_t *key,
               const otarx_limits_t *limits);

/** Free mbedtls state held by ctx and wipe key material. ctx may be re-initialised afterwards. */
void otarx_deinit(otarx_ctx_t *ctx);

/** Feed received bytes (any split). Handles complete frames and sends replies. */
void otarx_feed(otarx_ctx_t *ctx, const uint8_t *buf, size_t len);

/** Timeouts (baud fallback). `now` is ops->now_ms() time. */
void otarx_poll(otarx_ctx_t *ctx, uint32_t now);

/** Forget everything that does not survive a reset (session in RAM, half frame, baud switch);
 *  the durable record stays. For ports whose reboot returns. */
void otarx_reset(otarx_ctx_t *ctx);

/** Counters, for diagnostics. */
const otarx_frame_stats_t *otarx_frame_stats(const otarx_ctx_t *ctx);
const otarx_session_stats_t *otarx_session_stats(const otarx_ctx_t *ctx);

/** 1 while a session is open (BEGIN accepted, no RESULT yet). */
int otarx_session_active(const otarx_ctx_t *ctx);
/** next_offset of the open session (0 if none). */
uint32_t otarx_session_offset(const otarx_ctx_t *ctx);

/** What otarx_image_verify learned about a valid app. */
typedef struct {
    uint32_t image_len;      /**< header .. appended SHA-256 */
    uint32_t secure_version;
    char version[32];        /**< NUL-padded, may fill all 32 bytes */
    char project[32];
    uint32_t detail;         /**< on OTARX_INVALID_IMAGE: offset of the first failed check */
} otarx_image_info_t;

/**
 * Verify the app in the first `len` bytes of partition `part` like esp_image_verify (app mode,
 * no secure-boot signature): magic, chip id, revision range (skipped for chip_rev 0xFFFF),
 * segments, app description magic, checksum, appended SHA-256. Reads through ops->flash_read
 * into `scratch` (>= 80 bytes; larger is faster). Returns OTARX_OK, OTARX_INVALID_IMAGE
 * (info->detail) or OTARX_FLASH_ERROR. Usable without an otarx_ctx_t (ports use it to report
 * slots).
 */
int otarx_image_verify(const otarx_ops_t *ops, void *user, uint8_t part, uint32_t len,
                       uint16_t chip_id, uint16_t chip_rev, uint8_t *scratch,
                       size_t scratch_len, otarx_image_info_t *info);

/** Protocol CRC-32 (SPEC §2.1); continue with crc = previous result, start with 0. */
uint32_t otarx_crc32(uint32_t crc, const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* OTARX_H */
