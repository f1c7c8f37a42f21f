/*
 * host_dev.c: otarx_ops_t over the host device. Flash ops are partition-relative and may only
 * touch the update target (SPEC §6.1); the UART is a real serial port or pty in raw mode; without
 * an IRAM-safe ISR every flash operation is a blackout during which only the 128-byte hardware
 * FIFO catches incoming bytes (the rest is lost, as on an ESP32 whose cache is off).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "host_dev.h"


/* ---- faults ---- */

static double uniform(host_dev_t *d)
{
    uint64_t x = d->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d->rng = x;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

size_t host_faults(host_dev_t *d, uint8_t *buf, size_t n)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        uint8_t b = buf[i];
        if (d->drop > 0 && uniform(d) < d->drop) {
            d->bytes_dropped++;
            continue;
        }
        if (d->ber > 0) {
            int k;
            for (k = 0; k < 8; k++) {
                if (uniform(d) < d->ber) {
                    b ^= (uint8_t)(1u << k);
                    d->bits_flipped++;
                }
            }
        }
        buf[o++] = b;
    }
    return o;
}

/* ---- serial port ---- */

static const char k_garbage[] =
    "W (123456) wifi: sta is connecting, return error\r\nI (123457) ota_uart: still here\r\n";

static int write_all(host_dev_t *d, const uint8_t *p, size_t n);

static speed_t speed_of(uint32_t baud)
{
    static const struct { uint32_t baud; speed_t s; } k[] = {
        {9600, B9600}, {19200, B19200}, {38400, B38400}, {57600, B57600}, {115200, B115200},
        {230400, B230400}, {460800, B460800}, {500000, B500000}, {576000, B576000},
        {921600, B921600}, {1000000, B1000000}, {1152000, B1152000}, {1500000, B1500000},
        {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000}, {3500000, B3500000},
        {4000000, B4000000},
    };
    size_t i;
    for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        if (k[i].baud == baud) {
            return k[i].s;
        }
    }
    return B0;
}

int host_uart_set_baud(int fd, uint32_t baud)
{
    struct termios t;
    speed_t s = speed_of(baud);
    if (s == B0 || tcgetattr(fd, &t) != 0) {
        return -1;
    }
    (void)tcdrain(fd);
    cfsetispeed(&t, s);
    cfsetospeed(&t, s);
    return tcsetattr(fd, TCSANOW, &t) == 0 ? 0 : -1;
}

int host_uart_open(const char *path, uint32_t baud)
{
    struct termios t;
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        return -1;
    }
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        t.c_cflag |= CLOCAL | CREAD;
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 0;
        (void)tcsetattr(fd, TCSANOW, &t);
        if (host_uart_set_baud(fd, baud) != 0) {
            close(fd);
            errno = EINVAL;
            return -1;
        }
    }
    return fd;
}

int host_uart_pump(host_dev_t *d, uint32_t keep)
{
    uint8_t buf[4096];
    int total = 0;
    for (;;) {
        ssize_t n = read(d->fd, buf, sizeof(buf));
        size_t i, m;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            /* EAGAIN: nothing more; EIO: no one has the other end open (pty) */
            return (n < 0 && errno != EAGAIN && errno != EIO) ? -1 : total;
        }
        m = host_faults(d, buf, (size_t)n);
        d->rx_bytes += (uint32_t)n;
        if (d->garbage_every != 0 && d->rx_bytes >= d->next_garbage) {
            /* the firmware logs something on the same UART (no 0x00 in text) */
            d->next_garbage = d->rx_bytes + d->garbage_every;
            d->garbage_bursts++;
            (void)write_all(d, (const uint8_t *)k_garbage, sizeof(k_garbage) - 1u);
        }
        for (i = 0; i < m; i++) {
            if (keep == 0 || d->rxq_len >= RXQ_SIZE) {
                d->overruns++;
                continue;
            }
            d->rxq[(d->rxq_head + d->rxq_len) % RXQ_SIZE] = buf[i];
            d->rxq_len++;
            keep--;
        }
        total += (int)n;
    }
}

size_t host_rxq_take(host_dev_t *d, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (n < cap && d->rxq_len > 0) {
        out[n++] = d->rxq[d->rxq_head];
        d->rxq_head = (d->rxq_head + 1u) % RXQ_SIZE;
        d->rxq_len--;
    }
    return n;
}

static int write_all(host_dev_t *d, const uint8_t *p, size_t n)
{
    int waited = 0;
    while (n > 0) {
        ssize_t w = write(d->fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno == EAGAIN && waited < 100) {
            struct pollfd pfd;
            pfd.fd = d->fd;
            pfd.events = POLLOUT;
            /* keep receiving while the host is slow to read: no full-duplex deadlock */
            (void)host_uart_pump(d, RXQ_SIZE);
            (void)poll(&pfd, 1, 50);
            waited++;
            continue;
        }
        if (w < 0 && (errno == EIO || errno == EAGAIN)) {
            return OTARX_OK; /* nobody listening for 5 s: the bytes are gone, as on a UART */
        }
        return OTARX_ERR_IO;
    }
    return OTARX_OK;
}

static int uart_write(void *user, const uint8_t *buf, size_t len)
{
    host_dev_t *d = (host_dev_t *)user;
    if (d->tx != NULL) {
        return d->tx(d->tx_user, buf, len);
    }
    return write_all(d, buf, len);
}

int host_uart_emit(host_dev_t *d, const char *text)
{
    return uart_write(d, (const uint8_t *)text, strlen(text));
}

static uint32_t now_ms(void *user)
{
    struct timespec ts;
    (void)user;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static int random_bytes(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return OTARX_ERR_IO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return OTARX_OK;
}

/* ---- device state ---- */

void host_dev_boot(host_dev_t *d, const char *reason)
{
    char line[200];
    otarx_part_t run;
    if (d->boot_log) {
        /* what an ESP32 prints on UART0 after a reset (as src/device-sim/boot-log.ts) */
        snprintf(line, sizeof(line),
                 "ets Jun  8 2016 00:22:57\r\n\r\nrst:%s,boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
                 "configsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:2\r\n"
                 "load:0x3fff0030,len:7112\r\nentry 0x40080400\r\n",
                 strcmp(reason, "power-on") == 0 ? "0x1 (POWERON_RESET)" : "0xc (SW_CPU_RESET)");
        (void)host_uart_emit(d, line);
    }
    d->running = esp_bootloader(&d->layout, &d->boot, 0);
    memset(&run, 0, sizeof(run));
    if (d->running >= 0) {
        esp_inspect(&d->layout, d->running, &d->boot, &run);
    }
    if (d->boot_log) {
        if (d->running >= 0) {
            snprintf(line, sizeof(line),
                     "I (52) boot: Loaded app from partition at offset 0x%lx (%s)\r\n"
                     "I (250) app_init: App version:      %.32s\r\n"
                     "I (260) ota_uart: receiver listening\r\n",
                     (unsigned long)d->layout.apps[d->running].offset,
                     d->layout.apps[d->running].label, run.version);
        } else {
            snprintf(line, sizeof(line),
                     "E (60) boot: No bootable app partitions in the partition table\r\n");
        }
        (void)host_uart_emit(d, line);
    }
    if (d->verbose) {
        fprintf(stderr, "ota-uart-rx: boot (%s): running %.32s from %s\n", reason, run.version,
                d->running < 0 ? "nothing" : d->layout.apps[d->running].label);
    }
}

/* The next OTA slot after the running one that is neither running nor set to boot (SPEC §6.1;
 * ESP-IDF's esp_ota_get_next_update_partition plus the boot-slot rule). */
static int target_slot(const host_dev_t *d, int boot)
{
    const esp_layout_t *l = &d->layout;
    int k0 = 0, i, active = esp_active_index(l);
    if (l->n_ota == 0) {
        return -1;
    }
    if (d->running >= 0 && l->apps[d->running].subtype != 0) {
        k0 = l->apps[d->running].subtype - 0x10 + 1;
    }
    for (i = 0; i < l->n_ota; i++) {
        int idx = esp_ota_index(l, (k0 + i) % l->n_ota);
        if (idx >= 0 && idx != d->running && idx != boot && idx != active) {
            return idx;
        }
    }
    return -1;
}

static int get_info(void *user, otarx_dev_info_t *info)
{
    host_dev_t *d = (host_dev_t *)user;
    int boot = esp_bootloader(&d->layout, &d->boot, 1), target = target_slot(d, boot);
    memset(info, 0, sizeof(*info));
    info->chip_id = d->boot.chip_id;
    info->chip_rev = d->boot.chip_rev;
    info->flags = (uint8_t)((d->boot.rollback ? OTARX_DEV_ROLLBACK : 0) |
                            (d->boot.anti_rollback ? OTARX_DEV_ANTI_ROLLBACK : 0) |
                            (d->iram_uart || d->grant_freely ? OTARX_DEV_IRAM_UART : 0));
    if (d->boot.rollback && esp_active_state_for(&d->layout, d->running) == OTARX_STATE_PENDING) {
        info->flags |= OTARX_DEV_PENDING;
    }
    info->efuse_secure_version = d->boot.efuse_secure_version;
    info->max_baud = d->max_baud;
    info->baud = d->baud;
    info->nparts = (uint8_t)d->layout.napps;
    info->running = d->running < 0 ? OTARX_PART_NONE : (uint8_t)d->running;
    info->boot = boot < 0 ? OTARX_PART_NONE : (uint8_t)boot;
    info->target = target < 0 || d->running < 0 ? OTARX_PART_NONE : (uint8_t)target;
    return OTARX_OK;
}

static int get_part(void *user, uint8_t index, otarx_part_t *part)
{
    host_dev_t *d = (host_dev_t *)user;
    if (index >= d->layout.napps) {
        return OTARX_ERR_ARG;
    }
    esp_inspect(&d->layout, index, &d->boot, part);
    return OTARX_OK;
}

/* Partition-relative range check; writes only to a slot that neither runs nor boots. */
static int part_range(host_dev_t *d, uint8_t part, uint32_t off, size_t len, int write,
                      uint32_t *addr)
{
    const host_part_t *p;
    if (part >= d->layout.napps) {
        return -1;
    }
    p = &d->layout.apps[part];
    if (off > p->size || len > p->size - off) {
        return -1;
    }
    if (write && (part == d->running || part == esp_bootloader(&d->layout, &d->boot, 1))) {
        fprintf(stderr, "ota-uart-rx: refused a write to the running or boot slot %s\n",
                p->label);
        return -1;
    }
    *addr = p->offset + off;
    return 0;
}

static int flash_erase_op(void *user, uint8_t part, uint32_t off, uint32_t len)
{
    host_dev_t *d = (host_dev_t *)user;
    uint32_t a;
    if (part_range(d, part, off, len, 1, &a) != 0 || flash_erase(&d->flash, a, len) != 0) {
        return OTARX_FLASH_ERROR;
    }
    return OTARX_OK;
}

static int flash_write_op(void *user, uint8_t part, uint32_t off, const uint8_t *buf, size_t len)
{
    host_dev_t *d = (host_dev_t *)user;
    uint32_t a;
    if (part_range(d, part, off, len, 1, &a) != 0 || flash_program(&d->flash, a, buf, len) != 0) {
        return OTARX_FLASH_ERROR;
    }
    return OTARX_OK;
}

static int flash_read_op(void *user, uint8_t part, uint32_t off, uint8_t *buf, size_t len)
{
    host_dev_t *d = (host_dev_t *)user;
    uint32_t a;
    if (part_range(d, part, off, len, 0, &a) != 0 || flash_read(&d->flash, a, buf, len) != 0) {
        return OTARX_FLASH_ERROR;
    }
    return OTARX_OK;
}

static int set_boot(void *user, uint8_t part)
{
    host_dev_t *d = (host_dev_t *)user;
    return esp_set_boot(&d->layout, part, d->boot.rollback) == 0 ? OTARX_OK : OTARX_FLASH_ERROR;
}

static int confirm(void *user)
{
    host_dev_t *d = (host_dev_t *)user;
    otarx_part_t run;
    if (!d->boot.rollback ||
        esp_active_state_for(&d->layout, d->running) != OTARX_STATE_PENDING) {
        return OTARX_NO_PENDING;
    }
    if (esp_set_active_state(&d->layout, OTARX_STATE_VALID) != 0) {
        return OTARX_FLASH_ERROR;
    }
    esp_inspect(&d->layout, d->running, &d->boot, &run);
    if (d->boot.anti_rollback && run.secure_version > d->boot.efuse_secure_version) {
        d->boot.efuse_secure_version = run.secure_version; /* burns the eFuse counter */
    }
    return OTARX_OK;
}

static int rollback(void *user)
{
    host_dev_t *d = (host_dev_t *)user;
    int i, other = 0;
    if (!d->boot.rollback ||
        esp_active_state_for(&d->layout, d->running) != OTARX_STATE_PENDING) {
        return OTARX_NO_PENDING;
    }
    for (i = 0; i < d->layout.napps; i++) {
        otarx_part_t p;
        if (i == d->running) {
            continue;
        }
        esp_inspect(&d->layout, i, &d->boot, &p);
        other |= p.valid && p.state != OTARX_STATE_INVALID && p.state != OTARX_STATE_ABORTED;
    }
    if (!other) {
        return OTARX_BAD_STATE;
    }
    return esp_set_active_state(&d->layout, OTARX_STATE_INVALID) == 0 ? OTARX_OK
                                                                       : OTARX_FLASH_ERROR;
}

static int set_baud(void *user, uint32_t baud);

static void reboot(void *user)
{
    host_dev_t *d = (host_dev_t *)user;
    if (d->fd >= 0) {
        (void)tcdrain(d->fd);
    }
    d->reboots++;
    if (d->baud != d->initial_baud && set_baud(d, d->initial_baud) != OTARX_OK) {
        fprintf(stderr, "ota-uart-rx: cannot return to %lu baud\n", (unsigned long)d->initial_baud);
    }
    host_dev_boot(d, "reboot");
}

static int set_baud(void *user, uint32_t baud)
{
    host_dev_t *d = (host_dev_t *)user;
    if (d->fd >= 0 && host_uart_set_baud(d->fd, baud) != 0) {
        return OTARX_ERR_IO;
    }
    d->baud = baud;
    return OTARX_OK;
}

static uint32_t work_ms(void *user, otarx_work_t work, uint32_t bytes)
{
    host_dev_t *d = (host_dev_t *)user;
    const flash_timing_t *t = &d->flash.timing;
    switch (work) {
    case OTARX_WORK_ERASE:
        return (flash_erase_us(t, 0, bytes) + 999u) / 1000u;
    case OTARX_WORK_WRITE:
        return (flash_program_us(t, 0, bytes) + 999u) / 1000u;
    case OTARX_WORK_READ:
        return t->page_program_us == 0 ? 0 : bytes / 4096u + 1u;
    case OTARX_WORK_UNWRAP:
        return 0; /* done at host speed here */
    }
    return 0;
}

static int record_load(void *user, otarx_record_t *rec)
{
    return esp_record_load(&((host_dev_t *)user)->layout, rec);
}

static int record_store(void *user, const otarx_record_t *rec)
{
    return esp_record_store(&((host_dev_t *)user)->layout, rec);
}

static void log_msg(void *user, int level, const char *msg)
{
    host_dev_t *d = (host_dev_t *)user;
    static const char *const names[] = {"", "error", "warn", "info", "debug"};
    if (level <= 2 || d->verbose >= level - 2) {
        fprintf(stderr, "ota-uart-rx: %s: %s\n", names[level < 0 || level > 4 ? 0 : level], msg);
    }
}

const otarx_ops_t host_ops = {
    uart_write, now_ms,     random_bytes, get_info,    get_part,     flash_erase_op,
    flash_write_op, flash_read_op, set_boot, confirm,  rollback,     reboot,
    set_baud,   work_ms,    record_load,  record_store, log_msg,
};
