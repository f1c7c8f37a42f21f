/*
 * otarx.h: public API of the ota-uart device-side receiver (protocol/SPEC.md, version 1).
 *
 * The caller owns an otarx_ctx_t (no malloc, no globals), fills an otarx_ops_t table with its
 * platform functions, calls otarx_init() once, then hands every received UART byte to
 * otarx_feed() and calls otarx_poll() now and then (every 10..100 ms) for timeouts.
 * Replies are written synchronously through ops->uart_write from inside feed/poll.
 * Depends on mbedtls (2.28 or 3.x) for RSA/ECDH/GCM/SHA-256; mbedtls may allocate internally.
 */
#ifndef OTARX_H
#define OTARX_H

#include <stddef.h>
#include <stdint.h>

#include "otarx_config.h"
#include "otarx_err.h"
#include "mbedtls/gcm.h"
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

/* otadata states (esp-formats §4.1) as reported in HELLO_ACK parts[].state. */
#define OTARX_STATE_NEW 0u
#define OTARX_STATE_PENDING 1u
#define OTARX_STATE_VALID 2u
#define OTARX_STATE_INVALID 3u
#define OTARX_STATE_ABORTED 4u
#define OTARX_STATE_NONE 0xFFu

#define OTARX_PART_NONE 0xFFu

/** Device identity and boot state, filled by ops->get_info. */
typedef struct {
    uint16_t chip_id;              /**< ESP image chip id (ESP32 = 0) */
    uint16_t chip_rev;             /**< major*100 + minor */
    uint8_t flags;                 /**< OTARX_DEV_* (RESUMABLE is ignored) */
    uint32_t efuse_secure_version; /**< anti-rollback counter */
    uint32_t max_baud;             /**< highest rate accepted in BAUD; 0 = no switching */
    uint8_t nparts;                /**< app partitions, <= OTARX_MAX_PARTS */
    uint8_t running;               /**< index of the running app */
    uint8_t boot;                  /**< index otadata selects for the next boot */
    uint8_t target;                /**< index an update goes to, OTARX_PART_NONE if none */
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

/**
 * Platform table. Every function returns OTARX_OK or a negative otarx_err_t unless noted;
 * `user` is otarx_init's user pointer. Flash offsets are relative to the start of partition
 * `part` (always the update target). Optional entries may be NULL.
 */
typedef struct {
    /** Write all `len` bytes to the host (blocking or queued). */
    int (*uart_write)(void *user, const uint8_t *buf, size_t len);
    /** Monotonic milliseconds. */
    uint32_t (*now_ms)(void *user);
    /** Fill `buf` with random bytes (RSA/ECDH blinding). */
    int (*random)(void *user, uint8_t *buf, size_t len);
    int (*get_info)(void *user, otarx_dev_info_t *info);
    int (*get_part)(void *user, uint8_t index, otarx_part_t *part);
    /** Erase [off, off+len) of partition `part`; off and len are multiples of 4096. */
    int (*flash_erase)(void *user, uint8_t part, uint32_t off, uint32_t len);
    int (*flash_write)(void *user, uint8_t part, uint32_t off, const uint8_t *buf, size_t len);
    int (*flash_read)(void *user, uint8_t part, uint32_t off, uint8_t *buf, size_t len);
    /** Make partition `part` boot next (esp_ota_set_boot_partition semantics: NEW state with
     *  rollback, the ESP-IDF sequence rule). The image was verified by the library. */
    int (*set_boot)(void *user, uint8_t part);
    /** Mark the running app valid; OTARX_NO_PENDING if it was not pending. */
    int (*confirm)(void *user);
    /** Mark the running app invalid; OTARX_NO_PENDING / OTARX_BAD_STATE. Reset happens later
     *  through ops->reboot. */
    int (*rollback)(void *user);
    /** Reset the device after draining the UART (optional; not expected to return on a chip). */
    void (*reboot)(void *user);
    /** Switch the UART to `baud` after draining pending output (optional). */
    int (*set_baud)(void *user, uint32_t baud);
    /** Load the durable record: OTARX_OK, or OTARX_NO_SESSION if there is none (optional). */
    int (*record_load)(void *user, otarx_record_t *rec);
    /** Store the record, or erase it when `rec` is NULL (optional). */
    int (*record_store)(void *user, const otarx_record_t *rec);
    /** Log a NUL-terminated message (optional); level 1 error .. 4 debug. */
    void (*log)(void *user, int level, const char *msg);
} otarx_ops_t;

/** Frame-layer counters (SPEC §2.3). */
typedef struct {
    uint32_t frames;      /**< frames with a good CRC */
    uint32_t too_long;
    uint32_t bad_cobs;
    uint32_t too_short;
    uint32_t bad_crc;
    uint32_t bad_version;
    uint32_t bad_payload;
    uint32_t noise_bytes;
} otarx_frame_stats_t;

/** Session counters. */
typedef struct {
    uint32_t data_frames;
    uint32_t duplicates;
    uint32_t out_of_order;
    uint32_t bad_data;      /**< DATA answered BAD_REQUEST */
    uint32_t acks;
    uint32_t sessions;      /**< BEGINs accepted */
    uint32_t resumes;       /**< of which resumed */
    uint32_t results_ok;
} otarx_session_stats_t;

/** The device key: exactly one of rsa_pem / hmac_key. */
typedef struct {
    const uint8_t *rsa_pem;    /**< RSA-3072 private key, PEM (or DER) */
    size_t rsa_pem_len;        /**< length, without or with the trailing NUL */
    const uint8_t *hmac_key;   /**< 32-byte ECIES device HMAC key (esp-formats §1.3) */
} otarx_key_t;

/* Internal decoder state; members are private (leading underscore). */
typedef struct {
    uint8_t _state;       /* 0 hunting, 1 in frame, 2 discarding */
    uint8_t _code;        /* current COBS code byte */
    uint8_t _left;        /* bytes left in the current COBS block */
    uint16_t _len;        /* decoded bytes */
    uint16_t _enc;        /* encoded bytes seen in this candidate */
    uint8_t _buf[OTARX_MAX_FRAME];
} otarx_decoder_t;

typedef struct {
    mbedtls_gcm_context _gcm;
    uint8_t _key[32];
    uint8_t _iv[16];
    uint8_t _tag[16];
    uint8_t _active;
} otarx_crypt_t;

/** Receiver context: caller-allocated, opaque; see otarx_init. */
typedef struct {
    const otarx_ops_t *_ops;
    void *_user;
    otarx_decoder_t _rx;
    otarx_frame_stats_t _fstats;
    otarx_session_stats_t _sstats;
    /* key material */
    uint8_t _key_kind;     /* 1 RSA, 2 ECIES */
    mbedtls_pk_context _pk;
    uint8_t _ecc_d[32];
    /* session */
    uint8_t _active;       /* a session exists */
    uint8_t _batch;        /* credit planning for a non-IRAM UART (SPEC §6.3) */
    uint8_t _flags;        /* BEGIN flags */
    uint8_t _target;
    uint8_t _checked;      /* early checks passed */
    uint8_t _nslots;
    uint16_t _chunk;
    uint32_t _total;
    uint32_t _part_size;
    uint32_t _grid;        /* offset of the slot grid (BEGIN_ACK next_offset) */
    uint32_t _next;        /* next_offset: received in order */
    uint32_t _dec;         /* decrypted and written up to (file offset) */
    uint32_t _credit;      /* credit_end */
    uint32_t _sack;        /* held chunk bitmap relative to _next (bit i: next + (i+1)*chunk) */
    uint32_t _erased;      /* plaintext bytes of the target erased from 0 */
    uint32_t _recorded;    /* offset of the last durable record */
    uint8_t _image_id[32];
    uint8_t _head[OTARX_APP_PREFIX];
    otarx_crypt_t _crypt;
    /* baud switch */
    uint32_t _old_baud;
    uint32_t _baud_at;
    uint8_t _baud_pending;
    uint8_t _tx[OTARX_TX_MAX];
    uint8_t _win[OTARX_WINDOW];
} otarx_ctx_t;

/**
 * Initialise `ctx`: parse or derive the device key, load nothing else. `ops` must outlive ctx.
 * Returns OTARX_OK, OTARX_ERR_ARG (missing required op or key), OTARX_ERR_KEY (unparsable key).
 */
int otarx_init(otarx_ctx_t *ctx, const otarx_ops_t *ops, void *user, const otarx_key_t *key);

/** Free mbedtls state held by ctx. ctx may be re-initialised afterwards. */
void otarx_deinit(otarx_ctx_t *ctx);

/** Feed received bytes (any split). Handles complete frames and sends replies. */
void otarx_feed(otarx_ctx_t *ctx, const uint8_t *buf, size_t len);

/** Timeouts (baud fallback). `now` is ops->now_ms() time. */
void otarx_poll(otarx_ctx_t *ctx, uint32_t now);

/** Counters, for diagnostics. */
const otarx_frame_stats_t *otarx_frame_stats(const otarx_ctx_t *ctx);
const otarx_session_stats_t *otarx_session_stats(const otarx_ctx_t *ctx);

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
 * into `scratch` (>= 64 bytes). Returns OTARX_OK, OTARX_INVALID_IMAGE (info->detail) or
 * OTARX_FLASH_ERROR. Usable without an otarx_ctx_t (ports use it to report slots).
 */
int otarx_image_verify(const otarx_ops_t *ops, void *user, uint8_t part, uint32_t len,
                       uint16_t chip_id, uint16_t chip_rev, uint8_t *scratch,
                       size_t scratch_len, otarx_image_info_t *info);

/** 1 while a session is open (BEGIN accepted, no RESULT yet). */
int otarx_session_active(const otarx_ctx_t *ctx);

#ifdef __cplusplus
}
#endif

#endif /* OTARX_H */
