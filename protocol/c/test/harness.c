/*
 * harness.c: see harness.h.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/gcm.h"
#include "mbedtls/pk.h"
#include "mbedtls/version.h"
#include "otarx_priv.h"
#include "vecfile.h"

static char g_key_path[512];

hcfg_t h_default_cfg(const char *fixtures)
{
    hcfg_t c;
    memset(&c, 0, sizeof(c));
    c.chip_rev = 300;
    c.iram = 1;
    c.max_baud = 2000000;
    c.limits.max_frame = 1040;
    c.limits.window = 4096;
    c.limits.record_interval = 1;
    snprintf(g_key_path, sizeof(g_key_path), "%s/rsa3072_private.pem", fixtures);
    c.key_path = g_key_path;
    c.factory_version = "1.0.0-factory";
    return c;
}

static int capture(void *user, const uint8_t *buf, size_t len)
{
    harness_t *h = (harness_t *)user;
    if (h->out_len + len > h->out_cap) {
        size_t cap = (h->out_len + len) * 2u + 1024u;
        uint8_t *p = realloc(h->out, cap);
        if (p == NULL) {
            return OTARX_ERR_IO;
        }
        h->out = p;
        h->out_cap = cap;
    }
    memcpy(h->out + h->out_len, buf, len);
    h->out_len += len;
    h->raw_total += len;
    return OTARX_OK;
}

static uint32_t test_now(void *user)
{
    return ((harness_t *)((host_dev_t *)user)->tx_user)->now;
}

static int test_set_baud(void *user, uint32_t baud)
{
    host_dev_t *d = (host_dev_t *)user;
    harness_t *h = (harness_t *)d->tx_user;
    h->baud_calls++;
    h->last_baud = baud;
    d->baud = baud;
    return OTARX_OK;
}

static void quiet_log(void *user, int level, const char *msg)
{
    (void)user;
    (void)msg;
    if (level <= 1 && getenv("OTARX_TEST_LOG") == NULL) {
        return; /* errors are expected in refusal tests; OTARX_TEST_LOG=1 shows everything */
    }
    if (getenv("OTARX_TEST_LOG") != NULL) {
        fprintf(stderr, "  device log %d: %s\n", level, msg);
    }
}

static void no_sleep(void *user, uint32_t us)
{
    ((harness_t *)user)->busy_us += us;
}

static int start_ctx(harness_t *h)
{
    otarx_key_t key;
    size_t klen = 0;
    uint8_t *kbuf;
    int rc;
    memset(&key, 0, sizeof(key));
    kbuf = vec_read_file(h->cfg.key_path != NULL ? h->cfg.key_path : h->cfg.hmac_path, &klen);
    if (kbuf == NULL) {
        fprintf(stderr, "harness: cannot read the key\n");
        return -1;
    }
    if (h->cfg.key_path != NULL) {
        key.rsa_pem = kbuf;
        key.rsa_pem_len = klen + 1u; /* vec_read_file adds a NUL */
    } else {
        key.hmac_key = kbuf;
    }
    host_dev_boot(h->dev, "power-on");
    rc = otarx_init(h->ctx, &h->ops, h->dev, &key, &h->cfg.limits);
    free(kbuf);
    if (rc != OTARX_OK) {
        fprintf(stderr, "harness: otarx_init failed: %d\n", rc);
        return -1;
    }
    return 0;
}

int h_init(harness_t *h, const hcfg_t *cfg)
{
    char err[200];
    memset(h, 0, sizeof(*h));
    h->cfg = *cfg;
    h->dev = calloc(1, sizeof(*h->dev));
    h->ctx = calloc(1, sizeof(*h->ctx));
    if (h->dev == NULL || h->ctx == NULL ||
        flash_open_memory(&h->dev->flash, 4u * 1024u * 1024u, cfg->chip_id,
                          cfg->factory_version) != 0) {
        return -1;
    }
    h->dev->flash.hook = no_sleep;
    h->dev->flash.hook_user = h;
    if (esp_layout_load(&h->dev->layout, &h->dev->flash, err, sizeof(err)) != 0) {
        fprintf(stderr, "harness: %s\n", err);
        return -1;
    }
    h->dev->fd = -1;
    h->dev->tx = capture;
    h->dev->tx_user = h;
    h->dev->iram_uart = cfg->iram;
    h->dev->baud = h->dev->initial_baud = 115200;
    h->dev->max_baud = cfg->max_baud;
    h->dev->boot_log = cfg->boot_log;
    h->dev->boot.chip_id = cfg->chip_id;
    h->dev->boot.chip_rev = cfg->chip_rev;
    h->dev->boot.rollback = cfg->rollback;
    h->dev->boot.anti_rollback = cfg->anti_rollback;
    h->dev->boot.efuse_secure_version = cfg->efuse_sv;
    h->ops = host_ops;
    h->ops.now_ms = test_now;
    h->ops.set_baud = test_set_baud;
    h->ops.log = quiet_log;
    return start_ctx(h);
}

void h_esp32_timing(harness_t *h)
{
    h->dev->flash.timing.sector_erase_us = 45000;
    h->dev->flash.timing.block_erase_us = 150000;
    h->dev->flash.timing.page_program_us = 700;
}

int h_power_cycle(harness_t *h)
{
    otarx_deinit(h->ctx);
    memset(h->ctx, 0, sizeof(*h->ctx));
    h->dev->baud = h->dev->initial_baud;
    return start_ctx(h);
}

void h_free(harness_t *h)
{
    if (h->ctx != NULL) {
        otarx_deinit(h->ctx);
    }
    if (h->dev != NULL) {
        flash_close(&h->dev->flash);
    }
    free(h->ctx);
    free(h->dev);
    free(h->out);
    memset(h, 0, sizeof(*h));
}

size_t h_frame(uint8_t ver, uint8_t type, const uint8_t *payload, size_t n, uint8_t *out)
{
    static uint8_t body[8192]; /* test helper: one frame at a time */
    size_t m;
    body[0] = ver;
    body[1] = type;
    if (n > 0) {
        memcpy(body + 2, payload, n);
    }
    otarx_put32(body + 2 + n, otarx_crc32(0, body, 2 + n));
    out[0] = 0;
    m = otarx_cobs_encode(body, n + 6u, out + 1);
    out[1 + m] = 0;
    return m + 2u;
}

void h_send(harness_t *h, uint8_t type, const uint8_t *payload, size_t n)
{
    static uint8_t wire[9000];
    size_t len = h_frame(1, type, payload, n, wire);
    otarx_feed(h->ctx, wire, len);
}

void h_clear(harness_t *h)
{
    h->out_len = 0;
}

/* Scan the output for the next decodable frame; consume what precedes it. */
int h_take(harness_t *h, hframe_t *f)
{
    size_t i = 0;
    while (i < h->out_len) {
        size_t j = i, n;
        uint8_t body[4300];
        while (j < h->out_len && h->out[j] != 0) {
            j++;
        }
        if (j >= h->out_len) {
            break; /* no delimiter yet */
        }
        n = j > i ? otarx_cobs_decode(h->out + i, j - i, body, sizeof(body)) : (size_t)-1;
        i = j + 1;
        if (n == (size_t)-1 || n < 6 ||
            otarx_crc32(0, body, n - 4) != otarx_get32(body + n - 4)) {
            continue; /* empty, text or damaged */
        }
        memmove(h->out, h->out + i, h->out_len - i);
        h->out_len -= i;
        f->type = body[1];
        f->n = n - 6;
        memcpy(f->payload, body + 2, f->n);
        return 1;
    }
    return 0;
}

int h_pending(harness_t *h)
{
    int count = 0;
    size_t i;
    for (i = 0; i + 1 < h->out_len; i++) {
        if (h->out[i] == 0 && h->out[i + 1] != 0) {
            count++;
        }
    }
    return count;
}

uint32_t h_u32(const hframe_t *f, size_t at) { return otarx_get32(f->payload + at); }
uint16_t h_u16(const hframe_t *f, size_t at) { return otarx_get16(f->payload + at); }

/* The next reply of `type`, skipping others (ACK BUSY etc.). */
static int take_type(harness_t *h, uint8_t type, hframe_t *f)
{
    while (h_take(h, f)) {
        if (f->type == type) {
            return f->payload[0];
        }
    }
    return -1;
}

int h_hello(harness_t *h, hframe_t *ack)
{
    static const uint8_t hello[6] = {'O', 'T', 'A', 'U', 1, 0};
    h_clear(h);
    h_send(h, 0x01, hello, sizeof(hello));
    return take_type(h, 0x81, ack);
}

int h_begin(harness_t *h, uint8_t flags, uint16_t chunk, const uint8_t *file, uint32_t total,
            uint32_t *next, uint32_t *credit)
{
    uint8_t p[7 + 512];
    hframe_t f;
    int st;
    p[0] = flags;
    otarx_put16(p + 1, chunk);
    otarx_put32(p + 3, total);
    memcpy(p + 7, file, 512);
    h_clear(h);
    h_send(h, 0x03, p, sizeof(p));
    st = take_type(h, 0x83, &f);
    if (st >= 0 && next != NULL) {
        *next = h_u32(&f, 1);
    }
    if (st >= 0 && credit != NULL) {
        *credit = h_u32(&f, 5);
    }
    return st;
}

int h_data(harness_t *h, const uint8_t *file, uint32_t off, uint32_t len, hframe_t *ack)
{
    static uint8_t p[8192];
    otarx_put32(p, off);
    memcpy(p + 4, file + off, len);
    h_send(h, 0x04, p, 4u + len);
    return take_type(h, 0x84, ack);
}

int h_end(harness_t *h, uint8_t flags, hframe_t *result)
{
    h_send(h, 0x05, &flags, 1);
    return take_type(h, 0x85, result);
}

int h_push(harness_t *h, const uint8_t *file, uint32_t total, uint16_t chunk, uint8_t flags)
{
    uint32_t next = 0, credit = 0, off;
    hframe_t f;
    int st;
    h->last_detail = 0;
    st = h_begin(h, flags, chunk, file, total, &next, &credit);
    if (st != OTARX_OK) {
        return st;
    }
    for (off = next; off < total;) {
        uint32_t len = total - off < chunk ? total - off : chunk;
        if (off + len > credit) {
            return 0x7F; /* no credit: a device bug in this in-order push */
        }
        h_clear(h);
        st = h_data(h, file, off, len, &f);
        /* take every ACK this frame produced: BUSY and a later grant come as separate ACKs */
        while (st == OTARX_BUSY || st == OTARX_OK) {
            credit = h_u32(&f, 5) > credit ? h_u32(&f, 5) : credit;
            if (h_take(h, &f) == 0) {
                break;
            }
            st = f.type == 0x84 ? f.payload[0] : st;
        }
        if (st != OTARX_OK && st != OTARX_BUSY) {
            h->last_detail = f.n >= 13u ? h_u32(&f, 9) : 0u; /* an error ACK: detail in place of sack */
            return st;
        }
        off += len;
    }
    h_clear(h);
    return h_end(h, 0, &f);
}

const uint8_t *h_slot(harness_t *h, int idx)
{
    return h->dev->flash.mem + h->dev->layout.apps[idx].offset;
}
