/*
 * otarx_priv.h: internal declarations shared by the receiver's modules (not installed).
 * Every internal function that can fail returns int (OTARX_OK or an otarx_err_t) and is marked
 * OTARX_CHECK so an ignored failure is a compile error under -Werror.
 */
#ifndef OTARX_PRIV_H
#define OTARX_PRIV_H

#include <stdint.h>
#include <string.h>

#include "otarx.h"

#if defined(__GNUC__) || defined(__clang__)
#define OTARX_CHECK __attribute__((warn_unused_result))
#define OTARX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OTARX_CHECK
#define OTARX_PRINTF(f, a)
#endif

/** Return the error of `expr` if it is not OTARX_OK. */
#define OTARX_TRY(expr)                  \
    do {                                 \
        int otarx_rc_ = (expr);          \
        if (otarx_rc_ != OTARX_OK) {     \
            return otarx_rc_;            \
        }                                \
    } while (0)

/* message types (SPEC §4) */
enum {
    OTARX_T_HELLO = 0x01, OTARX_T_BAUD = 0x02, OTARX_T_BEGIN = 0x03, OTARX_T_DATA = 0x04,
    OTARX_T_END = 0x05, OTARX_T_ABORT = 0x06, OTARX_T_CONFIRM = 0x07, OTARX_T_ROLLBACK = 0x08,
    OTARX_T_PING = 0x09, OTARX_T_REBOOT = 0x0A, OTARX_T_REPLY = 0x80
};

#define OTARX_BEGIN_ALLOW_DOWNGRADE 0x01u
#define OTARX_BEGIN_FRESH 0x02u
#define OTARX_END_REBOOT 0x01u
#define OTARX_HELLO_MAGIC "OTAU"

/* payload sizes (SPEC §4) */
#define OTARX_BEGIN_LEN (1u + 2u + 4u + OTARX_HEADER_SIZE)
#define OTARX_BEGIN_ACK_LEN 14u
#define OTARX_ACK_LEN 15u
#define OTARX_RESULT_LEN 42u

/* esp_encrypted_img header fields (esp-formats §1.2) */
#define OTARX_HDR_MAGIC 0x0788B6CFu
#define OTARX_HDR_IV 388u
#define OTARX_HDR_BIN_SIZE 404u
#define OTARX_HDR_TAG 408u

static inline uint16_t otarx_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t otarx_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void otarx_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void otarx_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t otarx_min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* frame.c */
void otarx_decoder_init(otarx_decoder_t *dec, uint16_t max_frame);
/** Drop a half-received candidate (its bytes count as noise). */
void otarx_decoder_reset(otarx_decoder_t *dec, otarx_frame_stats_t *st);
/** Feed one byte; returns the body length when a frame with a good CRC (any version) completed
 *  (the body is in dec->_buf), else 0. */
size_t otarx_decoder_byte(otarx_decoder_t *dec, otarx_frame_stats_t *st, uint8_t b);
/** Send a frame: ver 1, `type`, payload (already in ctx->_tx + 2), CRC, COBS, delimiters. */
OTARX_CHECK int otarx_send(otarx_ctx_t *ctx, uint8_t type, size_t payload_len);
/** COBS-encode body into out (size >= OTARX_COBS_MAX(len)); returns encoded length. */
size_t otarx_cobs_encode(const uint8_t *body, size_t len, uint8_t *out);
/** COBS-decode (no delimiters); returns decoded length or (size_t)-1 when malformed. */
size_t otarx_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* core.c */
void otarx_logf(otarx_ctx_t *ctx, int level, const char *fmt, ...) OTARX_PRINTF(3, 4);
#define OTARX_LOGE(c, ...) do { if (OTARX_LOG_LEVEL >= 1) otarx_logf((c), 1, __VA_ARGS__); } while (0)
#define OTARX_LOGW(c, ...) do { if (OTARX_LOG_LEVEL >= 2) otarx_logf((c), 2, __VA_ARGS__); } while (0)
#define OTARX_LOGI(c, ...) do { if (OTARX_LOG_LEVEL >= 3) otarx_logf((c), 3, __VA_ARGS__); } while (0)
#define OTARX_LOGD(c, ...) do { if (OTARX_LOG_LEVEL >= 4) otarx_logf((c), 4, __VA_ARGS__); } while (0)
/** Send a reply whose payload is just a status byte. */
void otarx_reply_status(otarx_ctx_t *ctx, uint8_t type, uint8_t status);

/* version.c: compare app versions (SPEC §4.6). Returns 1 if `cand` may replace `running`
 * without ALLOW_DOWNGRADE, 0 if it is the same or older. */
/* Sign of a - b (-1, 0, 1) by SPEC §4.6's comparison, or OTARX_VERSION_UNORDERED when the two are
 * not comparable and differ (which the device accepts). */
#define OTARX_VERSION_UNORDERED 2
int otarx_version_cmp(const char *a, size_t a_len, const char *b, size_t b_len);
int otarx_version_newer(const char *cand, size_t cand_len, const char *running, size_t run_len);

/* crypt.c */
OTARX_CHECK int otarx_key_init(otarx_ctx_t *ctx, const otarx_key_t *key);
void otarx_key_free(otarx_ctx_t *ctx);
/** Unwrap the AES key of `header` (512 bytes) and start GCM decryption. OTARX_WRONG_KEY. */
OTARX_CHECK int otarx_crypt_begin(otarx_ctx_t *ctx, const uint8_t *header);
/** Decrypt in place; len is a multiple of 16 unless `last` (the final ciphertext bytes). */
OTARX_CHECK int otarx_crypt_update(otarx_ctx_t *ctx, uint8_t *buf, size_t len, int last);
/** Rebuild the GCM state after a reset from the first `plain_len` (multiple of 16) plaintext
 *  bytes of partition `part` (SPEC §7); also refills ctx->_head. OTARX_FLASH_ERROR if a read
 *  fails. */
OTARX_CHECK int otarx_crypt_rebuild(otarx_ctx_t *ctx, uint8_t part, uint32_t plain_len,
                                    uint8_t *scratch, size_t scratch_len);
/** Check the tag in constant time: OTARX_OK or OTARX_AUTH_FAILED. Ends the decryption. */
OTARX_CHECK int otarx_crypt_finish(otarx_ctx_t *ctx);
void otarx_crypt_end(otarx_ctx_t *ctx);
/** SHA-256 of `len` bytes. */
OTARX_CHECK int otarx_sha256(const uint8_t *buf, size_t len, uint8_t out[32]);

/* digest.c: SHA-256 of the whole file for SPEC §4.2 bit6 (best effort: a failure stops it) */
void otarx_digest_start(otarx_ctx_t *ctx, const uint8_t *hdr);
void otarx_digest_update(otarx_ctx_t *ctx, const uint8_t *ct, size_t len);
int otarx_digest_finish(otarx_ctx_t *ctx, uint8_t out[32]); /* 1 if out holds the digest */
void otarx_digest_stop(otarx_ctx_t *ctx);

/* appimg.c */
/** Early checks on the first 288 plaintext bytes (SPEC §4.6) against the device and the running
 *  app; `allow_downgrade` is the BEGIN flag; *detail is the refusal's detail (SPEC §4.6). */
OTARX_CHECK int otarx_app_early_check(otarx_ctx_t *ctx, const uint8_t *head, size_t head_len,
                                      int allow_downgrade, uint32_t *detail);

/* sink.c: plaintext to flash */
/** Plaintext [pos, pos+n) arrived in order: keep the head, run the early checks once 288 bytes
 *  (or the whole image) exist. */
OTARX_CHECK int otarx_sink_plain(otarx_ctx_t *ctx, uint32_t pos, const uint8_t *p, size_t n,
                                 uint32_t *detail);
/** Write plaintext [pos, pos+n) once the checks passed (erasing ahead, writing held-back head
 *  bytes first, storing the durable record when due). */
OTARX_CHECK int otarx_sink_write(otarx_ctx_t *ctx, uint32_t pos, const uint8_t *p, size_t n);
/** Milliseconds otarx_sink_write(pos, n) will take. */
uint32_t otarx_write_ms(otarx_ctx_t *ctx, uint32_t pos, uint32_t n);
/** Resume after a reset at plaintext offset `plain` (clean up the sector after it); buf holds a
 *  sector. */
OTARX_CHECK int otarx_sink_resume(otarx_ctx_t *ctx, uint32_t plain, uint8_t *buf);
/** Milliseconds of work, from ops->work_ms or ESP32 typicals. */
uint32_t otarx_work_ms(otarx_ctx_t *ctx, otarx_work_t work, uint32_t bytes);
/** ACK(BUSY, ms) if `ms` is worth announcing. */
void otarx_announce(otarx_ctx_t *ctx, uint32_t ms);
/** Store the durable record at plaintext offset `plain` (0: forget it). */
OTARX_CHECK int otarx_record_at(otarx_ctx_t *ctx, uint32_t plain);
/** Forget the durable record. */
void otarx_record_forget(otarx_ctx_t *ctx);

/* begin.c, session.c */
void otarx_on_begin(otarx_ctx_t *ctx, const uint8_t *p, size_t n);
void otarx_on_data(otarx_ctx_t *ctx, uint8_t *p, size_t n);
void otarx_on_end(otarx_ctx_t *ctx, const uint8_t *p, size_t n);
/** Send ACK(status, next, credit, sack, busy_ms) for the current session (zeros if none). */
void otarx_send_ack(otarx_ctx_t *ctx, uint8_t status, uint16_t busy_ms);
/** Drop the session and (if `forget`) its durable record. */
void otarx_session_drop(otarx_ctx_t *ctx, int forget);
/** min(total, next + nslots * chunk). */
uint32_t otarx_window_end(const otarx_ctx_t *ctx);
/** Batch mode: write the plaintext of [_batch_start, _next) held in _win. */
OTARX_CHECK int otarx_flush_batch(otarx_ctx_t *ctx);

/* hello.c */
OTARX_CHECK int otarx_send_hello_ack(otarx_ctx_t *ctx);

#endif /* OTARX_PRIV_H */
