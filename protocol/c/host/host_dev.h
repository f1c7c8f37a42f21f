/*
 * host_dev.h: the simulated ESP32 of build/ota-uart-rx: flash file + layout + boot state, the
 * serial port with its receive queue, the fault model and the otarx_ops_t table over them.
 */
#ifndef OTARX_HOST_DEV_H
#define OTARX_HOST_DEV_H

#include "host.h"

#define RXQ_SIZE 65536u
#define UART_FIFO 128u

typedef struct {
    /* device */
    flash_file_t flash;
    esp_layout_t layout;
    boot_cfg_t boot;
    int iram_uart;
    uint32_t max_baud, baud, initial_baud;
    int running;             /* app index the bootloader started, -1 none */
    int verbose;
    int grant_freely;        /* test only: advertise an IRAM-safe UART without having one */
    /* serial port (fd), or a capture function for tests (tx) */
    int fd;
    int (*tx)(void *user, const uint8_t *buf, size_t len);
    void *tx_user;
    uint8_t rxq[RXQ_SIZE];   /* bytes received, not yet fed (the UART driver's ring buffer) */
    uint32_t rxq_head, rxq_len;
    /* faults: applied to bytes in both directions */
    double ber, drop;
    uint64_t rng;
    uint32_t crash_at;       /* exit abruptly (a power cut) once next_offset reaches this */
    uint32_t reset_at;       /* power-cycle in place once next_offset reaches this (once) */
    uint32_t garbage_every, next_garbage;  /* log text to the host every N received bytes */
    uint32_t stall_ms, stall_every, next_stall; /* stop reading for stall_ms every N bytes */
    int boot_log;            /* print the ESP32 boot log on every reset */
    /* counters */
    uint32_t overruns;       /* bytes lost: queue full, or hardware FIFO during flash blackout */
    uint32_t bits_flipped, bytes_dropped, reboots, rx_bytes, garbage_bursts, stalls;
} host_dev_t;

/** The ops table for host_dev_t (user pointer = the host_dev_t). */
extern const otarx_ops_t host_ops;

/** Read whatever the port holds into the receive queue (with faults). keep: at most this many
 *  bytes are kept (the rest is an overrun); returns bytes read, -1 on a hard error. */
int host_uart_pump(host_dev_t *d, uint32_t keep);
/** Write all bytes to the port (keeps receiving while the host is slow to read). */
int host_uart_write_all(host_dev_t *d, const uint8_t *p, size_t n);
/** Write text to the host (boot log, garbage). */
int host_uart_emit(host_dev_t *d, const char *text);
/** Take up to cap queued bytes. */
size_t host_rxq_take(host_dev_t *d, uint8_t *out, size_t cap);
/** Switch the port's line rate (termios); 0 or -1. */
int host_uart_set_baud(int fd, uint32_t baud);
/** Open a serial port or pty in raw mode; -1 with errno. */
int host_uart_open(const char *path, uint32_t baud);
/** The chip comes out of reset: boot log (if enabled), bootloader. `reason` for the log. */
void host_dev_boot(host_dev_t *d, const char *reason);
/** Fault model on a buffer in place; returns the new length (bytes may be dropped). */
size_t host_faults(host_dev_t *d, uint8_t *buf, size_t n);

#endif /* OTARX_HOST_DEV_H */
