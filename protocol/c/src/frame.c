/*
 * frame.c: the frame layer of SPEC §2. A byte-at-a-time decoder (COBS is undone as bytes arrive,
 * so one body-sized buffer suffices), the encoder that sends replies, and whole-buffer COBS
 * helpers for tests and tools. No I/O except otarx_send.
 *
 * The drop rules and counters are those of the TypeScript FrameDecoder (src/protocol/decoder.ts)
 * so both pass the same malformed.vec: every candidate (bytes between two 0x00) either becomes a
 * frame or is dropped and counted once; its bytes count as noise. Checks run in the SPEC's order:
 * over-long run, COBS, too long after decoding, too short, CRC. As a device it delivers frames of
 * every version (never counting bad_version) so that it can answer them with HELLO_ACK.
 */
#include "otarx_priv.h"

static void start_candidate(otarx_decoder_t *dec)
{
    dec->_discard = 0;
    dec->_code = 0;
    dec->_left = 0;
    dec->_len = 0;
    dec->_enc = 0;
}

void otarx_decoder_init(otarx_decoder_t *dec, uint16_t max_frame)
{
    dec->_max = max_frame;
    start_candidate(dec);
}

void otarx_decoder_reset(otarx_decoder_t *dec, otarx_frame_stats_t *st)
{
    if (!dec->_discard) {
        st->noise_bytes += dec->_enc;
    }
    start_candidate(dec);
}

/* A delimiter ended a non-empty candidate: decide what it was (SPEC §2.3 checks 2-5; check 1,
 * the over-long run, was decided while it arrived). */
static size_t end_candidate(otarx_decoder_t *dec, otarx_frame_stats_t *st)
{
    size_t n = dec->_len;
    if (dec->_left != 0) {
        st->bad_cobs++;
    } else if (n > dec->_max) {
        st->too_long++;
    } else if (n < 6u) {
        st->too_short++;
    } else if (otarx_crc32(0, dec->_buf, n - 4u) != otarx_get32(&dec->_buf[n - 4u])) {
        st->bad_crc++;
    } else {
        /* a device delivers every version: the dispatcher answers others with HELLO_ACK */
        st->frames++;
        return n;
    }
    st->noise_bytes += dec->_enc;
    return 0;
}

static void put(otarx_decoder_t *dec, uint8_t b)
{
    if (dec->_len < dec->_max) {
        dec->_buf[dec->_len] = b;
    }
    if (dec->_len < 0xFFFFu) {
        dec->_len++; /* counted beyond _max (without storing) for the too-long check */
    }
}

size_t otarx_decoder_byte(otarx_decoder_t *dec, otarx_frame_stats_t *st, uint8_t b)
{
    size_t n = 0;
    if (b == 0x00) {
        if (!dec->_discard && dec->_enc > 0) {
            n = end_candidate(dec, st);
        }
        start_candidate(dec);
        return n;
    }
    if (dec->_discard) {
        st->noise_bytes++;
        return 0;
    }
    dec->_enc++;
    if (dec->_enc > OTARX_COBS_MAX((uint32_t)dec->_max)) {
        st->too_long++;
        st->noise_bytes += dec->_enc;
        dec->_discard = 1;
        return 0;
    }
    if (dec->_left == 0) {
        /* a code byte; the previous block, unless it was a full 0xFF block, ended in a zero */
        if (dec->_code != 0 && dec->_code != 0xFFu) {
            put(dec, 0x00);
        }
        dec->_code = b;
        dec->_left = (uint8_t)(b - 1u);
        return 0;
    }
    put(dec, b);
    dec->_left--;
    return 0;
}

/* Canonical COBS (as src/protocol/cobs.ts): a full block at the very end gets no 01 after it. */
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
            code = 1;
            if (i + 1u == len) {
                return o;
            }
            code_at = o++;
        }
    }
    out[code_at] = code;
    return o;
}

size_t otarx_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    if (len == 0) {
        return (size_t)-1;
    }
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

/* 0x00 COBS(body) 0x00 without a second buffer; same blocks as otarx_cobs_encode. */
static int write_cobs(otarx_ctx_t *ctx, const uint8_t *body, size_t n)
{
    tx_out_t o;
    size_t i = 0;
    uint8_t b = 0x00;
    o.ctx = ctx;
    o.n = 0;
    o.rc = OTARX_OK;
    out_bytes(&o, &b, 1);
    for (;;) {
        size_t run = 0;
        while (i + run < n && body[i + run] != 0 && run < 254u) {
            run++;
        }
        b = (uint8_t)(run + 1u);
        out_bytes(&o, &b, 1);
        out_bytes(&o, &body[i], run);
        i += run;
        if (i >= n) {
            break; /* the end: either the phantom zero, or a full block needing no code */
        }
        if (run < 254u) {
            i++; /* the zero this block boundary stands for */
            if (i == n) {
                b = 0x01; /* the body ended with a zero: one more (empty) block */
                out_bytes(&o, &b, 1);
                break;
            }
        }
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
