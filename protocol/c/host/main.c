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

#include "host_options.h"

#define EXIT_USAGE 2
#define EXIT_IO 3
#define EXIT_KEY 5



static volatile sig_atomic_t g_stop; /* the signal flag: the only global, and only in the tool */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
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
    host_args_t a;
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
    a.window = 32768 <= OTARX_WINDOW ? 32768 : OTARX_WINDOW; /* as the simulator (src/device-sim) */
    a.record_every = 1;
    dev.rng = 0x9E3779B97F4A7C15ull;
    dev.fd = -1;
    if (host_parse_args(argc, argv, &a, &dev) != 0) {
        host_usage(stderr);
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
        a.key = host_default_key(path, sizeof(path));
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
