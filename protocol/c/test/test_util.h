/*
 * Small helpers shared by the receiver test files. Header-only and test binaries only: they count
 * into the run's tally (g_ct), which the fuzz target that also links harness.c does not have.
 */
#ifndef OTARX_TEST_UTIL_H
#define OTARX_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

#endif
