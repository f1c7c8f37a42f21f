/*
 * core.c: the receiver's entry points (init, feed, poll) and the dispatch of frames to their
 * handlers; the small requests (HELLO, BAUD, PING, ABORT, CONFIRM, ROLLBACK, REBOOT) are handled
 * here, the session (BEGIN, DATA, END) in session.c.
 */
#include <stdarg.h>
#include <stdio.h>

#include "otarx_priv.h"

void otarx_logf(otarx_ctx_t *ctx, int level, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    if (ctx->_ops->log == NULL) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->_ops->log(ctx->_user, level, msg);
}

void otarx_reply_status(otarx_ctx_t *ctx, uint8_t type, uint8_t status)
{
    ctx->_tx[2] = status;
    if (otarx_send(ctx, type, 1) != OTARX_OK) {
        OTARX_LOGW(ctx, "uart write failed");
    }
}

/* status + one u8 (CONFIRM_ACK, ROLLBACK_ACK) or + one u32 (BAUD_ACK, PONG) */
static void reply_u8(otarx_ctx_t *ctx, uint8_t type, uint8_t status, uint8_t v)
{
    ctx->_tx[2] = status;
    ctx->_tx[3] = v;
    if (otarx_send(ctx, type, 2) != OTARX_OK) {
        OTARX_LOGW(ctx, "uart write failed");
    }
}

static void reply_u32(otarx_ctx_t *ctx, uint8_t type, uint8_t status, uint32_t v)
{
    ctx->_tx[2] = status;
    otarx_put32(&ctx->_tx[3], v);
    if (otarx_send(ctx, type, 5) != OTARX_OK) {
        OTARX_LOGW(ctx, "uart write failed");
    }
}

int otarx_init(otarx_ctx_t *ctx, const otarx_ops_t *ops, void *user, const otarx_key_t *key,
               const otarx_limits_t *limits)
{
    uint32_t max_frame = OTARX_MAX_FRAME, window = OTARX_WINDOW;
    uint32_t rec_interval = OTARX_DURABLE_INTERVAL;
    int rc;
    if (ctx == NULL || ops == NULL || key == NULL || ops->uart_write == NULL ||
        ops->now_ms == NULL || ops->random == NULL || ops->get_info == NULL ||
        ops->get_part == NULL || ops->flash_erase == NULL || ops->flash_write == NULL ||
        ops->flash_read == NULL || ops->set_boot == NULL) {
        return OTARX_ERR_ARG;
    }
    if (limits != NULL) {
        max_frame = limits->max_frame != 0 ? limits->max_frame : max_frame;
        window = limits->window != 0 ? limits->window : window;
        rec_interval = limits->record_interval != 0 ? limits->record_interval : rec_interval;
    }
    if (max_frame < OTARX_MIN_MAX_FRAME || max_frame > OTARX_MAX_FRAME || window % 16u != 0 ||
        window > OTARX_WINDOW || window < 2u * (((max_frame - 10u) / 16u) * 16u) ||
        rec_interval > OTARX_DURABLE_INTERVAL) {
        return OTARX_ERR_ARG;
    }
    memset(ctx, 0, sizeof(*ctx));
    ctx->_ops = ops;
    ctx->_user = user;
    ctx->_window = window;
    ctx->_rec_interval = rec_interval;
    otarx_decoder_init(&ctx->_rx, (uint16_t)max_frame);
    mbedtls_gcm_init(&ctx->_crypt._gcm);
    rc = otarx_key_init(ctx, key);
    if (rc != OTARX_OK) {
        return rc;
    }
    return OTARX_OK;
}

void otarx_deinit(otarx_ctx_t *ctx)
{
    otarx_crypt_end(ctx);
    otarx_digest_stop(ctx);
    mbedtls_gcm_free(&ctx->_crypt._gcm);
    otarx_key_free(ctx);
    ctx->_active = 0;
}

void otarx_reset(otarx_ctx_t *ctx)
{
    otarx_session_drop(ctx, 0);
    ctx->_installed = 0;
    otarx_decoder_reset(&ctx->_rx, &ctx->_fstats);
    ctx->_baud_pending = 0;
}

const otarx_frame_stats_t *otarx_frame_stats(const otarx_ctx_t *ctx) { return &ctx->_fstats; }
const otarx_session_stats_t *otarx_session_stats(const otarx_ctx_t *ctx) { return &ctx->_sstats; }
int otarx_session_active(const otarx_ctx_t *ctx) { return ctx->_active; }
uint32_t otarx_session_offset(const otarx_ctx_t *ctx) { return ctx->_active ? ctx->_next : 0u; }

static void on_hello(otarx_ctx_t *ctx, const uint8_t *p)
{
    /* the magic lets the device ignore stray traffic; host_proto/flags are informative */
    if (memcmp(p, OTARX_HELLO_MAGIC, 4) != 0) {
        ctx->_fstats.bad_payload++;
        return;
    }
    if (otarx_send_hello_ack(ctx) != OTARX_OK) {
        OTARX_LOGW(ctx, "HELLO_ACK failed");
    }
}

static void on_baud(otarx_ctx_t *ctx, const uint8_t *p)
{
    otarx_dev_info_t dev;
    uint32_t baud = otarx_get32(p);
    memset(&dev, 0, sizeof(dev));
    if (ctx->_ops->set_baud == NULL || ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK ||
        dev.max_baud == 0 || baud < OTARX_MIN_BAUD || baud > dev.max_baud) {
        reply_u32(ctx, OTARX_T_BAUD | OTARX_T_REPLY, OTARX_UNSUPPORTED, baud);
        return;
    }
    /* answered at the old rate; the port drains it before switching */
    reply_u32(ctx, OTARX_T_BAUD | OTARX_T_REPLY, OTARX_OK, baud);
    if (ctx->_ops->set_baud(ctx->_user, baud) != OTARX_OK) {
        OTARX_LOGW(ctx, "UART refused %lu baud; staying at %lu", (unsigned long)baud,
                   (unsigned long)dev.baud);
        return;
    }
    otarx_decoder_reset(&ctx->_rx, &ctx->_fstats);
    ctx->_baud_pending = 1;
    ctx->_old_baud = dev.baud;
    ctx->_baud_at = ctx->_ops->now_ms(ctx->_user);
}

/* CONFIRM and ROLLBACK: run the port's `op`, answer its status and the slot that boots now
 * (SPEC §4.2 `boot`); returns the status. */
static int answer_app_op(otarx_ctx_t *ctx, int (*op)(void *user), uint8_t type)
{
    otarx_dev_info_t dev;
    int rc = op != NULL ? op(ctx->_user) : OTARX_UNSUPPORTED;
    memset(&dev, 0, sizeof(dev));
    if (rc < 0) {
        rc = OTARX_FLASH_ERROR;
    }
    if (ctx->_ops->get_info(ctx->_user, &dev) != OTARX_OK) {
        dev.boot = OTARX_PART_NONE;
    }
    reply_u8(ctx, (uint8_t)(type | OTARX_T_REPLY), (uint8_t)rc, dev.boot);
    return rc;
}

static void on_confirm(otarx_ctx_t *ctx)
{
    (void)answer_app_op(ctx, ctx->_ops->confirm, OTARX_T_CONFIRM);
}

static void do_reboot(otarx_ctx_t *ctx)
{
    if (ctx->_ops->reboot != NULL) {
        ctx->_ops->reboot(ctx->_user);
    }
    otarx_reset(ctx); /* a port whose reboot returns has reset in place */
}

static void on_rollback(otarx_ctx_t *ctx)
{
    if (answer_app_op(ctx, ctx->_ops->rollback, OTARX_T_ROLLBACK) == OTARX_OK) {
        otarx_session_drop(ctx, 0);
        do_reboot(ctx);
    }
}

/* Smallest payload of each request type (SPEC §4); -1: not a request of this version. */
static int min_payload(uint8_t type)
{
    switch (type) {
    case OTARX_T_HELLO: return 6;
    case OTARX_T_BAUD: return 4;
    case OTARX_T_BEGIN: return (int)OTARX_BEGIN_LEN;
    case OTARX_T_DATA: return 4;
    case OTARX_T_END: return 1;
    case OTARX_T_ABORT: return 0;
    case OTARX_T_CONFIRM: return 0;
    case OTARX_T_ROLLBACK: return 0;
    case OTARX_T_PING: return 4;
    case OTARX_T_REBOOT: return 0;
    default: return -1;
    }
}

/* One frame with a good CRC: body = ver type payload crc. */
static void dispatch(otarx_ctx_t *ctx, uint8_t *body, size_t len)
{
    uint8_t type = body[1];
    uint8_t *p = body + 2;
    size_t n = len - 6u;
    int min;
    ctx->_baud_pending = 0; /* a valid frame at the new rate confirms a baud switch */
    if (body[0] != OTARX_PROTO_VERSION) {
        /* a version this device does not speak: tell the host which one it does (SPEC §2.4) */
        if (otarx_send_hello_ack(ctx) != OTARX_OK) {
            OTARX_LOGW(ctx, "HELLO_ACK failed");
        }
        return;
    }
    if (type & OTARX_T_REPLY) {
        return; /* a reply type (our own echo on a loopback?): not a request (SPEC §4.9) */
    }
    min = min_payload(type);
    if (min < 0) {
        otarx_reply_status(ctx, (uint8_t)(type | OTARX_T_REPLY), OTARX_UNSUPPORTED);
        return;
    }
    if (n < (size_t)min) {
        /* refused without acting on it: a short reply, no state changes (SPEC §4.9); a HELLO
         * that does not parse is stray traffic and gets no answer (§4.1) */
        ctx->_fstats.bad_payload++;
        if (type != OTARX_T_HELLO) {
            otarx_reply_status(ctx, (uint8_t)(type | OTARX_T_REPLY), OTARX_BAD_REQUEST);
        }
        return;
    }
    switch (type) {
    case OTARX_T_HELLO:
        on_hello(ctx, p);
        break;
    case OTARX_T_BAUD:
        on_baud(ctx, p);
        break;
    case OTARX_T_BEGIN:
        otarx_on_begin(ctx, p, n);
        break;
    case OTARX_T_DATA:
        otarx_on_data(ctx, p, n);
        break;
    case OTARX_T_END:
        otarx_on_end(ctx, p, n);
        break;
    case OTARX_T_ABORT:
        otarx_session_drop(ctx, 1);
        otarx_reply_status(ctx, OTARX_T_ABORT | OTARX_T_REPLY, OTARX_OK);
        break;
    case OTARX_T_CONFIRM:
        on_confirm(ctx);
        break;
    case OTARX_T_ROLLBACK:
        on_rollback(ctx);
        break;
    case OTARX_T_PING:
        reply_u32(ctx, OTARX_T_PING | OTARX_T_REPLY, OTARX_OK, otarx_get32(p));
        break;
    default: /* OTARX_T_REBOOT */
        otarx_reply_status(ctx, OTARX_T_REBOOT | OTARX_T_REPLY, OTARX_OK);
        otarx_session_drop(ctx, 0);
        do_reboot(ctx);
        break;
    }
}

void otarx_feed(otarx_ctx_t *ctx, const uint8_t *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        size_t n = otarx_decoder_byte(&ctx->_rx, &ctx->_fstats, buf[i]);
        if (n != 0) {
            dispatch(ctx, ctx->_rx._buf, n);
        }
    }
}

void otarx_poll(otarx_ctx_t *ctx, uint32_t now)
{
    if (ctx->_baud_pending && (uint32_t)(now - ctx->_baud_at) >= OTARX_BAUD_CONFIRM_MS) {
        /* nothing valid heard at the new rate: return to the old one (SPEC §4.3) */
        ctx->_baud_pending = 0;
        OTARX_LOGW(ctx, "no frame at the new rate; back to %lu baud", (unsigned long)ctx->_old_baud);
        if (ctx->_ops->set_baud(ctx->_user, ctx->_old_baud) != OTARX_OK) {
            OTARX_LOGE(ctx, "cannot return to %lu baud", (unsigned long)ctx->_old_baud);
        }
        otarx_decoder_reset(&ctx->_rx, &ctx->_fstats);
    }
}

const char *otarx_err_name(otarx_err_t err)
{
    switch (err) {
    case OTARX_OK: return "OK";
    case OTARX_BUSY: return "BUSY";
    case OTARX_NOT_ENCRYPTED: return "NOT_ENCRYPTED";
    case OTARX_BAD_SIZE: return "BAD_SIZE";
    case OTARX_WRONG_KEY: return "WRONG_KEY";
    case OTARX_TOO_LARGE: return "TOO_LARGE";
    case OTARX_NOT_APP: return "NOT_APP";
    case OTARX_WRONG_CHIP: return "WRONG_CHIP";
    case OTARX_CHIP_REV: return "CHIP_REV";
    case OTARX_DOWNGRADE: return "DOWNGRADE";
    case OTARX_SECURE_VERSION: return "SECURE_VERSION";
    case OTARX_AUTH_FAILED: return "AUTH_FAILED";
    case OTARX_INVALID_IMAGE: return "INVALID_IMAGE";
    case OTARX_INCOMPLETE: return "INCOMPLETE";
    case OTARX_FLASH_ERROR: return "FLASH_ERROR";
    case OTARX_NO_SESSION: return "NO_SESSION";
    case OTARX_BAD_STATE: return "BAD_STATE";
    case OTARX_ABORTED: return "ABORTED";
    case OTARX_UNSUPPORTED: return "UNSUPPORTED";
    case OTARX_BAD_REQUEST: return "BAD_REQUEST";
    case OTARX_NO_PENDING: return "NO_PENDING";
    case OTARX_ERR_ARG: return "ERR_ARG";
    case OTARX_ERR_IO: return "ERR_IO";
    case OTARX_ERR_KEY: return "ERR_KEY";
    case OTARX_ERR_CRYPTO: return "ERR_CRYPTO";
    }
    return "?";
}
