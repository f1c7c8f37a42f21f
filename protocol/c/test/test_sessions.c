/*
 * test_sessions.c: the files protocol/vectors/sessions/NAME.vec (SPEC §9.6): set the device up as the file's
 * `device` lines say, feed the h2d lines, and compare everything the device sends with the d2h
 * lines byte for byte.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"
#include "vecfile.h"

extern const char *g_fixtures;

/* `device <name> <value>` (SPEC §9.6). Returns 0, or -1 for a line this runner cannot honour. */
static int device_line(const vec_entry_t *e, const char *vectors, hcfg_t *cfg, char *key,
                       size_t key_len, unsigned *seen)
{
    const char *name = e->argc == 2 ? e->argv[0] : "", *v = e->argc == 2 ? e->argv[1] : "";
    unsigned long n = strtoul(v, NULL, 10);
    if (strcmp(name, "key") == 0) {
        snprintf(key, key_len, "%s/%s", vectors, v);
        cfg->key_path = key;
        cfg->hmac_path = NULL;
    } else if (strcmp(name, "flash") == 0) {
        if (strcmp(v, "factory") != 0) {
            return -1; /* appendix A is the only flash defined */
        }
    } else if (strcmp(name, "max_frame") == 0) {
        cfg->limits.max_frame = (uint16_t)n;
    } else if (strcmp(name, "window") == 0) {
        cfg->limits.window = (uint32_t)n;
    } else if (strcmp(name, "max_baud") == 0) {
        cfg->max_baud = (uint32_t)n;
    } else if (strcmp(name, "chip_id") == 0) {
        cfg->chip_id = (uint16_t)n;
    } else if (strcmp(name, "chip_rev") == 0) {
        cfg->chip_rev = (uint16_t)n;
    } else if (strcmp(name, "flags") == 0) {
        if (n & ~(unsigned long)(OTARX_DEV_ROLLBACK | OTARX_DEV_ANTI_ROLLBACK | OTARX_DEV_IRAM_UART)) {
            return -1; /* state bits never appear here */
        }
        cfg->rollback = (n & OTARX_DEV_ROLLBACK) != 0;
        cfg->anti_rollback = (n & OTARX_DEV_ANTI_ROLLBACK) != 0;
        cfg->iram = (n & OTARX_DEV_IRAM_UART) != 0;
    } else if (strcmp(name, "efuse_secure_version") == 0) {
        cfg->efuse_sv = (uint32_t)n;
    } else {
        return -1;
    }
    (*seen)++;
    return 0;
}

static int run_file(const char *vectors, const char *path)
{
    static uint8_t buf[20000];
    static char key[600];
    vec_file_t f;
    vec_entry_t e;
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    int started = 0, bad = 0;
    unsigned seen = 0;
    if (vec_open(&f, path) != 0) {
        return -1;
    }
    while (vec_next(&f, &e)) {
        size_t n;
        if (strcmp(e.kw, "device") == 0) {
            if (started || device_line(&e, vectors, &cfg, key, sizeof(key), &seen) != 0) {
                fprintf(stderr, "%s:%u: device line not understood\n", path, e.line);
                bad = 1;
                break;
            }
            continue;
        }
        if (!started) {
            if (seen != 9) {
                fprintf(stderr, "%s: %u device lines, SPEC §9.6 lists 9\n", path, seen);
                bad = 1;
                break;
            }
            cfg.limits.record_interval = 1;
            if (h_init(&h, &cfg) != 0) {
                bad = 1;
                break;
            }
            started = 1;
        }
        n = e.argc == 1 ? vec_hex(e.argv[0], buf, sizeof(buf)) : (size_t)-1;
        if (n == (size_t)-1) {
            fprintf(stderr, "%s:%u: bad entry\n", path, e.line);
            bad = 1;
            break;
        }
        if (strcmp(e.kw, "h2d") == 0) {
            if (h.out_len != 0) {
                fprintf(stderr, "%s:%u: before this h2d the device sent %lu bytes no d2h line "
                                "expects\n", path, e.line, (unsigned long)h.out_len);
                g_ct.failures++;
                h_clear(&h);
            }
            otarx_feed(h.ctx, buf, n);
        } else if (strcmp(e.kw, "d2h") == 0) {
            g_ct.checks++;
            if (h.out_len < n || memcmp(h.out, buf, n) != 0) {
                size_t i = 0;
                while (i < n && i < h.out_len && h.out[i] == buf[i]) {
                    i++;
                }
                fprintf(stderr, "%s:%u: device sent other bytes (first difference at byte %lu; "
                                "%lu bytes waiting)\n",
                        path, e.line, (unsigned long)i, (unsigned long)h.out_len);
                g_ct.failures++;
                h_clear(&h);
                continue;
            }
            memmove(h.out, h.out + n, h.out_len - n);
            h.out_len -= n;
        } else {
            fprintf(stderr, "%s:%u: unknown keyword '%s'\n", path, e.line, e.kw);
            bad = 1;
            break;
        }
    }
    if (started) {
        g_ct.checks++;
        if (!bad && h.out_len != 0) {
            fprintf(stderr, "%s: the device sent %lu bytes no d2h line expects\n", path,
                    (unsigned long)h.out_len);
            g_ct.failures++;
        }
        h_free(&h);
    }
    vec_close(&f);
    return bad ? -1 : 0;
}

int run_session_vectors(const char *dir, unsigned *files);
int run_session_vectors(const char *dir, unsigned *files)
{
    char path[700];
    DIR *d;
    struct dirent *de;
    int rc = 0;
    snprintf(path, sizeof(path), "%s/sessions", dir);
    d = opendir(path);
    if (d == NULL) {
        return 0; /* none yet */
    }
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".vec") != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/sessions/%s", dir, de->d_name);
        (*files)++;
        if (run_file(dir, path) != 0) {
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}
