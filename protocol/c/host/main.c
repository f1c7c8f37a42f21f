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
    uint32_t window, record_every;
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
    fputs("usage: ota-uart-rx --port PATH [--key RSA.pem | --hmac-key KEY.bin] [options]\n"
          "The ota-uart C receiver as a simulated ESP32 on a serial port or pty (options as\n"
          "`ota-uart simulate`; without a key: the repository's demo TEST KEY).\n"
          "  --flash FILE            flash image (4 MiB, created with a factory app if missing;\n"
          "                          kept between runs: kill -9 and restart is a power cycle)\n"
          "  --chip NAME|ID          chip to be (default esp32)\n"
          "  --chip-rev N            major*100+minor (default 300 = v3.0)\n"
          "  --flash-timing T        esp32 (datasheet erase/program times, default) | instant\n"
          "  --no-iram-uart          UART input is lost during flash work (credit is planned)\n"
          "  --baud N                line rate after reset (default 115200)\n"
          "  --max-baud N            highest rate accepted in BAUD (default 3000000; 0: none)\n"
          "  --rollback              app rollback enabled (new apps boot PENDING_VERIFY)\n"
          "  --anti-rollback         anti-rollback by secure_version (eFuse)\n"
          "  --efuse-secure-version N  eFuse secure_version at start (default 0)\n"
          "  --no-boot-log           do not print the ESP32 boot log on resets\n"
          "Faults:\n"
          "  --ber RATE              bit error rate on received bytes\n"
          "  --drop RATE             probability that a received byte is lost\n"
          "  --garbage N             send a burst of log text to the host every N received bytes\n"
          "  --stall-ms MS           stop reading for MS ... --stall-every N  ... every N bytes\n"
          "  --reset-at OFFSET       power-cycle once when the transfer reaches OFFSET\n"
          "  --crash-at OFFSET       exit at once when it reaches OFFSET (a power cut; restart\n"
          "                          on the same --flash to resume)\n"
          "  --seed N                seed of the fault injection\n"
          "Other:\n"
          "  --max-frame N, --window N   receive limits (default 4112, 16384)\n"
          "  --record-every BYTES    durable record interval (default 1: after every write)\n"
          "  --factory-version V     version of the factory app of a new flash file\n"
          "  --create-flash-only     create the flash file and exit\n"
          "  -v, --verbose           log sessions (twice: debug)\n"
          "Exit status: 0 stopped, 2 usage, 3 port or flash file problem, 5 unusable key,\n"
          "9 --crash-at fired.\n",
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
#define IS(name) (strcmp(o, name) == 0)
#define VALUE(lo, hi) do { if (num(o, v, (lo), (hi), &x) != 0) return -1; i++; } while (0)
        if (IS("--port") && v) { a->port = v; i++; }
        else if ((IS("--key") || IS("-k")) && v) { a->key = v; i++; }
        else if (IS("--hmac-key") && v) { a->hmac_key = v; i++; }
        else if (IS("--flash") && v) { a->flash = v; i++; }
        else if (IS("--factory-version") && v) { a->factory_version = v; i++; }
        else if (IS("--chip")) {
            if (v == NULL || parse_chip(v, &d->boot.chip_id) != 0) {
                fprintf(stderr, "ota-uart-rx: unknown chip '%s' (esp32, esp32c3, ... or an id)\n",
                        v ? v : "");
                return -1;
            }
            i++;
        }
        else if (IS("--chip-rev")) { VALUE(0, 65535); d->boot.chip_rev = (uint16_t)x; }
        else if (IS("--baud") || IS("-b")) { VALUE(OTARX_MIN_BAUD, 4000000); d->baud = (uint32_t)x; }
        else if (IS("--max-baud")) { VALUE(0, 4000000); d->max_baud = (uint32_t)x; }
        else if (IS("--no-iram-uart") || IS("--iram-uart=false")) { d->iram_uart = 0; }
        else if (IS("--iram-uart")) { d->iram_uart = 1; }
        else if (IS("--grant-freely")) { d->grant_freely = 1; } /* test only: see host_dev.h */
        else if (IS("--rollback")) { d->boot.rollback = 1; }
        else if (IS("--no-rollback")) { d->boot.rollback = 0; }
        else if (IS("--anti-rollback")) { d->boot.anti_rollback = 1; }
        else if (IS("--no-anti-rollback")) { d->boot.anti_rollback = 0; }
        else if (IS("--efuse-secure-version")) { VALUE(0, 4294967295.0); d->boot.efuse_secure_version = (uint32_t)x; }
        else if (IS("--boot-log")) { d->boot_log = 1; }
        else if (IS("--no-boot-log")) { d->boot_log = 0; }
        else if (IS("--flash-timing") && v && strcmp(v, "instant") == 0) {
            memset(&d->flash.timing, 0, sizeof(d->flash.timing));
            i++;
        }
        else if (IS("--flash-timing") && v && strcmp(v, "esp32") == 0) {
            d->flash.timing.sector_erase_us = 45000;
            d->flash.timing.block_erase_us = 150000;
            d->flash.timing.page_program_us = 700;
            i++;
        }
        else if (IS("--ber")) { VALUE(0, 0.5); d->ber = x; }
        else if (IS("--drop")) { VALUE(0, 0.5); d->drop = x; }
        else if (IS("--garbage")) { VALUE(1, 4294967295.0); d->garbage_every = d->next_garbage = (uint32_t)x; }
        else if (IS("--stall-ms")) { VALUE(0, 60000); d->stall_ms = (uint32_t)x; }
        else if (IS("--stall-every")) { VALUE(1, 4294967295.0); d->stall_every = (uint32_t)x; }
        else if (IS("--seed")) { VALUE(0, 4294967295.0); d->rng = (uint64_t)x * 2654435761u + 1u; }
        else if (IS("--reset-at")) { VALUE(513, 4294967295.0); d->reset_at = (uint32_t)x; }
        else if (IS("--crash-at")) { VALUE(513, 4294967295.0); d->crash_at = (uint32_t)x; }
        else if (IS("--max-frame")) { VALUE(OTARX_MIN_MAX_FRAME, OTARX_MAX_FRAME); a->max_frame = (uint16_t)x; }
        else if (IS("--window")) { VALUE(16, OTARX_WINDOW); a->window = (uint32_t)x; }
        else if (IS("--record-every")) { VALUE(1, OTARX_DURABLE_INTERVAL); a->record_every = (uint32_t)x; }
        else if (IS("--create-flash-only")) { a->create_only = 1; }
        else if (IS("-v") || IS("--verbose")) { d->verbose++; }
        else if (IS("-h") || IS("--help")) { usage(stdout); exit(0); }
        else {
            fprintf(stderr, "ota-uart-rx: unknown or incomplete option '%s'\n", o);
            return -1;
        }
#undef VALUE
#undef IS
    }
    if (d->stall_ms != 0 && d->stall_every == 0) {
        d->stall_every = 65536; /* as the simulator */
    }
    d->next_stall = d->stall_every;
    if (a->create_only) {
        if (a->flash == NULL) {
            fprintf(stderr, "ota-uart-rx: --create-flash-only needs --flash FILE\n");
            return -1;
        }
        return 0;
    }
    if (a->port == NULL || (a->key != NULL && a->hmac_key != NULL)) {
        fprintf(stderr, "ota-uart-rx: need --port and at most one of --key / --hmac-key\n");
        return -1;
    }
    return 0;
}

/* Without a key, the repository's demo TEST KEY (as `ota-uart simulate`): it sits at
 * assets/test-keys/ next to build/, where this binary lives. */
static const char *default_key(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1u);
    char *slash;
    if (n <= 0) {
        return NULL;
    }
    buf[n] = 0;
    slash = strrchr(buf, '/');
    if (slash == NULL) {
        return NULL;
    }
    *slash = 0;
    slash = strrchr(buf, '/');
    if (slash == NULL || (size_t)(slash - buf) + 60u > len) {
        return NULL;
    }
    strcpy(slash, "/assets/test-keys/demo-device-rsa3072.TEST-KEY-ONLY.pem");
    return access(buf, R_OK) == 0 ? buf : NULL;
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

static void sleep_ms(uint32_t ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000u;
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
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
                sleep_ms(20); /* pty with nobody on the other side yet */
            }
            if (host_uart_pump(d, RXQ_SIZE) < 0) {
                fprintf(stderr, "ota-uart-rx: reading the port failed: %s\n", strerror(errno));
                return EXIT_IO;
            }
        }
        otarx_poll(ctx, host_ops.now_ms(d));
        if (d->stall_every != 0 && d->rx_bytes >= d->next_stall) {
            /* the firmware task is busy elsewhere; the UART driver keeps buffering */
            d->next_stall = d->rx_bytes + d->stall_every;
            d->stalls++;
            sleep_ms(d->stall_ms);
        }
        if (d->crash_at != 0 && otarx_session_offset(ctx) >= d->crash_at) {
            fprintf(stderr, "ota-uart-rx: --crash-at %lu: power cut at offset %lu\n",
                    (unsigned long)d->crash_at, (unsigned long)otarx_session_offset(ctx));
            _exit(9);
        }
        if (d->reset_at != 0 && otarx_session_offset(ctx) >= d->reset_at) {
            /* a power cycle in place: RAM (session, queue, line rate) lost, flash kept */
            fprintf(stderr, "ota-uart-rx: --reset-at %lu: power cycle at offset %lu\n",
                    (unsigned long)d->reset_at, (unsigned long)otarx_session_offset(ctx));
            d->reset_at = 0;
            d->rxq_len = 0;
            otarx_reset(ctx);
            if (d->baud != d->initial_baud && host_ops.set_baud(d, d->initial_baud) != OTARX_OK) {
                return EXIT_IO;
            }
            host_dev_boot(d, "power-on");
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
    dev.boot.chip_rev = 300;
    dev.boot_log = 1;
    dev.flash.timing.sector_erase_us = 45000; /* --flash-timing esp32 */
    dev.flash.timing.block_erase_us = 150000;
    dev.flash.timing.page_program_us = 700;
    a.max_frame = 4112 <= OTARX_MAX_FRAME ? 4112 : OTARX_MAX_FRAME;
    a.window = 16384 <= OTARX_WINDOW ? 16384 : OTARX_WINDOW;
    a.record_every = 1;
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
    dev.initial_baud = dev.baud;
    if (a.key == NULL && a.hmac_key == NULL) {
        static char path[4096];
        a.key = default_key(path, sizeof(path));
        if (a.key == NULL) {
            fprintf(stderr, "ota-uart-rx: no --key given and the demo TEST key was not found\n");
            return EXIT_KEY;
        }
        fprintf(stderr, "ota-uart-rx: key %s (TEST KEY)\n", a.key);
    }
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
    limits.record_interval = a.record_every;
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
    host_dev_boot(&dev, "power-on");
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
