/*
 * serial_port.c: the host device's UART: a serial port or pty in raw mode (termios), baud
 * switching, the receive queue (the UART driver's ring buffer) and the fault model on received
 * bytes (bit errors, drops, garbage bursts of log text), as `ota-uart simulate` offers them.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
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
            (void)host_uart_write_all(d, (const uint8_t *)k_garbage, sizeof(k_garbage) - 1u);
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

int host_uart_write_all(host_dev_t *d, const uint8_t *p, size_t n)
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

