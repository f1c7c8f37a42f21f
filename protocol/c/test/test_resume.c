/*
 * test_resume.c: resume within a power cycle (SPEC §6.4) and across a power cut (SPEC §7): the
 * durable record, the GCM state rebuilt from the plaintext in flash, a dirty sector after the
 * record, FRESH, ABORT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"
#include "otarx_priv.h"
#include "test_util.h"

extern const char *g_fixtures;

typedef struct {
    uint8_t *app, *img;
    size_t alen, n;
} image_t;

static int make(image_t *im, uint32_t data_len)
{
    char key[600];
    snprintf(key, sizeof(key), "%s/rsa3072_private.pem", g_fixtures);
    im->app = h_app("4.0.0", 0, 1, data_len, &im->alen);
    im->img = im->app ? h_encrypt(im->app, im->alen, key, &im->n) : NULL;
    if (im->img == NULL) {
        g_ct.failures++;
        return -1;
    }
    return 0;
}

static void unmake(image_t *im)
{
    free(im->app);
    free(im->img);
}

/* In-order DATA from `from` up to (not including) `to`. */
static void send_range(harness_t *h, const image_t *im, uint32_t from, uint32_t to, uint32_t c)
{
    hframe_t f;
    uint32_t off;
    for (off = from; off < to; off += c) {
        uint32_t len = (uint32_t)im->n - off < c ? (uint32_t)im->n - off : c;
        h_clear(h);
        CHECK_EQ(h_data(h, im->img, off, len, &f), OTARX_OK);
    }
}

static int finish(harness_t *h, const image_t *im, uint32_t from, uint32_t c)
{
    hframe_t f;
    send_range(h, im, from, (uint32_t)im->n, c);
    h_clear(h);
    return h_end(h, 0, &f);
}

static void test_resume_in_ram(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    image_t im;
    uint32_t next = 0;
    if (make(&im, 0x3000) != 0 || h_init(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    send_range(&h, &im, 512, 512 + 5 * 1024, 1024);
    /* the link drops; the host comes back and says HELLO */
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK(f.payload[16] & OTARX_DEV_RESUMABLE);
    CHECK_EQ(h_u32(&f, 124), 512 + 5 * 1024);
    CHECK_EQ(h_u32(&f, 128), im.n);
    /* a new BEGIN with another chunk size continues where the device is */
    CHECK_EQ(h_begin(&h, 0, 512, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, 512 + 5 * 1024);
    CHECK_EQ(finish(&h, &im, next, 512), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), im.app, im.alen);
    CHECK_EQ(otarx_session_stats(h.ctx)->resumes, 1);
    h_free(&h);
    unmake(&im);
}

/* Power cut after part of the image; the next BEGIN continues from the durable record. */
static void power_cut_case(uint32_t record_interval, uint32_t cut_at, int dirty, uint32_t want)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    image_t im;
    uint32_t next = 0;
    cfg.limits.record_interval = record_interval;
    if (make(&im, 0x1C000) != 0 || h_init(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    send_range(&h, &im, 512, cut_at, 1024);
    CHECK_EQ(h_power_cycle(&h), 0);
    if (dirty) {
        /* bytes that reached the slot after the record (here: garbage, so NOR cannot
         * program the right plaintext over them) */
        memset(h.dev->flash.mem + h.dev->layout.apps[1].offset + (want - 512u), 0x00, 40);
    }
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK(f.payload[16] & OTARX_DEV_RESUMABLE);
    CHECK_EQ(h_u32(&f, 124), want);
    CHECK_EQ(h_u32(&f, 128), 0); /* the record keeps no total */
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, want);
    CHECK_EQ(finish(&h, &im, next, 1024), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), im.app, im.alen);
    /* the record is gone after RESULT */
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[16] & OTARX_DEV_RESUMABLE, 0);
    h_free(&h);
    unmake(&im);
}

static void test_power_cut_every_write(void) { power_cut_case(1, 512 + 37 * 1024, 0, 512 + 37 * 1024); }
static void test_power_cut_dirty_sector(void) { power_cut_case(1, 512 + 37 * 1024, 1, 512 + 37 * 1024); }
static void test_power_cut_64k_records(void) { power_cut_case(0, 512 + 100 * 1024, 0, 512 + 65536); }

static void test_fresh_and_abort(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    image_t im;
    uint32_t next = 0;
    if (make(&im, 0x3000) != 0 || h_init(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    send_range(&h, &im, 512, 512 + 4 * 1024, 1024);
    CHECK_EQ(h_power_cycle(&h), 0);
    CHECK_EQ(h_begin(&h, OTARX_BEGIN_FRESH, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, 512);
    send_range(&h, &im, 512, 512 + 2 * 1024, 1024);
    h_clear(&h);
    h_send(&h, 0x06, NULL, 0);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.type, 0x86);
    CHECK_EQ(f.payload[0], OTARX_OK);
    h_clear(&h);
    CHECK_EQ(h_data(&h, im.img, 512 + 2048, 1024, &f), OTARX_NO_SESSION);
    CHECK_EQ(h_power_cycle(&h), 0);
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[16] & OTARX_DEV_RESUMABLE, 0); /* ABORT dropped the record too */
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, 512);
    h_free(&h);
    unmake(&im);
}

/* A new session's key is unwrapped after its BEGIN_ACK (SPEC §4.4 step 5): an image for another
 * key is refused on its DATA and END, until ABORT, and the durable record of the image that was
 * in progress survives, slot bytes and all, so that image still resumes. */
static void test_wrong_key_after_begin_ack(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    image_t im;
    size_t en;
    uint8_t *other = fixture("app_esp32.ecies.enc.bin", &en);
    uint32_t next = 1, credit = 0, cut = 512 + 37 * 1024;
    cfg.limits.record_interval = 1;
    if (other == NULL || make(&im, 0x1C000) != 0 || h_init(&h, &cfg) != 0) {
        free(other);
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    send_range(&h, &im, 512, cut, 1024);
    CHECK_EQ(h_power_cycle(&h), 0);

    CHECK_EQ(h_begin(&h, 0, 1024, other, (uint32_t)en, &next, &credit), OTARX_OK);
    CHECK_EQ(next, 512);
    CHECK(credit > 512);
    h_clear(&h);
    CHECK_EQ(h_data(&h, other, 512, 1024, &f), OTARX_WRONG_KEY);
    CHECK_EQ(h_u32(&f, 1), 0);
    CHECK_EQ(h_u32(&f, 9), 0); /* detail */
    h_clear(&h);
    CHECK_EQ(h_data(&h, other, 512 + 1024, 1024, &f), OTARX_WRONG_KEY); /* every one: ACKs get lost */
    h_clear(&h);
    CHECK_EQ(h_end(&h, 0, &f), OTARX_WRONG_KEY);
    CHECK_EQ(otarx_session_active(h.ctx), 0);
    /* nothing was erased or written, and the other image's progress is still offered */
    CHECK_MEM(h_slot(&h, 1), im.app, cut - 512);
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK(f.payload[16] & OTARX_DEV_RESUMABLE);
    CHECK_EQ(h_u32(&f, 124), cut);
    /* the refusal holds through HELLO, ABORT ends it */
    h_clear(&h);
    CHECK_EQ(h_data(&h, other, 512, 1024, &f), OTARX_WRONG_KEY);
    h_clear(&h);
    CHECK_EQ(h_begin(&h, 0, 1024, other, (uint32_t)en, NULL, NULL), OTARX_OK);
    h_clear(&h);
    h_send(&h, 0x06, NULL, 0);
    h_clear(&h);
    CHECK_EQ(h_data(&h, other, 512, 1024, &f), OTARX_NO_SESSION);
    free(other);
    h_free(&h);
    unmake(&im);
}

/* A different image after a power cut must not pick up the old record. */
static void test_other_image_starts_fresh(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    image_t a, b;
    uint32_t next = 0;
    if (make(&a, 0x3000) != 0 || make(&b, 0x3400) != 0 || h_init(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, a.img, (uint32_t)a.n, &next, NULL), OTARX_OK);
    send_range(&h, &a, 512, 512 + 4 * 1024, 1024);
    CHECK_EQ(h_power_cycle(&h), 0);
    CHECK_EQ(h_begin(&h, 0, 1024, b.img, (uint32_t)b.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, 512);
    CHECK_EQ(finish(&h, &b, 512, 1024), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), b.app, b.alen);
    h_free(&h);
    unmake(&a);
    unmake(&b);
}

/* A power cut right after END has switched otadata: nothing after the boot switch reaches the
 * flash. (Found by the fault matrix, scripts/faults: the record was forgotten after set_boot, so
 * such a cut left a record for an image already set to boot; once it ran, its update slot was
 * the other one and a BEGIN of the same image "resumed" there from bytes that were not it.) */
static int g_switched;
static int (*g_set_boot)(void *user, uint8_t part);
static int (*g_record_store)(void *user, const otarx_record_t *rec);

static int set_boot_then_cut(void *user, uint8_t part)
{
    int rc = g_set_boot(user, part);
    g_switched = 1;
    return rc;
}

static int record_store_unless_cut(void *user, const otarx_record_t *rec)
{
    return g_switched ? OTARX_FLASH_ERROR : g_record_store(user, rec);
}

static void test_power_cut_after_boot_switch(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    image_t im;
    uint32_t next = 0;
    if (make(&im, 0x6000) != 0 || h_init(&h, &cfg) != 0) {
        return;
    }
    g_switched = 0;
    g_set_boot = h.ops.set_boot;
    g_record_store = h.ops.record_store;
    h.ops.set_boot = set_boot_then_cut;
    h.ops.record_store = record_store_unless_cut;
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    send_range(&h, &im, 512, (uint32_t)im.n, 1024);
    h_clear(&h);
    (void)h_end(&h, 0, &f);
    CHECK(g_switched);
    h.ops.set_boot = g_set_boot;
    h.ops.record_store = g_record_store;
    CHECK_EQ(h_power_cycle(&h), 0);
    /* the new app runs from ota_0; no session to resume is left for it */
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[16] & OTARX_DEV_RESUMABLE, 0);
    /* the same image again goes to ota_1 from the start, and installs */
    CHECK_EQ(h_begin(&h, 1, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, 512);
    CHECK_EQ(finish(&h, &im, 512, 1024), OTARX_OK);
    CHECK_MEM(h_slot(&h, 2), im.app, im.alen);
    h_free(&h);
    unmake(&im);
}

/* A cut between a write and its record: the record stops at RECORD_UPTO, the slot goes on. */
#define RECORD_UPTO (512u + 5u * 1024u) /* plaintext 5120: inside the sector at 4096 */
static int (*g_flash_erase)(void *user, uint8_t part, uint32_t off, uint32_t len);
static uint32_t g_erased_at_4096;

static int record_store_upto(void *user, const otarx_record_t *rec)
{
    return rec != NULL && rec->offset > RECORD_UPTO ? OTARX_OK : g_record_store(user, rec);
}

static int flash_erase_counting(void *user, uint8_t part, uint32_t off, uint32_t len)
{
    if (part == 1 && off <= 4096u && off + len > 4096u) {
        g_erased_at_4096++;
    }
    return g_flash_erase(user, part, off, len);
}

/* SPEC §7: the flash after the resume point must be blank before it is written again. After a
 * cut between a write and its record it holds the same plaintext; the sector is still rewritten. */
static void test_resume_rewrites_written_sector(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    image_t im;
    uint32_t next = 0;
    if (make(&im, 0x6000) != 0 || h_init(&h, &cfg) != 0) {
        return;
    }
    g_record_store = h.ops.record_store;
    h.ops.record_store = record_store_upto;
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    send_range(&h, &im, 512, 512 + 8 * 1024, 1024);
    h.ops.record_store = g_record_store;
    CHECK_EQ(h_power_cycle(&h), 0);
    CHECK_MEM(h_slot(&h, 1) + 5120, im.app + 5120, 3072); /* written after the record */
    g_flash_erase = h.ops.flash_erase;
    g_erased_at_4096 = 0;
    h.ops.flash_erase = flash_erase_counting;
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, RECORD_UPTO);
    CHECK_EQ(finish(&h, &im, next, 1024), OTARX_OK);
    CHECK_EQ(g_erased_at_4096, 1u);
    h.ops.flash_erase = g_flash_erase;
    CHECK_MEM(h_slot(&h, 1), im.app, im.alen);
    h_free(&h);
    unmake(&im);
}

static int nvs_erased(harness_t *h)
{
    const uint8_t *p = h->dev->flash.mem + h->dev->layout.nvs;
    size_t i;
    for (i = 0; i < 4096; i++) {
        if (p[i] != 0xFF) {
            return 0;
        }
    }
    return 1;
}

/* Clearing the record erases its sector (SPEC §7): after END, a failed END, ABORT, FRESH and
 * another image a reader finds nothing at all, not an entry meaning "none". */
static void test_record_cleared_by_erase(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    image_t a, b;
    uint32_t next = 0;
    int step;
    if (make(&a, 0x3000) != 0 || make(&b, 0x3400) != 0) {
        return;
    }
    for (step = 0; step < 5; step++) {
        if (h_init(&h, &cfg) != 0) {
            g_ct.failures++;
            break;
        }
        if (step == 1) {
            a.img[600] ^= 1; /* ciphertext: AUTH_FAILED at END */
        }
        CHECK_EQ(h_begin(&h, 0, 1024, a.img, (uint32_t)a.n, &next, NULL), OTARX_OK);
        send_range(&h, &a, 512, 512 + 4 * 1024, 1024);
        CHECK(!nvs_erased(&h)); /* a record exists */
        switch (step) {
        case 0:
            CHECK_EQ(finish(&h, &a, 512 + 4 * 1024, 1024), OTARX_OK);
            break;
        case 1:
            CHECK_EQ(finish(&h, &a, 512 + 4 * 1024, 1024), OTARX_AUTH_FAILED);
            a.img[600] ^= 1;
            break;
        case 2:
            h_clear(&h);
            h_send(&h, 0x06, NULL, 0);
            CHECK(h_take(&h, &f));
            CHECK_EQ(f.type, 0x86);
            break;
        case 3:
            CHECK_EQ(h_power_cycle(&h), 0);
            CHECK_EQ(h_begin(&h, OTARX_BEGIN_FRESH, 1024, a.img, (uint32_t)a.n, &next, NULL), OTARX_OK);
            CHECK_EQ(next, 512);
            break;
        default:
            CHECK_EQ(h_power_cycle(&h), 0);
            CHECK_EQ(h_begin(&h, 0, 1024, b.img, (uint32_t)b.n, &next, NULL), OTARX_OK);
            CHECK_EQ(next, 512);
            break;
        }
        CHECK(nvs_erased(&h));
        h_free(&h);
    }
    unmake(&a);
    unmake(&b);
}

void run_resume_tests(void);
void run_resume_tests(void)
{
    RUN(test_resume_in_ram);
    RUN(test_power_cut_every_write);
    RUN(test_power_cut_dirty_sector);
    RUN(test_power_cut_64k_records);
    RUN(test_fresh_and_abort);
    RUN(test_other_image_starts_fresh);
    RUN(test_wrong_key_after_begin_ack);
    RUN(test_power_cut_after_boot_switch);
    RUN(test_record_cleared_by_erase);
    RUN(test_resume_rewrites_written_sector);
}
