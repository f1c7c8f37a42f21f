/*
 * fuzz_feed.c: libFuzzer harness over otarx_feed (scripts/fuzz-c.sh). The receiver runs on a
 * small in-RAM device (two 64 KiB app slots, a durable record, the TEST key) that is restored
 * before every input. The first input byte picks how the rest is used:
 *   even: raw UART bytes (the frame layer: COBS, CRC, lengths, resynchronisation);
 *   odd:  records [len:u8][type:u8][payload:len] framed with a correct CRC, so mutations reach
 *         the message handlers; type 0xFE is a BEGIN with the real image header (chunk and flags
 *         from the payload), 0xFD a DATA frame of the real image (offset from the payload), so a
 *         whole session, its window, resume and END are reachable.
 * Invariants checked after every input: the running slot is never written, the boot slot only
 * after a RESULT OK, and credit_end never goes backwards within a session.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otarx_priv.h"

#define SLOT 0x10000u

typedef struct {
    uint8_t slot[2][SLOT];          /* 0 running factory, 1 update target */
    uint8_t pristine[SLOT];
    otarx_record_t rec;
    int have_rec, boot, writes_to_running, boot_switches;
    uint32_t now, baud;
} fdev_t;

static fdev_t g_dev;                /* fuzzer state: one device, restored per input */
static otarx_ctx_t g_ctx;
static otarx_ops_t g_ops;
static uint8_t *g_image;
static size_t g_image_len;
static uint8_t *g_key;
static size_t g_key_len;

static int f_write_uart(void *u, const uint8_t *b, size_t n) { (void)u; (void)b; (void)n; return 0; }
static uint32_t f_now(void *u) { return ((fdev_t *)u)->now; }
static int f_random(void *u, uint8_t *b, size_t n)
{
    (void)u;
    while (n--) {
        *b++ = (uint8_t)(n * 131u + 17u);
    }
    return 0;
}

static int f_info(void *u, otarx_dev_info_t *i)
{
    fdev_t *d = (fdev_t *)u;
    memset(i, 0, sizeof(*i));
    i->chip_rev = 300;
    i->flags = OTARX_DEV_ROLLBACK | (d->baud & 1u ? 0 : OTARX_DEV_IRAM_UART);
    i->max_baud = 2000000;
    i->baud = d->baud;
    i->nparts = 2;
    i->running = 0;
    i->boot = (uint8_t)d->boot;
    i->target = d->boot == 1 ? OTARX_PART_NONE : 1;
    return 0;
}

static int f_part(void *u, uint8_t idx, otarx_part_t *p)
{
    (void)u;
    if (idx > 1) {
        return OTARX_ERR_ARG;
    }
    memset(p, 0, sizeof(*p));
    p->subtype = idx == 0 ? 0x00 : 0x10;
    p->state = 0xFF;
    p->valid = idx == 0;
    p->offset = SLOT * (idx + 1u);
    p->size = SLOT;
    memcpy(p->version, idx == 0 ? "1.0.0-factory" : "", idx == 0 ? 13 : 0);
    return 0;
}

static int range(uint8_t part, uint32_t off, size_t n)
{
    return part <= 1 && off <= SLOT && n <= SLOT - off;
}

static int f_erase(void *u, uint8_t part, uint32_t off, uint32_t n)
{
    fdev_t *d = (fdev_t *)u;
    if (!range(part, off, n) || off % 4096u || n % 4096u) {
        abort(); /* the library must only ask for aligned erases inside the slot */
    }
    d->writes_to_running += part == 0;
    memset(&d->slot[part][off], 0xFF, n);
    return 0;
}

static int f_write(void *u, uint8_t part, uint32_t off, const uint8_t *b, size_t n)
{
    fdev_t *d = (fdev_t *)u;
    size_t i;
    if (!range(part, off, n)) {
        abort();
    }
    d->writes_to_running += part == 0;
    for (i = 0; i < n; i++) {
        if ((d->slot[part][off + i] & b[i]) != b[i]) {
            abort(); /* programming over unerased flash: an erase-ahead bug */
        }
        d->slot[part][off + i] = b[i];
    }
    return 0;
}

static int f_read(void *u, uint8_t part, uint32_t off, uint8_t *b, size_t n)
{
    fdev_t *d = (fdev_t *)u;
    if (!range(part, off, n)) {
        return OTARX_FLASH_ERROR;
    }
    memcpy(b, &d->slot[part][off], n);
    return 0;
}

static int f_set_boot(void *u, uint8_t part)
{
    fdev_t *d = (fdev_t *)u;
    d->boot = part;
    d->boot_switches++;
    return 0;
}

static int f_set_baud(void *u, uint32_t b) { ((fdev_t *)u)->baud = b; return 0; }
static int f_confirm(void *u) { (void)u; return OTARX_NO_PENDING; }
static int f_rec_load(void *u, otarx_record_t *r)
{
    fdev_t *d = (fdev_t *)u;
    if (!d->have_rec) {
        return OTARX_NO_SESSION;
    }
    *r = d->rec;
    return 0;
}
static int f_rec_store(void *u, const otarx_record_t *r)
{
    fdev_t *d = (fdev_t *)u;
    d->have_rec = r != NULL;
    if (r != NULL) {
        d->rec = *r;
    }
    return 0;
}

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = malloc(1 << 20);
    *len = f != NULL && b != NULL ? fread(b, 1, (1 << 20) - 1, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    if (*len == 0) {
        fprintf(stderr, "fuzz_feed: cannot read %s (run from the repository root)\n", path);
        exit(1);
    }
    b[*len] = 0;
    return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_image = load("test/fixtures/app_esp32.rsa.enc.bin", &g_image_len);
    g_key = load("test/fixtures/rsa3072_private.pem", &g_key_len);
    memset(g_dev.pristine, 0xA5, SLOT); /* the running app: any bytes, they must not change */
    g_ops.uart_write = f_write_uart;
    g_ops.now_ms = f_now;
    g_ops.random = f_random;
    g_ops.get_info = f_info;
    g_ops.get_part = f_part;
    g_ops.flash_erase = f_erase;
    g_ops.flash_write = f_write;
    g_ops.flash_read = f_read;
    g_ops.set_boot = f_set_boot;
    g_ops.set_baud = f_set_baud;
    g_ops.confirm = f_confirm;
    g_ops.record_load = f_rec_load;
    g_ops.record_store = f_rec_store;
    {
        otarx_key_t key;
        otarx_limits_t lim;
        memset(&key, 0, sizeof(key));
        memset(&lim, 0, sizeof(lim));
        key.rsa_pem = g_key;
        key.rsa_pem_len = g_key_len + 1u;
        lim.record_interval = 1024;
        if (otarx_init(&g_ctx, &g_ops, &g_dev, &key, &lim) != OTARX_OK) {
            fprintf(stderr, "fuzz_feed: otarx_init failed\n");
            exit(1);
        }
    }
    return 0;
}

static void feed_frame(uint8_t type, const uint8_t *p, size_t n)
{
    static uint8_t body[OTARX_MAX_FRAME + 8], wire[OTARX_COBS_MAX(OTARX_MAX_FRAME + 8) + 2];
    size_t m;
    if (n + 6u > sizeof(body)) {
        n = sizeof(body) - 6u;
    }
    body[0] = 1;
    body[1] = type;
    memcpy(body + 2, p, n);
    otarx_put32(body + 2 + n, otarx_crc32(0, body, 2 + n));
    wire[0] = 0;
    m = otarx_cobs_encode(body, n + 6u, wire + 1);
    wire[m + 1] = 0;
    otarx_feed(&g_ctx, wire, m + 2u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[8192];
    uint32_t credit = 0, sessions = otarx_session_stats(&g_ctx)->sessions;
    uint32_t results = otarx_session_stats(&g_ctx)->results_ok;
    size_t i;
    otarx_reset(&g_ctx);
    memcpy(g_dev.slot[0], g_dev.pristine, SLOT);
    memset(g_dev.slot[1], 0xFF, SLOT);
    g_dev.have_rec = 0;
    g_dev.boot = 0;
    g_dev.writes_to_running = 0;
    g_dev.boot_switches = 0;
    g_dev.now = 0;
    g_dev.baud = size & 1u ? 115201u : 115200u; /* odd: a device without an IRAM-safe ISR */
    if (size == 0) {
        return 0;
    }
    if ((data[0] & 1u) == 0) {
        otarx_feed(&g_ctx, data + 1, size - 1);
    } else {
        for (i = 1; i + 2 <= size;) {
            size_t n = data[i];
            uint8_t type = data[i + 1];
            const uint8_t *p = data + i + 2;
            if (n > size - i - 2) {
                n = size - i - 2;
            }
            if (type == 0xFE && n >= 3) {
                /* BEGIN with the real header: flags, chunk (16-byte units) */
                buf[0] = p[0];
                otarx_put16(buf + 1, (uint16_t)(((p[1] % 64u) + 1u) * 16u));
                otarx_put32(buf + 3, (uint32_t)g_image_len);
                memcpy(buf + 7, g_image, 512);
                feed_frame(OTARX_T_BEGIN, buf, 519);
            } else if (type == 0xFD && n >= 3) {
                /* DATA of the real image at a fuzzed offset and length */
                uint32_t off = 512u + (uint32_t)otarx_get16(p) * 16u, len = (uint32_t)p[2] * 16u;
                if (off < g_image_len) {
                    if (len > g_image_len - off) {
                        len = (uint32_t)(g_image_len - off);
                    }
                    otarx_put32(buf, off);
                    memcpy(buf + 4, g_image + off, len);
                    feed_frame(OTARX_T_DATA, buf, 4u + len);
                }
            } else if (type == 0xFC) {
                g_dev.now += 600; /* time passes: the baud fallback */
                otarx_poll(&g_ctx, g_dev.now);
            } else {
                feed_frame(type, p, n);
            }
            if (otarx_session_stats(&g_ctx)->sessions != sessions) {
                sessions = otarx_session_stats(&g_ctx)->sessions; /* a BEGIN restarts credit */
                credit = 0;
            }
            if (otarx_session_active(&g_ctx)) {
                if (g_ctx._credit < credit) {
                    abort(); /* SPEC §4.5: credit_end never decreases within a session */
                }
                credit = g_ctx._credit;
            }
            i += 2 + n;
        }
    }
    if (g_dev.writes_to_running != 0) {
        abort(); /* SPEC §6.1: never the running slot */
    }
    if (g_dev.boot_switches != (int)(otarx_session_stats(&g_ctx)->results_ok - results)) {
        abort(); /* the boot slot switched without a verified image, or a RESULT OK without it */
    }
    return 0;
}
