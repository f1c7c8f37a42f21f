/*
 * test_codec.c: the C frame layer against protocol/vectors (crc.vec, cobs.vec, frames.vec,
 * malformed.vec), the same files the TypeScript tests read, plus encoder properties.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"
#include "otarx_priv.h"
#include "vecfile.h"

#define BIG 20000

static uint8_t g_a[BIG], g_b[BIG], g_c[BIG];

static int open_vec(vec_file_t *f, const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (vec_open(f, path) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        g_ct.failures++;
        return -1;
    }
    return 0;
}

static void unknown(const vec_file_t *f, const vec_entry_t *e)
{
    fprintf(stderr, "%s:%u: unknown keyword '%s'\n", f->path, e->line, e->kw);
    g_ct.failures++; /* SPEC §9.1: a reader rejects keywords it does not know */
}

void test_crc_vec(const char *dir);
void test_crc_vec(const char *dir)
{
    vec_file_t f;
    vec_entry_t e;
    unsigned n = 0;
    if (open_vec(&f, dir, "crc.vec") != 0) {
        return;
    }
    while (vec_next(&f, &e)) {
        size_t len;
        if (strcmp(e.kw, "crc") != 0 || e.argc != 2) {
            unknown(&f, &e);
            continue;
        }
        len = vec_hex(e.argv[0], g_a, BIG);
        CHECK(len != (size_t)-1);
        CHECK_EQ(otarx_crc32(0, g_a, len), strtoul(e.argv[1], NULL, 16));
        if (len > 3) { /* incremental use gives the same value */
            CHECK_EQ(otarx_crc32(otarx_crc32(0, g_a, 3), g_a + 3, len - 3),
                     strtoul(e.argv[1], NULL, 16));
        }
        n++;
    }
    CHECK(n >= 5);
    vec_close(&f);
}

/* What the device sends for a body: its otarx_send path (0x00 COBS 0x00). */
static size_t device_wire(const uint8_t *body, size_t n, uint8_t *out, harness_t *h)
{
    memcpy(h->ctx->_tx, body, n - 4u);
    h_clear(h);
    CHECK_EQ(otarx_send(h->ctx, body[1], n - 6u), OTARX_OK);
    memcpy(out, h->out, h->out_len);
    return h->out_len;
}

void test_cobs_vec(const char *dir);
void test_cobs_vec(const char *dir)
{
    vec_file_t f;
    vec_entry_t e;
    unsigned n = 0;
    if (open_vec(&f, dir, "cobs.vec") != 0) {
        return;
    }
    while (vec_next(&f, &e)) {
        size_t a = e.argc > 0 ? vec_hex(e.argv[0], g_a, BIG) : (size_t)-1;
        size_t b = e.argc > 1 ? vec_hex(e.argv[1], g_b, BIG) : 0;
        CHECK(a != (size_t)-1 && b != (size_t)-1);
        if (strcmp(e.kw, "cobs") == 0) {
            size_t m = otarx_cobs_encode(g_a, a, g_c);
            CHECK_EQ(m, b);
            CHECK_MEM(g_c, g_b, b);
            CHECK(m <= OTARX_COBS_MAX(a));
            CHECK_EQ(otarx_cobs_decode(g_b, b, g_c, BIG), a);
            CHECK_MEM(g_c, g_a, a);
        } else if (strcmp(e.kw, "cobs_decode") == 0) {
            CHECK_EQ(otarx_cobs_decode(g_a, a, g_c, BIG), b);
            CHECK_MEM(g_c, g_b, b);
        } else if (strcmp(e.kw, "cobs_bad") == 0) {
            CHECK_EQ(otarx_cobs_decode(g_a, a, g_c, BIG), (size_t)-1);
        } else {
            unknown(&f, &e);
        }
        n++;
    }
    CHECK(n >= 10);
    vec_close(&f);
}

/* Feed `wire` to a fresh decoder in the given pieces; collect delivered bodies. */
typedef struct {
    otarx_decoder_t dec;
    otarx_frame_stats_t st;
    uint8_t bodies[BIG];
    size_t blen;
    unsigned count;
} collect_t;

static void collect_feed(collect_t *c, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        size_t m = otarx_decoder_byte(&c->dec, &c->st, p[i]);
        if (m != 0 && c->blen + m <= sizeof(c->bodies)) {
            memcpy(c->bodies + c->blen, c->dec._buf, m);
            c->blen += m;
            c->count++;
        }
    }
}

void test_frames_vec(const char *dir, harness_t *h);
void test_frames_vec(const char *dir, harness_t *h)
{
    static collect_t c;
    vec_file_t f;
    vec_entry_t e;
    size_t body = 0, wire = 0;
    unsigned frames = 0;
    if (open_vec(&f, dir, "frames.vec") != 0) {
        return;
    }
    while (vec_next(&f, &e)) {
        if (strcmp(e.kw, "frame") == 0 || strcmp(e.kw, "msg") == 0 ||
            strcmp(e.kw, "field") == 0) {
            continue; /* fields are checked by the session vectors on the device side */
        }
        if (strcmp(e.kw, "body") == 0) {
            body = vec_hex(e.argv[0], g_a, BIG);
            CHECK(body != (size_t)-1 && body >= 6);
            CHECK_EQ(otarx_crc32(0, g_a, body - 4), otarx_get32(g_a + body - 4));
            continue;
        }
        if (strcmp(e.kw, "wire") != 0) {
            unknown(&f, &e);
            continue;
        }
        wire = vec_hex(e.argv[0], g_b, BIG);
        frames++;
        /* decoding gives the body */
        memset(&c, 0, sizeof(c));
        otarx_decoder_init(&c.dec, OTARX_MAX_FRAME);
        collect_feed(&c, g_b, wire);
        CHECK_EQ(c.count, body <= OTARX_MAX_FRAME ? 1u : 0u);
        if (c.count == 1) {
            CHECK_EQ(c.blen, body);
            CHECK_MEM(c.bodies, g_a, body);
        }
        /* both device encoders give the wire bytes */
        CHECK_EQ(otarx_cobs_encode(g_a, body, g_c) + 2u, wire);
        CHECK_MEM(g_c, g_b + 1, wire - 2u);
        if (body <= OTARX_TX_MAX && g_a[0] == OTARX_PROTO_VERSION) {
            size_t m = device_wire(g_a, body, g_c, h);
            CHECK_EQ(m, wire);
            CHECK_MEM(g_c, g_b, wire);
        }
    }
    CHECK(frames >= 20);
    vec_close(&f);
}

typedef struct {
    uint32_t v[8];
} counters_t;

static const char *const k_names[8] = {"frames", "noise_bytes", "too_long", "bad_cobs",
                                       "too_short", "bad_crc", "bad_version", "pending"};

static int parse_expect(const vec_entry_t *e, counters_t *out)
{
    int i;
    if (e->argc != 8) {
        return -1;
    }
    for (i = 0; i < 8; i++) {
        size_t k = strlen(k_names[i]);
        if (strncmp(e->argv[i], k_names[i], k) != 0 || e->argv[i][k] != '=') {
            return -1;
        }
        out->v[i] = (uint32_t)strtoul(e->argv[i] + k + 1, NULL, 10);
    }
    return 0;
}

/* One malformed case, fed in pieces of `step` bytes starting with a piece of `first`. */
static void run_case(const uint8_t *in, size_t n, uint16_t max, size_t first, size_t step,
                     const counters_t *want, const uint8_t *bodies, size_t blen, unsigned nb,
                     unsigned line)
{
    static collect_t c;
    size_t at = 0;
    memset(&c, 0, sizeof(c));
    otarx_decoder_init(&c.dec, max);
    while (at < n) {
        size_t k = at == 0 ? first : step;
        if (k == 0 || k > n - at) {
            k = n - at;
        }
        collect_feed(&c, in + at, k);
        at += k;
    }
    if (c.st.frames != want->v[0] || c.st.noise_bytes != want->v[1] ||
        c.st.too_long != want->v[2] || c.st.bad_cobs != want->v[3] ||
        c.st.too_short != want->v[4] || c.st.bad_crc != want->v[5] || c.st.bad_version != 0 ||
        (uint32_t)(c.dec._discard ? 0u : c.dec._enc) != want->v[7] || c.count != nb ||
        c.blen != blen || memcmp(c.bodies, bodies, blen) != 0) {
        g_ct.failures++;
        fprintf(stderr,
                "malformed.vec:%u (split %lu/%lu): got frames=%u noise=%u too_long=%u "
                "bad_cobs=%u too_short=%u bad_crc=%u pending=%u bodies=%u\n",
                line, (unsigned long)first, (unsigned long)step, c.st.frames, c.st.noise_bytes,
                c.st.too_long, c.st.bad_cobs, c.st.too_short, c.st.bad_crc,
                c.dec._discard ? 0u : c.dec._enc, c.count);
    }
    g_ct.checks++;
}

/* The device delivers every version (SPEC §9.5): frames + bad_version, noise less those. */
static void check_case(const uint8_t *in, size_t n, uint16_t max, counters_t want,
                       const uint8_t *bodies, size_t blen, unsigned nb, size_t badver_enc,
                       unsigned line)
{
    size_t k, step;
    want.v[0] += want.v[6];
    want.v[1] -= (uint32_t)badver_enc;
    run_case(in, n, max, 0, 0, &want, bodies, blen, nb, line);
    run_case(in, n, max, 1, 1, &want, bodies, blen, nb, line);
    step = n > 300 ? n / 97 + 1 : 1; /* every boundary for short inputs, many for long ones */
    for (k = 1; k < n; k += step) {
        run_case(in, n, max, k, n, &want, bodies, blen, nb, line);
    }
}

void test_malformed_vec(const char *dir);
void test_malformed_vec(const char *dir)
{
    static uint8_t in[BIG], bodies[BIG];
    vec_file_t f;
    vec_entry_t e;
    size_t n = 0, blen = 0, badver_enc = 0;
    unsigned nb = 0, cases = 0, line = 0, skipped = 0;
    uint32_t max = 0;
    if (open_vec(&f, dir, "malformed.vec") != 0) {
        return;
    }
    while (vec_next(&f, &e)) {
        if (strcmp(e.kw, "case") == 0) {
            n = blen = badver_enc = 0;
            nb = 0;
            line = e.line;
        } else if (strcmp(e.kw, "max_frame") == 0) {
            max = (uint32_t)strtoul(e.argv[0], NULL, 10);
        } else if (strcmp(e.kw, "wire") == 0) {
            size_t k = vec_hex(e.argv[0], in + n, BIG - n);
            CHECK(k != (size_t)-1);
            n += k;
        } else if (strcmp(e.kw, "frame") == 0 || strcmp(e.kw, "badver") == 0) {
            size_t k = vec_hex(e.argv[0], bodies + blen, BIG - blen);
            CHECK(k != (size_t)-1);
            if (strcmp(e.kw, "badver") == 0) {
                badver_enc += otarx_cobs_encode(bodies + blen, k, g_c);
            }
            blen += k;
            nb++;
        } else if (strcmp(e.kw, "expect") == 0) {
            counters_t want;
            CHECK_EQ(parse_expect(&e, &want), 0);
            if (max > OTARX_MAX_FRAME) {
                skipped++; /* SPEC §9.5: a receiver built for a smaller max_frame skips it */
                continue;
            }
            check_case(in, n, (uint16_t)max, want, bodies, blen, nb, badver_enc, line);
            cases++;
        } else {
            unknown(&f, &e);
        }
    }
    CHECK(cases >= 30);
    if (skipped) {
        fprintf(stderr, "malformed.vec: %u cases need max_frame > %u\n", skipped,
                (unsigned)OTARX_MAX_FRAME);
    }
    vec_close(&f);
}

/* The streaming encoder (otarx_send) and the buffer encoder agree on random bodies, and the
 * decoder inverts them. */
void test_cobs_property(harness_t *h);
void test_cobs_property(harness_t *h)
{
    uint32_t seed = 12345u;
    int round;
    for (round = 0; round < 400; round++) {
        size_t n = 6u + (seed % 900u), i, m;
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* mostly zeros, mostly non-zeros, or long non-zero runs (254-byte block edges) */
            g_a[i] = (uint8_t)((round % 3 == 0) ? (seed >> 16) % 3u
                                                : (round % 3 == 1 ? (seed >> 16) | 1u : 0x55));
        }
        if (round % 7 == 0 && n > 10) {
            g_a[n - 5] = 0;
        }
        g_a[0] = OTARX_PROTO_VERSION; /* otarx_send always writes version 1 */
        otarx_put32(g_a + n - 4, otarx_crc32(0, g_a, n - 4));
        m = otarx_cobs_encode(g_a, n, g_c);
        CHECK(m <= OTARX_COBS_MAX(n));
        CHECK(memchr(g_c, 0, m) == NULL);
        CHECK_EQ(otarx_cobs_decode(g_c, m, g_b, BIG), n);
        CHECK_MEM(g_b, g_a, n);
        if (n <= OTARX_TX_MAX) {
            size_t w = device_wire(g_a, n, g_b, h);
            CHECK_EQ(w, m + 2u);
            CHECK_MEM(g_b + 1, g_c, m);
        }
        seed = seed * 69069u + 1u;
    }
}
