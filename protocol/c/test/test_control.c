/*
 * test_control.c: the small requests and rules around a session: HELLO_ACK contents, unknown
 * types and versions, short replies, PING, BAUD with its fallback, CONFIRM/ROLLBACK/REBOOT with
 * rollback enabled, the version rule, and otarx_image_verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"
#include "otarx_priv.h"
#include "test_util.h"
#include "vecfile.h"

extern const char *g_vectors;

/* frames.vec's HELLO_ACK_factory is what a device in the reference configuration (SPEC §9.6)
 * answers on the reference factory flash. */
static void test_hello_ack_factory_vector(void)
{
    static uint8_t want[2000];
    char path[600];
    vec_file_t vf;
    vec_entry_t e;
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    size_t wlen = 0;
    int in = 0;
    snprintf(path, sizeof(path), "%s/frames.vec", g_vectors);
    if (vec_open(&vf, path) != 0) {
        g_ct.failures++;
        return;
    }
    while (vec_next(&vf, &e)) {
        if (strcmp(e.kw, "frame") == 0) {
            in = strcmp(e.argv[0], "HELLO_ACK_factory") == 0;
        } else if (in && strcmp(e.kw, "body") == 0) {
            wlen = vec_hex(e.argv[0], want, sizeof(want));
        }
    }
    vec_close(&vf);
    CHECK(wlen > 6 && wlen != (size_t)-1);
    cfg.limits.window = 2048; /* the reference configuration: IRAM-safe UART, no rollback */
    cfg.max_baud = 921600;
    if (h_init(&h, &cfg) != 0) {
        g_ct.failures++;
        return;
    }
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.n + 6u, wlen);
    CHECK_MEM(f.payload, want + 2, wlen - 6u);
    h_free(&h);
}

static void test_versions_and_types(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    uint8_t wire[64], p[8] = {'O', 'T', 'A', 'U', 1, 0};
    size_t n;
    if (h_init(&h, &cfg) != 0) {
        g_ct.failures++;
        return;
    }
    /* a frame of another version is answered with HELLO_ACK (SPEC §2.4) */
    n = h_frame(2, 0x01, p, 6, wire);
    h_clear(&h);
    otarx_feed(h.ctx, wire, n);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x81);
    CHECK_EQ(f.payload[1], 1);
    CHECK_EQ(otarx_frame_stats(h.ctx)->bad_version, 0);
    /* an unknown request type: a short UNSUPPORTED reply */
    h_send(&h, 0x30, p, 2);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0xB0);
    CHECK_EQ(f.n, 1);
    CHECK_EQ(f.payload[0], OTARX_UNSUPPORTED);
    /* a reply type, or a HELLO with a wrong magic, is not answered */
    h_send(&h, 0x81, p, 6);
    p[0] = 'X';
    h_send(&h, 0x01, p, 6);
    CHECK_EQ(h_take(&h, &f), 0);
    /* short payloads: short BAD_REQUEST replies */
    h_send(&h, 0x09, p, 2);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x89);
    CHECK_EQ(f.n, 1);
    CHECK_EQ(f.payload[0], OTARX_BAD_REQUEST);
    otarx_put32(p, 0xA1B2C3D4u);
    h_send(&h, 0x09, p, 4);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x89);
    CHECK_EQ(f.payload[0], OTARX_OK);
    CHECK_EQ(h_u32(&f, 1), 0xA1B2C3D4u);
    /* boot log text and garbage before a frame do not hide it */
    {
        static const char text[] = "ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET)\r\n";
        otarx_feed(h.ctx, (const uint8_t *)text, sizeof(text) - 1);
        h_send(&h, 0x09, p, 4);
        CHECK(h_take(&h, &f));
        CHECK_EQ(f.type, 0x89);
    }
    h_free(&h);
}

/* A short BEGIN is refused without touching the session that exists. */
static void test_short_begin_keeps_session(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    size_t n;
    uint8_t *img;
    img = fixture("app_esp32.rsa.enc.bin", &n);
    if (img == NULL || h_init(&h, &cfg) != 0) {
        g_ct.failures++;
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, img, (uint32_t)n, NULL, NULL), OTARX_OK);
    CHECK_EQ(h_data(&h, img, 512, 1024, &f), OTARX_OK);
    h_clear(&h);
    h_send(&h, 0x03, img, 100);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x83);
    CHECK_EQ(f.n, 1);
    CHECK_EQ(f.payload[0], OTARX_BAD_REQUEST);
    CHECK_EQ(h_data(&h, img, 1536, 1024, &f), OTARX_OK);
    CHECK_EQ(h_u32(&f, 1), 2560);
    h_free(&h);
    free(img);
}

static void test_baud_switch(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    uint8_t p[4];
    if (h_init(&h, &cfg) != 0) {
        g_ct.failures++;
        return;
    }
    otarx_put32(p, 3000000);
    h_send(&h, 0x02, p, 4);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.payload[0], OTARX_UNSUPPORTED); /* above max_baud */
    otarx_put32(p, 4800);
    h_send(&h, 0x02, p, 4);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.payload[0], OTARX_UNSUPPORTED); /* below 9600 */
    CHECK_EQ(h.baud_calls, 0);
    /* switch, hear nothing for 1 s: back to the old rate */
    otarx_put32(p, 921600);
    h.now = 1000;
    h_send(&h, 0x02, p, 4);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x82);
    CHECK_EQ(f.payload[0], OTARX_OK);
    CHECK_EQ(h_u32(&f, 1), 921600);
    CHECK_EQ(h.last_baud, 921600);
    h.now = 1999;
    otarx_poll(h.ctx, h.now);
    CHECK_EQ(h.baud_calls, 1);
    h.now = 2000;
    otarx_poll(h.ctx, h.now);
    CHECK_EQ(h.baud_calls, 2);
    CHECK_EQ(h.last_baud, 115200);
    /* switch, then a PING at the new rate confirms it: no fallback */
    h_send(&h, 0x02, p, 4);
    h.now = 2100;
    h_send(&h, 0x09, p, 4);
    h.now = 5000;
    otarx_poll(h.ctx, h.now);
    CHECK_EQ(h.baud_calls, 3);
    CHECK_EQ(h.last_baud, 921600);
    h_free(&h);
}

static void test_rollback_confirm(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    size_t n;
    uint8_t *img;
    cfg.rollback = 1;
    img = fixture("app_esp32.rsa.enc.bin", &n);
    if (img == NULL || h_init(&h, &cfg) != 0) {
        g_ct.failures++;
        return;
    }
    CHECK_EQ(h_push(&h, img, (uint32_t)n, 1024, 0), OTARX_OK);
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[133 + 48 + 1], OTARX_STATE_NEW);
    /* nothing pending yet (the factory app runs) */
    h_send(&h, 0x07, NULL, 0);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.payload[0], OTARX_NO_PENDING);
    /* REBOOT: the bootloader starts ota_0 and marks it PENDING_VERIFY */
    h_send(&h, 0x0A, NULL, 0);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x8A);
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[21], 1);
    CHECK(f.payload[16] & OTARX_DEV_PENDING);
    CHECK_EQ(f.payload[22], 0); /* a reset now would roll back to the factory app */
    /* an update while pending is refused (esp_ota_begin) */
    CHECK_EQ(h_begin(&h, 0, 1024, img, (uint32_t)n, NULL, NULL), OTARX_BAD_STATE);
    h_send(&h, 0x07, NULL, 0);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x87);
    CHECK_EQ(f.payload[0], OTARX_OK);
    CHECK_EQ(f.payload[1], 1);
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[16] & OTARX_DEV_PENDING, 0);
    CHECK_EQ(f.payload[133 + 48 + 1], OTARX_STATE_VALID);
    h_send(&h, 0x08, NULL, 0);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.payload[0], OTARX_NO_PENDING);
    h_free(&h);

    /* push with END(REBOOT), then ROLLBACK: back to the factory app, ota_0 INVALID */
    if (h_init(&h, &cfg) != 0) {
        g_ct.failures++;
        return;
    }
    {
        uint32_t next = 0, off;
        CHECK_EQ(h_begin(&h, 0, 1024, img, (uint32_t)n, &next, NULL), OTARX_OK);
        for (off = next; off < n; off += 1024) {
            CHECK_EQ(h_data(&h, img, off, (uint32_t)n - off < 1024 ? (uint32_t)n - off : 1024, &f),
                     OTARX_OK);
        }
        CHECK_EQ(h_end(&h, OTARX_END_REBOOT, &f), OTARX_OK);
    }
    CHECK_EQ(h.dev->reboots, 1);
    CHECK_EQ(h.dev->running, 1);
    h_clear(&h);
    h_send(&h, 0x08, NULL, 0);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x88);
    CHECK_EQ(f.payload[0], OTARX_OK);
    CHECK_EQ(f.payload[1], 0);
    CHECK_EQ(h.dev->running, 0);
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[133 + 48 + 1], OTARX_STATE_INVALID);
    h_free(&h);
    free(img);
}

static void test_version_rule(void)
{
    static const struct {
        const char *cand, *run;
        int newer;
    } t[] = {
        {"1.10.0", "1.9.3", 1}, {"1.9.3", "1.10.0", 0}, {"1.2.3", "1.2.3", 0},
        {"v1.2", "1.2.0", 0},   {"1.2.3-rc1", "1.2.3", 0}, {"1.2.4-rc1", "1.2.3", 1},
        {"abc", "abc", 0},      {"abc", "1.0", 1},          {"1.0", "abc", 1},
        {"2", "1.99.99", 1},    {"1.0.0", "1.0.0-factory", 0},
        {"20240101120000124", "20240101120000123", 1}, {"1.02", "1.2", 0},
        {"1.2.", "1.2", 0},     {"1.2.0.1", "1.2", 1},     {"V1.3", "1.2", 1},
        {"0.0.1", "", 1},       {"", "", 0},               {"1.2.3-vector", "1.0.0-factory", 1},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int got = otarx_version_newer(t[i].cand, strlen(t[i].cand), t[i].run, strlen(t[i].run));
        if (got != t[i].newer) {
            fprintf(stderr, "version %s vs %s: got %d\n", t[i].cand, t[i].run, got);
        }
        CHECK_EQ(got, t[i].newer);
    }
    /* the ordering behind a DOWNGRADE refusal's detail (1: same, 2: older) */
    CHECK_EQ(otarx_version_cmp("1.2.3", 5, "1.2.3", 5), 0);
    CHECK_EQ(otarx_version_cmp("1.0.0", 5, "1.0.0-factory", 13), 0);
    CHECK_EQ(otarx_version_cmp("1.9.3", 5, "1.10.0", 6), -1);
    CHECK_EQ(otarx_version_cmp("1.10.0", 6, "1.9.3", 5), 1);
    CHECK_EQ(otarx_version_cmp("abc", 3, "abc", 3), 0);
    CHECK_EQ(otarx_version_cmp("abc", 3, "1.0", 3), OTARX_VERSION_UNORDERED);
}

/* otarx_image_verify over a buffer. */
static const uint8_t *g_img;
static size_t g_img_len;

static int buf_read(void *user, uint8_t part, uint32_t off, uint8_t *buf, size_t len)
{
    (void)user;
    (void)part;
    if (off > g_img_len || len > g_img_len - off) {
        return OTARX_FLASH_ERROR;
    }
    memcpy(buf, g_img + off, len);
    return OTARX_OK;
}

static void test_image_verify(void)
{
    otarx_ops_t ops;
    otarx_image_info_t info;
    uint8_t scratch[256], *app, *bad;
    size_t n, bn;
    memset(&ops, 0, sizeof(ops));
    ops.flash_read = buf_read;
    app = fixture("app_esp32.bin", &n);
    bad = fixture("app_esp32.bad_checksum_and_sha.bin", &bn);
    if (app == NULL || bad == NULL) {
        g_ct.failures++;
        return;
    }
    g_img = app;
    g_img_len = n;
    CHECK_EQ(otarx_image_verify(&ops, NULL, 0, (uint32_t)n, 0, 300, scratch, sizeof(scratch), &info), OTARX_OK);
    CHECK_EQ(info.image_len, n);
    CHECK_EQ(info.secure_version, 1);
    CHECK(strcmp(info.version, "1.2.3-vector") == 0);
    CHECK_EQ(otarx_image_verify(&ops, NULL, 0, (uint32_t)n, 5, 300, scratch, sizeof(scratch), &info), OTARX_INVALID_IMAGE);
    CHECK_EQ(info.detail, 12); /* chip id */
    CHECK_EQ(otarx_image_verify(&ops, NULL, 0, (uint32_t)n, 0, 400, scratch, sizeof(scratch), &info), OTARX_INVALID_IMAGE);
    CHECK_EQ(info.detail, 17); /* above max_chip_rev_full 399 */
    CHECK_EQ(otarx_image_verify(&ops, NULL, 0, (uint32_t)n - 1u, 0, 300, scratch, sizeof(scratch), &info), OTARX_INVALID_IMAGE);
    CHECK_EQ(info.detail, n - 32u); /* the appended SHA-256 is cut */
    app[n - 1] ^= 1;
    CHECK_EQ(otarx_image_verify(&ops, NULL, 0, (uint32_t)n, 0, 300, scratch, sizeof(scratch), &info), OTARX_INVALID_IMAGE);
    CHECK_EQ(info.detail, n - 32u);
    g_img = bad;
    g_img_len = bn;
    CHECK_EQ(otarx_image_verify(&ops, NULL, 0, (uint32_t)bn, 0, 300, scratch, sizeof(scratch), &info), OTARX_INVALID_IMAGE);
    CHECK_EQ(info.detail, bn - 33u); /* the checksum byte */
    free(app);
    free(bad);
}

void run_control_tests(void);
void run_control_tests(void)
{
    RUN(test_hello_ack_factory_vector);
    RUN(test_versions_and_types);
    RUN(test_short_begin_keeps_session);
    RUN(test_baud_switch);
    RUN(test_rollback_confirm);
    RUN(test_version_rule);
    RUN(test_image_verify);
}
