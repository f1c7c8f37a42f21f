/*
 * host_dev.c: otarx_ops_t over the host device. Flash ops are partition-relative and may only
 * touch the update target (SPEC §6.1); the UART is a real serial port or pty in raw mode; without
 * an IRAM-safe ISR every flash operation is a blackout during which only the 128-byte hardware
 * FIFO catches incoming bytes (the rest is lost, as on an ESP32 whose cache is off).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "host_dev.h"


static int uart_write(void *user, const uint8_t *buf, size_t len)
{
    host_dev_t *d = (host_dev_t *)user;
    if (d->tx != NULL) {
        return d->tx(d->tx_user, buf, len);
    }
    return host_uart_write_all(d, buf, len);
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
