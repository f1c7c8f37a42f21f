/*
 * main.c: build/ota-uart-rx, the C receiver as a simulated ESP32 on a serial port or pty:
 *
 *   ota-uart-rx --port PTY (--key PEM | --hmac-key BIN) [--flash FILE] [--chip esp32] ...
 *
 * Options follow `ota-uart simulate` where they apply. The flash file has the layout of the
 * TypeScript simulator and is created with a factory app when missing; kill -9 is a power cut
 * and the next start resumes from the durable record.
 * Exit status: 0 stopped by a signal, 2 usage, 3 port or flash file problem, 5 unusable key.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host_dev.h"

#define EXIT_USAGE 2
#define EXIT_IO 3
#define EXIT_KEY 5

typedef struct {
    const char *port, *key, *hmac_key, *flash, *factory_version;
    uint16_t max_frame;
    uint32_t window;
    int create_only;
} args_t;

static volatile sig_atomic_t g_stop; /* the signal flag: the only global, and only in the tool */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *out)
{
    fputs("usage: ota-uart-rx --port PATH (--key RSA.pem | --hmac-key KEY.bin) [options]\n"
          "  --flash FILE          flash image (created with a factory app if missing;\n"
          "                        without it the flash lives in memory)\n"
          "  --chip NAME|ID        chip to be (default esp32)\n"
          "  --chip-rev N          major*100+minor (default 100 = v1.0)\n"
          "  --baud N              initial line rate (default 115200)\n"
          "  --max-baud N          highest rate accepted in BAUD (default 3000000; 0: none)\n"
          "  --no-iram-uart        UART input is lost during flash work (credit is planned)\n"
          "  --flash-timing T      instant | esp32 (erase/program times; default instant)\n"
          "  --no-rollback         otadata without rollback states\n"
          "  --anti-rollback       check secure_version against --efuse-secure-version N\n"
          "  --ber RATE            bit error rate on both directions (e.g. 1e-5)\n"
          "  --drop RATE           probability of losing each byte\n"
          "  --seed N              fault generator seed\n"
          "  --crash-at OFFSET     exit abruptly once next_offset reaches OFFSET (power cut)\n"
          "  --max-frame N, --window N   receive limits\n"
          "  --factory-version V   version of the factory app of a new flash file\n"
          "  --create-flash-only   create the flash file and exit\n"
          "  -v, --verbose         log sessions (twice: debug)\n",
          out);
}

static int parse_chip(const char *s, uint16_t *id)
{
    static const struct { const char *name; uint16_t id; } chips[] = {
        {"esp32", 0}, {"esp32s2", 2}, {"esp32c3", 5}, {"esp32s3", 9}, {"esp32c2", 12},
        {"esp32c6", 13}, {"esp32h2", 16}, {"esp32p4", 18}, {"esp32c61", 20}, {"esp32c5", 23},
        {"esp32h21", 25}, {"esp32h4", 28}, {"esp32s31", 32},
    };
    char norm[32];
    size_t i, n = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (*s != '\0' && *end == '\0') {
        if (v > 0xFFFFu) {
            return -1;
        }
        *id = (uint16_t)v;
        return 0;
    }
    for (i = 0; s[i] != '\0' && n + 1 < sizeof(norm); i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            norm[n++] = c;
        }
    }
    norm[n] = '\0';
    for (i = 0; i < sizeof(chips) / sizeof(chips[0]); i++) {
        if (strcmp(norm, chips[i].name) == 0) {
            *id = chips[i].id;
            return 0;
        }
    }
    return -1;
}

static int num(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = v != NULL ? strtod(v, &end) : 0;
    if (v == NULL || *v == '\0' || *end != '\0' || x < lo || x > hi) {
        fprintf(stderr, "ota-uart-rx: %s needs a number in [%g, %g]%s%s\n", opt, lo, hi,
                v ? ", got " : "", v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_args(int argc, char **argv, args_t *a, host_dev_t *d)
{
    int i;
    double x;
    for (i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VALUE(lo, hi) do { if (num(o, v, (lo), (hi), &x) != 0) return -1; i++; } while (0)
        if (strcmp(o, "--port") == 0 && v) { a->port = v; i++; }
        else if (strcmp(o, "--key") == 0 && v) { a->key = v; i++; }
        else if (strcmp(o, "--hmac-key") == 0 && v) { a->hmac_key = v; i++; }
        else if (strcmp(o, "--flash") == 0 && v) { a->flash = v; i++; }
        else if (strcmp(o, "--factory-version") == 0 && v) { a->factory_version = v; i++; }
        else if (strcmp(o, "--chip") == 0) {
            if (v == NULL || parse_chip(v, &d->boot.chip_id) != 0) {
                fprintf(stderr, "ota-uart-rx: unknown chip '%s' (esp32, esp32c3, ... or an id)\n",
                        v ? v : "");
                return -1;
            }
            i++;
        }
        else if (strcmp(o, "--chip-rev") == 0) { VALUE(0, 65535); d->boot.chip_rev = (uint16_t)x; }
        else if (strcmp(o, "--baud") == 0) { VALUE(300, 4000000); d->baud = (uint32_t)x; }
        else if (strcmp(o, "--max-baud") == 0) { VALUE(0, 4000000); d->max_baud = (uint32_t)x; }
        else if (strcmp(o, "--no-iram-uart") == 0) { d->iram_uart = 0; }
        else if (strcmp(o, "--no-rollback") == 0) { d->boot.rollback = 0; }
        else if (strcmp(o, "--anti-rollback") == 0) { d->boot.anti_rollback = 1; }
        else if (strcmp(o, "--efuse-secure-version") == 0) {
            VALUE(0, 4294967295.0);
            d->boot.efuse_secure_version = (uint32_t)x;
        }
        else if (strcmp(o, "--flash-timing") == 0 && v && strcmp(v, "instant") == 0) { i++; }
        else if (strcmp(o, "--flash-timing") == 0 && v && strcmp(v, "esp32") == 0) {
            d->flash.timing.sector_erase_us = 45000;
            d->flash.timing.block_erase_us = 150000;
            d->flash.timing.page_program_us = 700;
            i++;
        }
        else if (strcmp(o, "--ber") == 0) { VALUE(0, 0.5); d->ber = x; }
        else if (strcmp(o, "--drop") == 0) { VALUE(0, 0.5); d->drop = x; }
        else if (strcmp(o, "--seed") == 0) { VALUE(0, 4294967295.0); d->rng = (uint64_t)x * 2654435761u + 1u; }
        else if (strcmp(o, "--crash-at") == 0) { VALUE(1, 4294967295.0); d->crash_at = (uint32_t)x; }
        else if (strcmp(o, "--max-frame") == 0) { VALUE(OTARX_MIN_MAX_FRAME, OTARX_MAX_FRAME); a->max_frame = (uint16_t)x; }
        else if (strcmp(o, "--window") == 0) { VALUE(16, OTARX_WINDOW); a->window = (uint32_t)x; }
        else if (strcmp(o, "--create-flash-only") == 0) { a->create_only = 1; }
        else if (strcmp(o, "-v") == 0 || strcmp(o, "--verbose") == 0) { d->verbose++; }
        else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) { usage(stdout); exit(0); }
        else {
            fprintf(stderr, "ota-uart-rx: unknown or incomplete option '%s'\n", o);
            return -1;
        }
#undef VALUE
    }
    if (a->create_only) {
        return a->flash != NULL ? 0 : (fprintf(stderr, "ota-uart-rx: --create-flash-only needs --flash FILE\n"), -1);
    }
    if (a->port == NULL || (a->key == NULL) == (a->hmac_key == NULL)) {
        fprintf(stderr, "ota-uart-rx: need --port and exactly one of --key / --hmac-key\n");
        return -1;
    }
    return 0;
}

/* Read a whole key file (PEM gets a trailing NUL, as mbedtls wants). */
static uint8_t *read_file(const char *path, size_t *len, size_t max)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(max + 1u);
    size_t n = 0;
    if (f == NULL || buf == NULL) {
        if (f) fclose(f);
        free(buf);
        return NULL;
    }
    n = fread(buf, 1, max + 1u, f);
    fclose(f);
    if (n == 0 || n > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Flash operations are a UART blackout without an IRAM-safe ISR (SPEC §6.3). */
static void flash_hook(void *user, uint32_t us)
{
    host_dev_t *d = (host_dev_t *)user;
    struct timespec ts;
    if (us == 0) {
        return;
    }
    if (!d->iram_uart) {
        (void)host_uart_pump(d, RXQ_SIZE); /* arrived before: in the ring buffer */
    }
    ts.tv_sec = us / 1000000u;
    ts.tv_nsec = (long)(us % 1000000u) * 1000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    if (!d->iram_uart) {
        (void)host_uart_pump(d, UART_FIFO); /* arrived during: only the FIFO holds them */
    }
}

static int run(host_dev_t *d, otarx_ctx_t *ctx)
{
    uint8_t buf[1024];
    while (!g_stop) {
        size_t n = host_rxq_take(d, buf, sizeof(buf));
        if (n > 0) {
            otarx_feed(ctx, buf, n);
        } else {
            struct pollfd p;
            p.fd = d->fd;
            p.events = POLLIN;
            if (poll(&p, 1, 20) > 0 && (p.revents & POLLHUP) && !(p.revents & POLLIN)) {
                usleep(20000); /* pty with nobody on the other side yet */
            }
            if (host_uart_pump(d, RXQ_SIZE) < 0) {
                fprintf(stderr, "ota-uart-rx: reading the port failed: %s\n", strerror(errno));
                return EXIT_IO;
            }
        }
        otarx_poll(ctx, host_ops.now_ms(d));
        if (d->crash_at != 0 && otarx_session_offset(ctx) >= d->crash_at) {
            fprintf(stderr, "ota-uart-rx: --crash-at %lu: power cut at offset %lu\n",
                    (unsigned long)d->crash_at, (unsigned long)otarx_session_offset(ctx));
            _exit(9);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static host_dev_t dev;   /* large (ring buffer): not on the stack */
    static otarx_ctx_t ctx;
    args_t a;
    otarx_key_t key;
    otarx_limits_t limits;
    char err[256];
    size_t klen = 0;
    uint8_t *kbuf;
    int rc;
    memset(&a, 0, sizeof(a));
    a.factory_version = "1.0.0-factory";
    dev.iram_uart = 1;
    dev.baud = 115200;
    dev.max_baud = 3000000;
    dev.boot.chip_rev = 100;
    dev.boot.rollback = 1;
    dev.rng = 0x9E3779B97F4A7C15ull;
    dev.fd = -1;
    if (parse_args(argc, argv, &a, &dev) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    {
        flash_timing_t t = dev.flash.timing;
        char tmpl[] = "/tmp/ota-uart-rx-flash-XXXXXX";
        const char *path = a.flash;
        if (path == NULL) {
            /* no --flash: a fresh factory flash in an anonymous file */
            int fd = mkstemp(tmpl);
            if (fd < 0) {
                fprintf(stderr, "ota-uart-rx: cannot make an in-memory flash: %s\n", strerror(errno));
                return EXIT_IO;
            }
            close(fd);
            unlink(tmpl);
            path = tmpl;
        }
        if (flash_open(&dev.flash, path, dev.boot.chip_id, a.factory_version, err,
                       sizeof(err)) != 0) {
            fprintf(stderr, "ota-uart-rx: %s\n", err);
            return EXIT_IO;
        }
        if (a.flash == NULL) {
            unlink(tmpl);
        }
        dev.flash.timing = t;
        dev.flash.hook = flash_hook;
        dev.flash.hook_user = &dev;
    }
    if (a.create_only) {
        flash_close(&dev.flash);
        return 0;
    }
    if (esp_layout_load(&dev.layout, &dev.flash, err, sizeof(err)) != 0) {
        fprintf(stderr, "ota-uart-rx: flash file %s: %s\n", a.flash ? a.flash : "(memory)", err);
        return EXIT_IO;
    }
    host_dev_boot(&dev);
    kbuf = read_file(a.key ? a.key : a.hmac_key, &klen, 16384);
    if (kbuf == NULL) {
        fprintf(stderr, "ota-uart-rx: cannot read key file %s: %s\n", a.key ? a.key : a.hmac_key,
                strerror(errno));
        return EXIT_KEY;
    }
    memset(&key, 0, sizeof(key));
    if (a.key) {
        key.rsa_pem = kbuf;
        key.rsa_pem_len = klen + 1u; /* with the NUL: mbedtls's PEM rule */
    } else if (klen != 32) {
        fprintf(stderr, "ota-uart-rx: HMAC key file %s is %lu bytes, expected 32\n", a.hmac_key,
                (unsigned long)klen);
        return EXIT_KEY;
    } else {
        key.hmac_key = kbuf;
    }
    dev.fd = host_uart_open(a.port, dev.baud);
    if (dev.fd < 0) {
        fprintf(stderr, "ota-uart-rx: cannot open port %s: %s\n", a.port, strerror(errno));
        return EXIT_IO;
    }
    limits.max_frame = a.max_frame;
    limits.window = a.window;
    rc = otarx_init(&ctx, &host_ops, &dev, &key, &limits);
    if (rc != OTARX_OK) {
        fprintf(stderr, "ota-uart-rx: %s\n",
                rc == OTARX_ERR_KEY ? "the key is not an RSA-3072 private key or usable HMAC key"
                                    : "bad --max-frame/--window combination");
        return rc == OTARX_ERR_KEY ? EXIT_KEY : EXIT_USAGE;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    {
        otarx_part_t run;
        memset(&run, 0, sizeof(run));
        if (dev.running >= 0) {
            esp_inspect(&dev.layout, dev.running, &dev.boot, &run);
        }
        fprintf(stderr, "ota-uart-rx: listening on %s (chip %u rev %u, %s, running %s %.32s)\n",
                a.port, (unsigned)dev.boot.chip_id, (unsigned)dev.boot.chip_rev,
                dev.iram_uart ? "IRAM UART" : "no IRAM UART",
                dev.running < 0 ? "nothing" : dev.layout.apps[dev.running].label, run.version);
    }
    rc = run(&dev, &ctx);
    {
        const otarx_frame_stats_t *fs = otarx_frame_stats(&ctx);
        const otarx_session_stats_t *ss = otarx_session_stats(&ctx);
        fprintf(stderr,
                "ota-uart-rx: frames %lu, bad crc %lu, bad cobs %lu, too long %lu, noise %lu; "
                "data %lu, dup %lu, out of order %lu, results ok %lu; overruns %lu\n",
                (unsigned long)fs->frames, (unsigned long)fs->bad_crc,
                (unsigned long)fs->bad_cobs, (unsigned long)fs->too_long,
                (unsigned long)fs->noise_bytes, (unsigned long)ss->data_frames,
                (unsigned long)ss->duplicates, (unsigned long)ss->out_of_order,
                (unsigned long)ss->results_ok, (unsigned long)dev.overruns);
    }
    otarx_deinit(&ctx);
    flash_close(&dev.flash);
    free(kbuf);
    return rc;
}
