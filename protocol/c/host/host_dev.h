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
    uint32_t max_baud, baud;
    int running;             /* app index the bootloader started, -1 none */
    int verbose;
    /* serial port */
    int fd;
    uint8_t rxq[RXQ_SIZE];   /* bytes received, not yet fed (the UART driver's ring buffer) */
    uint32_t rxq_head, rxq_len;
    /* faults: applied to bytes in both directions */
    double ber, drop;
    uint64_t rng;
    uint32_t crash_at;       /* exit abruptly (a power cut) once next_offset reaches this */
    /* counters */
    uint32_t overruns;       /* bytes lost: queue full, or hardware FIFO during flash blackout */
    uint32_t bits_flipped, bytes_dropped, reboots;
} host_dev_t;

/** The ops table for host_dev_t (user pointer = the host_dev_t). */
extern const otarx_ops_t host_ops;

/** Read whatever the port holds into the receive queue (with faults). keep: at most this many
 *  bytes are kept (the rest is an overrun); returns bytes read, -1 on a hard error. */
int host_uart_pump(host_dev_t *d, uint32_t keep);
/** Take up to cap queued bytes. */
size_t host_rxq_take(host_dev_t *d, uint8_t *out, size_t cap);
/** Switch the port's line rate (termios); 0 or -1. */
int host_uart_set_baud(int fd, uint32_t baud);
/** Open a serial port or pty in raw mode; -1 with errno. */
int host_uart_open(const char *path, uint32_t baud);
/** The bootloader ran (power-on or reset). */
void host_dev_boot(host_dev_t *d);
/** Fault model on a buffer in place; returns the new length (bytes may be dropped). */
size_t host_faults(host_dev_t *d, uint8_t *buf, size_t n);

#endif /* OTARX_HOST_DEV_H */
