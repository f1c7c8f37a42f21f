/*
 * test_receiver.c: the receiver's session behaviour on the host port's simulated ESP32: pushes
 * that must boot, refusals that must change nothing that boots, the window (sack, duplicates,
 * bad requests), both credit plans, and resume in RAM and after a power cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"
#include "test_util.h"
#include "otarx_priv.h"

/* HELLO_ACK field offsets (SPEC §4.2) */
#define HA_FLAGS 16
#define HA_RUNNING 21
#define HA_BOOT 22
#define HA_TARGET 23
#define HA_RESUME_ID 92
#define HA_RESUME_OFF 124
#define HA_RESUME_TOTAL 128
#define HA_PART(i) (133 + 48 * (i))

static void test_push_rsa_boots(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    size_t n, pn;
    uint8_t *img = fixture("app_esp32.rsa.enc.bin", &n), *plain = fixture("app_esp32.bin", &pn);
    uint8_t od[32];
    if (img == NULL || plain == NULL || setup(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_push(&h, img, (uint32_t)n, 1024, 0), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), plain, pn);
    CHECK(all_ff(h_slot(&h, 2), 0x100000)); /* only the target was written */
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[HA_RUNNING], 0);
    CHECK_EQ(f.payload[HA_BOOT], 1);
    CHECK_EQ(f.payload[HA_TARGET], 2); /* never the slot set to boot */
    CHECK_EQ(f.payload[HA_PART(1) + 2], 1);
    CHECK(strcmp((const char *)&f.payload[HA_PART(1) + 16], "1.2.3-vector") == 0);
    /* otadata[0]: seq 1 (ota_0), state UNDEFINED without rollback, ESP ROM CRC */
    memcpy(od, h.dev->flash.mem + 0xd000, 32);
    CHECK_EQ(otarx_get32(od), 1);
    CHECK_EQ(otarx_get32(od + 24), 0xFFFFFFFFu);
    CHECK_EQ(otarx_get32(od + 28), 0x4743989Au);
    CHECK_EQ(otarx_session_stats(h.ctx)->results_ok, 1);
    h_free(&h);
    free(img);
    free(plain);
}

static void test_push_ecies_boots(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    char path[600];
    size_t n, pn;
    uint8_t *img = fixture("app_esp32.ecies.enc.bin", &n), *plain = fixture("app_esp32.bin", &pn);
    snprintf(path, sizeof(path), "%s/ecies_device_hmac_key.bin", g_fixtures);
    cfg.key_path = NULL;
    cfg.hmac_path = path;
    if (img == NULL || plain == NULL || setup(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_push(&h, img, (uint32_t)n, 512, 0), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), plain, pn);
    h_free(&h);
    free(img);
    free(plain);
}

static void check_nothing_boots_differently(harness_t *h)
{
    hframe_t f;
    CHECK_EQ(h_hello(h, &f), OTARX_OK);
    CHECK_EQ(f.payload[HA_BOOT], h->dev->boot.anti_rollback && h->dev->boot.efuse_secure_version > 0 ? 0xFF : 0);
    CHECK_EQ(f.payload[HA_RUNNING], 0);
    CHECK(all_ff(h->dev->flash.mem + 0xd000, 0x2000)); /* otadata untouched */
}

static void test_tampered_refused(void)
{
    static const char *const files[] = {"app_esp32.rsa.enc.tampered_ct.bin",
                                        "app_esp32.rsa.enc.tampered_tag.bin"};
    size_t i;
    for (i = 0; i < 2; i++) {
        harness_t h;
        hcfg_t cfg = h_default_cfg(g_fixtures);
        size_t n;
        uint8_t *img = fixture(files[i], &n);
        if (img == NULL || setup(&h, &cfg) != 0) {
            return;
        }
        CHECK_EQ(h_push(&h, img, (uint32_t)n, 1024, 0), OTARX_AUTH_FAILED);
        check_nothing_boots_differently(&h);
        CHECK_EQ(otarx_session_active(h.ctx), 0);
        h_free(&h);
        free(img);
    }
}

static void test_begin_refusals(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    size_t n, en, tn, bn;
    uint8_t *img = fixture("app_esp32.rsa.enc.bin", &n);
    uint8_t *ecies = fixture("app_esp32.ecies.enc.bin", &en);
    uint8_t *trunc = fixture("app_esp32.rsa.enc.truncated.bin", &tn);
    uint8_t *badm = fixture("app_esp32.rsa.enc.bad_magic.bin", &bn);
    uint8_t big[512];
    uint32_t next = 1, credit = 1;
    if (!img || !ecies || !trunc || !badm || setup(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, badm, (uint32_t)bn, &next, &credit), OTARX_NOT_ENCRYPTED);
    CHECK_EQ(next, 0);
    CHECK_EQ(credit, 0);
    CHECK_EQ(h_begin(&h, 0, 1024, trunc, (uint32_t)tn, NULL, NULL), OTARX_BAD_SIZE);
    /* the key is unwrapped after BEGIN_ACK: another key's image is refused on its first DATA */
    CHECK_EQ(h_begin(&h, 0, 1024, ecies, (uint32_t)en, NULL, NULL), OTARX_OK);
    h_clear(&h);
    CHECK_EQ(h_data(&h, ecies, 512, 1024, &f), OTARX_WRONG_KEY);
    memcpy(big, img, 512);
    otarx_put32(big + OTARX_HDR_BIN_SIZE, 0x200000u);
    h_clear(&h);
    {
        uint8_t p[519];
        p[0] = 0;
        otarx_put16(p + 1, 1024);
        otarx_put32(p + 3, 512u + 0x200000u);
        memcpy(p + 7, big, 512);
        h_send(&h, 0x03, p, sizeof(p));
        CHECK(h_take(&h, &f));
        CHECK_EQ(f.type, 0x83);
        CHECK_EQ(f.n, OTARX_BEGIN_ACK_LEN);
        CHECK_EQ(f.payload[0], OTARX_TOO_LARGE);
        CHECK_EQ(f.payload[9], 1);          /* target */
        CHECK_EQ(h_u32(&f, 10), 0x100000u); /* detail: the slot size */
    }
    CHECK_EQ(h_begin(&h, 0, 1000, img, (uint32_t)n, NULL, NULL), OTARX_BAD_REQUEST);
    CHECK_EQ(h_begin(&h, 0, 2048, img, (uint32_t)n, NULL, NULL), OTARX_BAD_REQUEST);
    /* no session exists after a refusal */
    h_clear(&h);
    CHECK_EQ(h_data(&h, img, 512, 1024, &f), OTARX_NO_SESSION);
    CHECK_EQ(h_u32(&f, 1), 0);
    check_nothing_boots_differently(&h);
    CHECK(all_ff(h_slot(&h, 1), 0x100000));
    h_free(&h);
    free(img);
    free(ecies);
    free(trunc);
    free(badm);
}

/* An app made here, encrypted for the TEST key; pushed; the status of the first refusal. */
static int push_app(harness_t *h, const uint8_t *app, size_t len, uint8_t flags)
{
    char key[600];
    size_t n;
    uint8_t *img;
    int st;
    snprintf(key, sizeof(key), "%s/rsa3072_private.pem", g_fixtures);
    img = h_encrypt(app, len, key, &n);
    if (img == NULL) {
        g_ct.failures++;
        return -1;
    }
    st = h_push(h, img, (uint32_t)n, 1024, flags);
    free(img);
    return st;
}

static void test_early_checks(void)
{
    struct {
        const char *version;
        uint16_t chip, min_rev;
        uint32_t sv;
        uint8_t flags;
        int anti;
        int want;
        uint32_t detail; /* SPEC §4.6: what the image wants */
    } cases[] = {
        {"2.0.0", 5, 0, 0, 0, 0, OTARX_WRONG_CHIP, 5},                    /* the image's chip id */
        {"0.9.0", 0, 0, 0, 0, 0, OTARX_DOWNGRADE, 2},                     /* older */
        {"1.0.0", 0, 0, 0, 0, 0, OTARX_DOWNGRADE, 1},                     /* same as 1.0.0-factory */
        {"0.9.0", 0, 0, 0, OTARX_BEGIN_ALLOW_DOWNGRADE, 0, OTARX_OK, 0},
        {"2.0.0", 0, 400, 0, 0, 0, OTARX_CHIP_REV, 400u | (399u << 16)},  /* min | max << 16 */
        {"2.0.0", 0, 0, 1, 0, 1, OTARX_SECURE_VERSION, 1},                /* eFuse at 2 */
        {"2.0.0", 0, 0, 2, 0, 1, OTARX_OK, 0},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        harness_t h;
        hcfg_t cfg = h_default_cfg(g_fixtures);
        app_spec_t s;
        uint8_t *app;
        size_t len;
        cfg.anti_rollback = cases[i].anti;
        if (setup(&h, &cfg) != 0) {
            return;
        }
        /* the running app burned secure_version 2 into the eFuse (the factory app booted
         * before that; a counter of 2 at power-on would not boot it) */
        h.dev->boot.efuse_secure_version = 2;
        memset(&s, 0, sizeof(s));
        s.version = cases[i].version;
        s.project = "early";
        s.chip_id = cases[i].chip;
        s.min_rev = cases[i].min_rev;
        s.max_rev = 399;
        s.secure_version = cases[i].sv;
        s.data_len = 0x800;
        len = app_size(&s);
        app = malloc(len);
        if (app == NULL || app_build(app, len, &s) == 0) {
            g_ct.failures++;
            return;
        }
        CHECK_EQ(push_app(&h, app, len, cases[i].flags), cases[i].want);
        if (cases[i].want != OTARX_OK) {
            CHECK_EQ(h.last_detail, cases[i].detail);
            /* refused within the first chunk, before anything reached the target slot */
            CHECK_EQ(otarx_session_stats(h.ctx)->consumed, 1);
            CHECK(all_ff(h_slot(&h, 1), 0x100000));
            check_nothing_boots_differently(&h);
        }
        free(app);
        h_free(&h);
    }
    {
        /* random bytes instead of an app: NOT_APP */
        harness_t h;
        hcfg_t cfg = h_default_cfg(g_fixtures);
        uint8_t junk[2000];
        for (size_t k = 0; k < sizeof(junk); k++) {
            junk[k] = (uint8_t)(k * 31u + 7u);
        }
        if (setup(&h, &cfg) != 0) {
            return;
        }
        CHECK_EQ(push_app(&h, junk, sizeof(junk), 0), OTARX_NOT_APP);
        CHECK(all_ff(h_slot(&h, 1), 0x100000));
        h_free(&h);
    }
}

/* A device whose eFuse secure_version is 2, and an image (secure_version `sv`) encrypted for it;
 * on failure the harness is freed and a failure counted. */
static int start_at_efuse2(harness_t *h, hcfg_t *cfg, const char *key, uint32_t sv, uint8_t **img,
                           size_t *n)
{
    size_t len;
    uint8_t *app;
    if (setup(h, cfg) != 0) {
        return -1;
    }
    h->dev->boot.efuse_secure_version = 2;
    app = h_app("2.0.0", 0, sv, 0x800, &len);
    *img = app != NULL ? h_encrypt(app, len, key, n) : NULL;
    free(app);
    if (*img == NULL) {
        g_ct.failures++;
        h_free(h);
        return -1;
    }
    return 0;
}

/* SECURE_VERSION carries the image's secure_version as its detail (SPEC §4.6, §4.7): in the
 * early refusal's ACK (in place of sack) and in END's RESULT when the eFuse rose meanwhile. */
static void test_secure_version_detail(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    char key[600];
    uint8_t *img;
    size_t n;
    uint32_t next = 0, credit = 0, off;
    snprintf(key, sizeof(key), "%s/rsa3072_private.pem", g_fixtures);
    cfg.anti_rollback = 1;
    /* early: image secure_version 1, eFuse at 2 */
    if (start_at_efuse2(&h, &cfg, key, 1, &img, &n) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, img, (uint32_t)n, &next, &credit), OTARX_OK);
    h_clear(&h);
    CHECK_EQ(h_data(&h, img, next, 1024, &f), OTARX_SECURE_VERSION);
    CHECK_EQ(h_u32(&f, 1), 512u + 1024u); /* next_offset reached */
    CHECK_EQ(h_u32(&f, 9), 1u);           /* detail: the image's secure_version */
    h_free(&h);
    free(img);

    /* at END: image secure_version 3 passes the early check at eFuse 2; then the eFuse rises */
    if (start_at_efuse2(&h, &cfg, key, 3, &img, &n) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, img, (uint32_t)n, &next, &credit), OTARX_OK);
    for (off = next; off < n; off += 1024) {
        uint32_t l = (uint32_t)n - off < 1024u ? (uint32_t)n - off : 1024u;
        h_clear(&h);
        CHECK_EQ(h_data(&h, img, off, l, &f), OTARX_OK);
    }
    h.dev->boot.efuse_secure_version = 4;
    h_clear(&h);
    CHECK_EQ(h_end(&h, 0, &f), OTARX_SECURE_VERSION);
    CHECK_EQ(f.payload[1], 0xFF);
    CHECK_EQ(h_u32(&f, 38), 3u); /* detail: the image's secure_version */
    check_nothing_boots_differently(&h);
    h_free(&h);
    free(img);
}

static void test_window(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    size_t n, pn;
    char key[600];
    uint8_t *plain = h_app("1.2.3-vector", 0, 1, 0x2000, &pn), *img;
    uint32_t next = 0, credit = 0, c = 256;
    snprintf(key, sizeof(key), "%s/rsa3072_private.pem", g_fixtures);
    img = plain != NULL ? h_encrypt(plain, pn, key, &n) : NULL;
    if (img == NULL || setup(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, (uint16_t)c, img, (uint32_t)n, &next, &credit), OTARX_OK);
    CHECK_EQ(next, 512);
    CHECK_EQ(credit, 512 + 16 * c); /* window 4096 = 16 chunks of 256 */
    h_clear(&h);
    CHECK_EQ(h_data(&h, img, 512 + 2 * c, c, &f), OTARX_OK);
    CHECK_EQ(h_u32(&f, 1), 512);
    CHECK_EQ(h_u32(&f, 9), 0x2); /* chunk next + 2c held: bit 1 */
    CHECK_EQ(h_data(&h, img, 512 + c, c, &f), OTARX_OK);
    CHECK_EQ(h_u32(&f, 9), 0x3);
    CHECK_EQ(h_data(&h, img, 512 + c, c, &f), OTARX_OK); /* duplicate of a held chunk */
    CHECK_EQ(otarx_session_stats(h.ctx)->duplicates, 1);
    CHECK_EQ(h_data(&h, img, 512, c, &f), OTARX_OK);
    CHECK_EQ(h_u32(&f, 1), 512 + 3 * c);
    CHECK_EQ(h_u32(&f, 5), 512 + 3 * c + 16 * c);
    CHECK_EQ(h_u32(&f, 9), 0);
    CHECK_EQ(h_data(&h, img, 512, c, &f), OTARX_OK); /* below next: a duplicate */
    CHECK_EQ(h_u32(&f, 1), 512 + 3 * c);
    /* refused without acting: short replies, the session continues (SPEC §4.9) */
    h_clear(&h);
    CHECK_EQ(h_data(&h, img, 512 + 3 * c + 16, c, &f), OTARX_BAD_REQUEST); /* off the grid */
    CHECK_EQ(f.n, 1);
    CHECK_EQ(h_data(&h, img, 512 + 3 * c, c - 16, &f), OTARX_BAD_REQUEST); /* wrong length */
    CHECK_EQ(h_data(&h, img, 512 + 19 * c, c, &f), OTARX_BAD_REQUEST);     /* at credit_end */
    CHECK_EQ(h_data(&h, img, 512 + 24 * c, c, &f), OTARX_BAD_REQUEST); /* far beyond (fuzz) */
    CHECK_EQ(otarx_session_stats(h.ctx)->bad_data, 4);
    CHECK_EQ(otarx_session_stats(h.ctx)->out_of_order, 2);
    CHECK_EQ(otarx_session_active(h.ctx), 1);
    /* END too early: INCOMPLETE with next_offset, the session stays */
    CHECK_EQ(h_end(&h, 0, &f), OTARX_INCOMPLETE);
    CHECK_EQ(h_u32(&f, 38), 512 + 3 * c);
    CHECK_EQ(f.payload[1], 0xFF);
    for (next = 512 + 3 * c; next < n; next += c) {
        uint32_t len = (uint32_t)n - next < c ? (uint32_t)n - next : c;
        CHECK_EQ(h_data(&h, img, next, len, &f), OTARX_OK);
    }
    CHECK_EQ(h_end(&h, 0, &f), OTARX_OK);
    CHECK_EQ(f.payload[1], 1);
    CHECK(strcmp((const char *)&f.payload[6], "1.2.3-vector") == 0);
    CHECK_EQ(h_u32(&f, 2), 1); /* secure_version */
    CHECK_MEM(h_slot(&h, 1), plain, pn);
    /* the session is over: a repeated END finds none */
    CHECK_EQ(h_end(&h, 0, &f), OTARX_NO_SESSION);
    CHECK_EQ(f.payload[1], 0xFF);
    h_free(&h);
    free(img);
    free(plain);
}

void run_receiver_tests(void);
void run_receiver_tests(void)
{
    RUN(test_push_rsa_boots);
    RUN(test_push_ecies_boots);
    RUN(test_tampered_refused);
    RUN(test_begin_refusals);
    RUN(test_early_checks);
    RUN(test_secure_version_detail);
    RUN(test_window);
}
