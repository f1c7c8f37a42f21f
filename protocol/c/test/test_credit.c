/*
 * test_credit.c: the two credit plans of SPEC §6.3 with ESP32 flash times: without an IRAM-safe
 * UART ISR credit ends at the flash point and the batch is written only when nothing is in
 * flight; with one, a long erase is announced in the chunk's ACK (BUSY).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"
#include "test_util.h"
#include "otarx_priv.h"

extern const char *g_fixtures;

/* Batch credit (no IRAM-safe ISR): nothing in flight during flash work. */
static void test_batch_credit(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    size_t alen, n;
    char key[600];
    uint8_t *app = h_app("3.0.0", 0, 1, 0x4000, &alen), *img;
    uint32_t next = 0, credit = 0, off;
    int acks;
    cfg.iram = 0;
    snprintf(key, sizeof(key), "%s/rsa3072_private.pem", g_fixtures);
    img = app ? h_encrypt(app, alen, key, &n) : NULL;
    if (img == NULL || setup(&h, &cfg) != 0) {
        return;
    }
    h_esp32_timing(&h);
    CHECK_EQ(h_begin(&h, 0, 1024, img, (uint32_t)n, &next, &credit), OTARX_OK);
    CHECK_EQ(credit, 512 + 4096);
    for (off = 512; off < 512 + 3 * 1024; off += 1024) {
        h_clear(&h);
        CHECK_EQ(h_data(&h, img, off, 1024, &f), OTARX_OK);
        CHECK_EQ(h_u32(&f, 5), 512 + 4096);
        CHECK_EQ(h_pending(&h), 0);
    }
    CHECK(all_ff(h_slot(&h, 1), 4096)); /* held until the batch is complete */
    h_clear(&h);
    CHECK_EQ(h_data(&h, img, off, 1024, &f), OTARX_BUSY); /* sector erase + 16 pages */
    CHECK_EQ(h_u32(&f, 5), 512 + 4096);                  /* old credit: the host stays quiet */
    CHECK(h_u16(&f, 13) >= 50);
    CHECK(h_take(&h, &f));
    CHECK_EQ(f.payload[0], OTARX_OK);
    CHECK_EQ(h_u32(&f, 1), 512 + 4096);
    CHECK_EQ(h_u32(&f, 5), 512 + 8192); /* the next batch */
    CHECK_MEM(h_slot(&h, 1), app, 4096);
    /* the rest in order, counting ACKs: every batch end gives two */
    acks = 0;
    for (off = 512 + 4096; off < n; off += 1024) {
        uint32_t len = (uint32_t)n - off < 1024 ? (uint32_t)n - off : 1024;
        h_clear(&h);
        CHECK(h_data(&h, img, off, len, &f) >= 0);
        acks += 1 + h_pending(&h);
    }
    CHECK_EQ(h_end(&h, 0, &f), OTARX_OK);
    CHECK_MEM(h_slot(&h, 1), app, alen);
    CHECK(acks > (int)((n - 4608) / 1024));
    h_free(&h);
    free(app);
    free(img);
}

/* Free credit with flash times: the first chunk's ACK announces the 64 KiB block erase. */
static void test_free_busy(void)
{
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    hframe_t f;
    size_t alen, n;
    char key[600];
    uint8_t *app = h_app("3.0.0", 0, 1, 0x20000, &alen), *img;
    snprintf(key, sizeof(key), "%s/rsa3072_private.pem", g_fixtures);
    img = app ? h_encrypt(app, alen, key, &n) : NULL;
    if (img == NULL || setup(&h, &cfg) != 0) {
        return;
    }
    h_esp32_timing(&h);
    CHECK_EQ(h_begin(&h, 0, 1024, img, (uint32_t)n, NULL, NULL), OTARX_OK);
    h_clear(&h);
    CHECK_EQ(h_data(&h, img, 512, 1024, &f), OTARX_BUSY);
    CHECK(h_u16(&f, 13) >= 150);
    CHECK_EQ(h_u32(&f, 1), 512 + 1024); /* the ACK already counts the chunk */
    CHECK_EQ(h_pending(&h), 0);         /* one ACK per DATA */
    CHECK_EQ(h_data(&h, img, 1536, 1024, &f), OTARX_OK);
    CHECK_EQ(h_take(&h, &f), 0);
    h_free(&h);
    free(app);
    free(img);
}

void run_credit_tests(void);
void run_credit_tests(void)
{
    RUN(test_batch_credit);
    RUN(test_free_busy);
}
