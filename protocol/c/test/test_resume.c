/*
 * test_resume.c: resume within a power cycle (SPEC §6.4) and across a power cut (SPEC §7): the
 * durable record, the GCM state rebuilt from the plaintext in flash, a dirty sector after the
 * record, FRESH, ABORT. When the record goes (or stays) is in test_record.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"
#include "otarx_priv.h"
#include "test_util.h"

static void test_resume_in_ram(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    image_t im;
    uint32_t next = 0;
    uint8_t digest[32];
    if (im_setup(&h, &cfg, &im, 0x3000) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    im_send(&h, &im, 512, 512 + 5 * 1024, 1024);
    /* the link drops; the host comes back and says HELLO */
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK(f.payload[16] & OTARX_DEV_RESUMABLE);
    CHECK_EQ(h_u32(&f, 124), 512 + 5 * 1024);
    CHECK_EQ(h_u32(&f, 128), im.n);
    /* a new BEGIN with another chunk size continues where the device is */
    CHECK_EQ(h_begin(&h, 0, 512, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, 512 + 5 * 1024);
    CHECK_EQ(im_finish(&h, &im, next, 512), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), im.app, im.alen);
    CHECK_EQ(otarx_session_stats(h.ctx)->resumes, 1);
    /* installed (SPEC §4.2 bit6): the file digest spans the resume in RAM */
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[16] & (OTARX_DEV_INSTALLED | OTARX_DEV_RESUMABLE), OTARX_DEV_INSTALLED);
    CHECK_EQ(otarx_sha256(im.img, im.n, digest), OTARX_OK);
    CHECK_MEM(&f.payload[92], digest, 32);
    CHECK_EQ(h_u32(&f, 124), im.n);
    CHECK_EQ(h_u32(&f, 128), im.n);
    h_free(&h);
    im_free(&im);
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
    if (im_setup(&h, &cfg, &im, 0x1C000) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    im_send(&h, &im, 512, cut_at, 1024);
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
    CHECK_EQ(im_finish(&h, &im, next, 1024), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), im.app, im.alen);
    /* the record is gone after RESULT; and the bytes before it never came through this power
     * cycle, so there is no file digest to report (SPEC §4.2 bit6) */
    CHECK_EQ(h_hello(&h, &f), OTARX_OK);
    CHECK_EQ(f.payload[16] & (OTARX_DEV_RESUMABLE | OTARX_DEV_INSTALLED), 0);
    h_free(&h);
    im_free(&im);
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
    if (im_setup(&h, &cfg, &im, 0x3000) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    im_send(&h, &im, 512, 512 + 4 * 1024, 1024);
    CHECK_EQ(h_power_cycle(&h), 0);
    CHECK_EQ(h_begin(&h, OTARX_BEGIN_FRESH, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, 512);
    im_send(&h, &im, 512, 512 + 2 * 1024, 1024);
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
    im_free(&im);
}

/* A different image after a power cut must not pick up the old record. */
static void test_other_image_starts_fresh(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    image_t a, b;
    uint32_t next = 0;
    if (im_make(&a, 0x3000) != 0 || im_make(&b, 0x3400) != 0 || h_init(&h, &cfg) != 0) {
        return;
    }
    CHECK_EQ(h_begin(&h, 0, 1024, a.img, (uint32_t)a.n, &next, NULL), OTARX_OK);
    im_send(&h, &a, 512, 512 + 4 * 1024, 1024);
    CHECK_EQ(h_power_cycle(&h), 0);
    CHECK_EQ(h_begin(&h, 0, 1024, b.img, (uint32_t)b.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, 512);
    CHECK_EQ(im_finish(&h, &b, 512, 1024), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), b.app, b.alen);
    h_free(&h);
    im_free(&a);
    im_free(&b);
}

/* A cut between a write and its record: the record stops at RECORD_UPTO, the slot goes on. */
#define RECORD_UPTO (512u + 5u * 1024u) /* plaintext 5120: inside the sector at 4096 */
static int (*g_flash_erase)(void *user, uint8_t part, uint32_t off, uint32_t len);
static int (*g_record_store)(void *user, const otarx_record_t *rec);
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
    if (im_setup(&h, &cfg, &im, 0x6000) != 0) {
        return;
    }
    g_record_store = h.ops.record_store;
    h.ops.record_store = record_store_upto;
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    im_send(&h, &im, 512, 512 + 8 * 1024, 1024);
    h.ops.record_store = g_record_store;
    CHECK_EQ(h_power_cycle(&h), 0);
    CHECK_MEM(h_slot(&h, 1) + 5120, im.app + 5120, 3072); /* written after the record */
    g_flash_erase = h.ops.flash_erase;
    g_erased_at_4096 = 0;
    h.ops.flash_erase = flash_erase_counting;
    CHECK_EQ(h_begin(&h, 0, 1024, im.img, (uint32_t)im.n, &next, NULL), OTARX_OK);
    CHECK_EQ(next, RECORD_UPTO);
    CHECK_EQ(im_finish(&h, &im, next, 1024), OTARX_OK);
    CHECK_EQ(g_erased_at_4096, 1u);
    h.ops.flash_erase = g_flash_erase;
    CHECK_MEM(h_slot(&h, 1), im.app, im.alen);
    h_free(&h);
    im_free(&im);
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
    RUN(test_resume_rewrites_written_sector);
}
