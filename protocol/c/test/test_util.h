/*
 * Small helpers shared by the receiver test files. Header-only and test binaries only: they count
 * into the run's tally (g_ct), which the fuzz target that also links harness.c does not have.
 */
#ifndef OTARX_TEST_UTIL_H
#define OTARX_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctest.h"
#include "harness.h"
#include "vecfile.h"

/* The fixtures directory (test_main.c, from the command line). */
extern const char *g_fixtures;

/* A fixture file's bytes (free() them), or NULL with a failure counted and the path said. */
static inline uint8_t *fixture(const char *name, size_t *len)
{
    char path[600];
    uint8_t *b;
    snprintf(path, sizeof(path), "%s/%s", g_fixtures, name);
    b = vec_read_file(path, len);
    if (b == NULL) {
        fprintf(stderr, "missing fixture %s\n", path);
        g_ct.failures++;
    }
    return b;
}

/* 1 when every byte is erased flash (0xFF). */
static inline int all_ff(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] != 0xFF) {
            return 0;
        }
    }
    return 1;
}

/* h_init, counting a failure (and saying so) when the harness cannot start. */
static inline int setup(harness_t *h, hcfg_t *cfg)
{
    if (h_init(h, cfg) != 0) {
        g_ct.failures++;
        fprintf(stderr, "harness init failed\n");
        return -1;
    }
    return 0;
}

/* An app made here (version 4.0.0, chip 0, secure version 1) and its image for the TEST key. */
typedef struct {
    uint8_t *app, *img;
    size_t alen, n;
} image_t;

static inline int im_make(image_t *im, uint32_t data_len)
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

static inline void im_free(image_t *im)
{
    free(im->app);
    free(im->img);
}

/* im_make, then the harness (cfg); on any failure both are undone, the failure counted: -1. */
static inline int im_setup(harness_t *h, hcfg_t *cfg, image_t *im, uint32_t data_len)
{
    if (im_make(im, data_len) != 0) {
        return -1;
    }
    if (setup(h, cfg) != 0) {
        im_free(im);
        return -1;
    }
    return 0;
}

/* In-order DATA from `from` up to (not including) `to`. */
static inline void im_send(harness_t *h, const image_t *im, uint32_t from, uint32_t to, uint32_t c)
{
    hframe_t f;
    uint32_t off;
    for (off = from; off < to; off += c) {
        uint32_t len = (uint32_t)im->n - off < c ? (uint32_t)im->n - off : c;
        h_clear(h);
        CHECK_EQ(h_data(h, im->img, off, len, &f), OTARX_OK);
    }
}

static inline int im_finish(harness_t *h, const image_t *im, uint32_t from, uint32_t c)
{
    hframe_t f;
    im_send(h, im, from, (uint32_t)im->n, c);
    h_clear(h);
    return h_end(h, 0, &f);
}

#endif
