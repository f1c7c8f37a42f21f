/*
 * frame.c: the frame layer of SPEC §2. A byte-at-a-time decoder in the shape of MIN's
 * rx_byte (COBS is undone as bytes arrive, so one body-sized buffer suffices), the encoder that
 * sends replies, and whole-buffer COBS helpers for tests and tools. No I/O except otarx_send.
 */
#include "otarx_priv.h"

enum { ST_HUNT = 0, ST_FRAME = 1, ST_DISCARD = 2 };

void otarx_decoder_reset(otarx_decoder_t *dec)
{
    dec->_state = ST_HUNT;
    dec->_code = 0;
    dec->_left = 0;
    dec->_len = 0;
    dec->_enc = 0;
}

static void start_candidate(otarx_decoder_t *dec)
{
    dec->_state = ST_FRAME;
    dec->_code = 0;
    dec->_left = 0;
    dec->_len = 0;
    dec->_enc = 0;
}

/* A delimiter ended a candidate: decide what it was. */
static size_t end_candidate(otarx_decoder_t *dec, otarx_frame_stats_t *st)
{
    size_t n = dec->_len;
    uint32_t crc;
    if (dec->_enc == 0) {
        return 0; /* empty frame: two delimiters in a row */
    }
    if (dec->_left != 0) {
        st->bad_cobs++;
        return 0;
    }
    if (n < 6) {
        st->too_short++;
        return 0;
    }
    crc = otarx_get32(&dec->_buf[n - 4]);
    if (otarx_crc32(0, dec->_buf, n - 4) != crc) {
        st->bad_crc++;
        return 0;
    }
    st->frames++;
    return n;
}

size_t otarx_decoder_byte(otarx_decoder_t *dec, otarx_frame_stats_t *st, uint8_t b)
{
    size_t n = 0;
    if (b == 0x00) {
        if (dec->_state == ST_FRAME) {
            n = end_candidate(dec, st);
        }
        start_candidate(dec);
        return n;
    }
    if (dec->_state == ST_HUNT) {
        st->noise_bytes++;
        return 0;
    }
    if (dec->_state == ST_DISCARD) {
        return 0;
    }
    dec->_enc++;
    if (dec->_enc > OTARX_COBS_MAX(OTARX_MAX_FRAME)) {
        st->too_long++;
        dec->_state = ST_DISCARD;
        return 0;
    }
    if (dec->_left == 0) {
        /* a code byte; the previous block, unless it was a full 0xFF block, ended in a zero */
        if (dec->_code != 0 && dec->_code != 0xFFu) {
            if (dec->_len >= OTARX_MAX_FRAME) {
                st->too_long++;
                dec->_state = ST_DISCARD;
                return 0;
            }
            dec->_buf[dec->_len++] = 0x00;
        }
        dec->_code = b;
        dec->_left = (uint8_t)(b - 1u);
        return 0;
    }
    if (dec->_len >= OTARX_MAX_FRAME) {
        st->too_long++;
        dec->_state = ST_DISCARD;
        return 0;
    }
    dec->_buf[dec->_len++] = b;
    dec->_left--;
    return 0;
}

size_t otarx_cobs_encode(const uint8_t *body, size_t len, uint8_t *out)
{
    size_t code_at = 0, o = 1, i;
    uint8_t code = 1;
    for (i = 0; i < len; i++) {
        if (body[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
            continue;
        }
        out[o++] = body[i];
        if (++code == 0xFFu) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
        }
    }
    out[code_at] = code;
    return o;
}

size_t otarx_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < len) {
        uint8_t code = in[i++];
        size_t k;
        if (code == 0 || i + (size_t)code - 1u > len) {
            return (size_t)-1;
        }
        for (k = 1; k < code; k++) {
            if (o >= cap || in[i] == 0) {
                return (size_t)-1;
            }
            out[o++] = in[i++];
        }
        if (code != 0xFFu && i < len) {
            if (o >= cap) {
                return (size_t)-1;
            }
            out[o++] = 0;
        }
    }
    return o;
}

/* Output staging: COBS bytes are collected here and written in pieces. */
typedef struct {
    otarx_ctx_t *ctx;
    uint8_t buf[64];
    size_t n;
    int rc;
} tx_out_t;

static void out_flush(tx_out_t *o)
{
    if (o->n > 0 && o->rc == OTARX_OK) {
        o->rc = o->ctx->_ops->uart_write(o->ctx->_user, o->buf, o->n);
    }
    o->n = 0;
}

static void out_bytes(tx_out_t *o, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t take = sizeof(o->buf) - o->n;
        if (take > n) {
            take = n;
        }
        memcpy(&o->buf[o->n], p, take);
        o->n += take;
        p += take;
        n -= take;
        if (o->n == sizeof(o->buf)) {
            out_flush(o);
        }
    }
}

/* 0x00 COBS(body) 0x00; same block rule as otarx_cobs_encode. */
static int write_cobs(otarx_ctx_t *ctx, const uint8_t *body, size_t n)
{
    tx_out_t o;
    size_t i = 0, run = 0;
    uint8_t b;
    o.ctx = ctx;
    o.n = 0;
    o.rc = OTARX_OK;
    b = 0x00;
    out_bytes(&o, &b, 1);
    for (;;) {
        /* a block: `run` non-zero bytes starting at body[i], at most 254 */
        while (i + run < n && body[i + run] != 0 && run < 254u) {
            run++;
        }
        b = (uint8_t)(run + 1u);
        out_bytes(&o, &b, 1);
        out_bytes(&o, &body[i], run);
        i += run;
        if (run < 254u) {
            if (i >= n) {
                break; /* the phantom zero that ends every body */
            }
            i++; /* skip the zero the block boundary stands for */
        }
        run = 0;
    }
    b = 0x00;
    out_bytes(&o, &b, 1);
    out_flush(&o);
    return o.rc;
}

int otarx_send(otarx_ctx_t *ctx, uint8_t type, size_t payload_len)
{
    size_t n = 2u + payload_len;
    ctx->_tx[0] = (uint8_t)OTARX_PROTO_VERSION;
    ctx->_tx[1] = type;
    otarx_put32(&ctx->_tx[n], otarx_crc32(0, ctx->_tx, n));
    return write_cobs(ctx, ctx->_tx, n + 4u);
}
