/*
 * options.c: the command line of build/ota-uart-rx (the options of `ota-uart simulate` where they
 * apply, plus the receiver's limits and test faults) and the default TEST key.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_options.h"

void host_usage(FILE *out)
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
          "  --max-frame N, --window N   receive limits (default 4112, 32768)\n"
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

int host_parse_args(int argc, char **argv, host_args_t *a, host_dev_t *d)
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
        else if (IS("-h") || IS("--help")) { host_usage(stdout); exit(0); }
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
const char *host_default_key(char *buf, size_t len)
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

