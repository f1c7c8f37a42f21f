/*
 * test_multichunk.c: multi-chunk DATA frames (SPEC §4.5, HELLO_ACK bit5) in random order, with
 * both credit plans. Frames of 1-4 chunks go to random grid offsets around next_offset (so some
 * are lost, some repeat what was consumed or held, some reach beyond credit), then the rest is sent
 * in order. Whatever the order, the slot must end up holding exactly the app and END must verify
 * it: a chunk stored out of order over a slot still to be written, or a frame's chunk consumed
 * twice, would show here, not in the ACK bytes the session vectors compare.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"
#include "test_util.h"
#include "otarx_priv.h"

extern const char *g_fixtures;

#define MC_CHUNK 256u
#define MC_SEEDS 12u
#define MC_FRAMES 300u

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* DATA(off, len); every reply must be an ACK (OK or BUSY) or the short BAD_REQUEST; returns the
 * highest next_offset they carry (at least `next`). */
static uint32_t send_frame(harness_t *h, const image_t *im, uint32_t off, uint32_t len,
                           uint32_t next)
{
    hframe_t f;
    int st;
    h_clear(h);
    st = h_data(h, im->img, off, len, &f);
    for (;;) {
        CHECK(st == OTARX_OK || st == OTARX_BUSY || st == OTARX_BAD_REQUEST);
        if (f.n >= 13u && h_u32(&f, 1) > next) {
            next = h_u32(&f, 1);
        }
        if (!h_take(h, &f)) {
            return next;
        }
        st = f.payload[0];
    }
}

static void random_order(int iram)
{
    image_t im;
    uint32_t seed;
    if (im_make(&im, 0x3000) != 0) {
        return;
    }
    for (seed = 1; seed <= MC_SEEDS; seed++) {
        harness_t h;
        hcfg_t cfg = h_default_cfg(g_fixtures);
        hframe_t f;
        uint32_t s = seed * 2654435761u, next = 0, i, total = (uint32_t)im.n;
        cfg.iram = iram;
        if (setup(&h, &cfg) != 0) {
            break;
        }
        CHECK_EQ(h_begin(&h, 0, MC_CHUNK, im.img, total, &next, NULL), OTARX_OK);
        for (i = 0; i < MC_FRAMES && next < total; i++) {
            /* 4 chunks below next_offset to 19 above it (credit is 16 chunks: 4096 / 256) */
            int32_t k = (int32_t)((next - 512u) / MC_CHUNK) + (int32_t)(xorshift(&s) % 24u) - 4;
            uint32_t m = 1u + xorshift(&s) % 4u, off, len;
            off = 512u + (uint32_t)(k < 0 ? 0 : k) * MC_CHUNK;
            if (off >= total) {
                continue;
            }
            len = total - off < m * MC_CHUNK ? total - off : m * MC_CHUNK;
            next = send_frame(&h, &im, off, len, next);
        }
        for (i = 0; next < total && i < 1000u; i++) {
            next = send_frame(&h, &im, next, total - next < MC_CHUNK ? total - next : MC_CHUNK, next);
        }
        CHECK_EQ(next, total);
        h_clear(&h);
        CHECK_EQ(h_end(&h, 0, &f), OTARX_OK);
        CHECK_MEM(h_slot(&h, 1), im.app, im.alen);
        h_free(&h);
    }
    im_free(&im);
}

static void test_multichunk_random_free(void)
{
    random_order(1);
}

static void test_multichunk_random_batch(void)
{
    random_order(0);
}

void run_multichunk_tests(void);
void run_multichunk_tests(void)
{
    RUN(test_multichunk_random_free);
    RUN(test_multichunk_random_batch);
}
