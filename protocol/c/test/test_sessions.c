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

static int device_line(const vec_entry_t *e, hcfg_t *cfg, char *key, size_t key_len)
{
    int i;
    for (i = 0; i < e->argc; i++) {
        const char *a = e->argv[i], *v = strchr(a, '=');
        size_t k;
        if (v == NULL) {
            return -1;
        }
        k = (size_t)(v - a);
        v++;
#define KEY(name) (k == strlen(name) && strncmp(a, name, k) == 0)
        if (KEY("key")) {
            snprintf(key, key_len, "%s/%s", g_fixtures, strrchr(v, '/') ? strrchr(v, '/') + 1 : v);
            cfg->key_path = key;
        } else if (KEY("chip")) {
            cfg->chip_id = (uint16_t)(strcmp(v, "esp32") == 0 ? 0 : strtoul(v, NULL, 0));
        } else if (KEY("chip_rev")) {
            cfg->chip_rev = (uint16_t)strtoul(v, NULL, 10);
        } else if (KEY("max_frame")) {
            cfg->limits.max_frame = (uint16_t)strtoul(v, NULL, 10);
        } else if (KEY("window")) {
            cfg->limits.window = (uint32_t)strtoul(v, NULL, 10);
        } else if (KEY("max_baud")) {
            cfg->max_baud = (uint32_t)strtoul(v, NULL, 10);
        } else if (KEY("rollback")) {
            cfg->rollback = atoi(v);
        } else if (KEY("anti_rollback")) {
            cfg->anti_rollback = atoi(v);
        } else if (KEY("efuse_secure_version")) {
            cfg->efuse_sv = (uint32_t)strtoul(v, NULL, 10);
        } else if (KEY("iram_uart")) {
            cfg->iram = atoi(v);
        } else if (KEY("flash") || KEY("flash_timing") || KEY("layout")) {
            /* the reference factory flash with instant timing is the only one defined */
            if (strcmp(v, "factory") != 0 && strcmp(v, "instant") != 0 &&
                strcmp(v, "two_ota") != 0) {
                return -1;
            }
        } else {
            return -1;
        }
#undef KEY
    }
    return 0;
}

static int run_file(const char *path)
{
    static uint8_t buf[20000];
    static char key[600];
    vec_file_t f;
    vec_entry_t e;
    harness_t h;
    hcfg_t cfg = h_default_cfg(g_fixtures);
    int started = 0, bad = 0;
    if (vec_open(&f, path) != 0) {
        return -1;
    }
    while (vec_next(&f, &e)) {
        size_t n;
        if (strcmp(e.kw, "device") == 0) {
            if (started || device_line(&e, &cfg, key, sizeof(key)) != 0) {
                fprintf(stderr, "%s:%u: device line not understood\n", path, e.line);
                bad = 1;
                break;
            }
            continue;
        }
        if (!started) {
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
        if (run_file(path) != 0) {
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}
