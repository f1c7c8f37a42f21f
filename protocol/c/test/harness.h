/*
 * harness.h: a receiver on the host port's simulated ESP32 (memory flash with the factory layout,
 * the output captured instead of a UART), a clock the test moves, and a minimal host that frames
 * requests and reads replies. Also makes encrypted test images (RSA scheme) from app images.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "host_dev.h"
#include "otarx.h"

typedef struct {
    uint16_t chip_id, chip_rev;
    int iram;                 /* IRAM-safe UART (free credit) */
    int rollback, anti_rollback;
    uint32_t efuse_sv;
    uint32_t max_baud;
    int boot_log;
    otarx_limits_t limits;    /* zeros: library defaults */
    const char *key_path;     /* RSA PEM, or NULL with hmac_path */
    const char *hmac_path;
    const char *factory_version;
} hcfg_t;

typedef struct {
    uint8_t type;
    uint8_t payload[4200];
    size_t n;
} hframe_t;

typedef struct {
    hcfg_t cfg;
    host_dev_t *dev;
    otarx_ctx_t *ctx;
    otarx_ops_t ops;          /* host_ops with the clock (and, if set, work_ms) replaced */
    uint32_t now;             /* ms, moved by the test */
    uint32_t baud_calls, last_baud;
    uint8_t *out;             /* device output not yet taken */
    size_t out_len, out_cap;
    size_t raw_total;         /* every byte the device ever sent */
    uint32_t busy_us;         /* flash time spent (hook instead of sleeping) */
    uint32_t last_detail;     /* h_push: the detail of the error ACK that ended the data phase */
} harness_t;

/** Defaults: ESP32 rev 3.0, IRAM UART, no rollback, the shared TEST key, limits 1040/4096. */
hcfg_t h_default_cfg(const char *fixtures);
/** 0 or -1 (message printed). */
int h_init(harness_t *h, const hcfg_t *cfg);
void h_free(harness_t *h);
/** A power cut and power-on: RAM (ctx) gone, flash kept, bootloader runs. */
int h_power_cycle(harness_t *h);
/** Model ESP32 flash times (without sleeping) so BUSY announcements happen. */
void h_esp32_timing(harness_t *h);

/** Frame a request and feed it (whole). */
void h_send(harness_t *h, uint8_t type, const uint8_t *payload, size_t n);
/** Encode a frame (00 COBS 00) with any version byte; returns its length. */
size_t h_frame(uint8_t ver, uint8_t type, const uint8_t *payload, size_t n, uint8_t *out);
/** Next reply frame the device sent (1), or 0 if none is left. Non-frame text is skipped. */
int h_take(harness_t *h, hframe_t *f);
/** Number of reply frames waiting. */
int h_pending(harness_t *h);
/** Drop all captured output. */
void h_clear(harness_t *h);

/* requests; each returns the status of the (first) matching reply, or -1 if none came */
int h_hello(harness_t *h, hframe_t *ack);
int h_begin(harness_t *h, uint8_t flags, uint16_t chunk, const uint8_t *file, uint32_t total,
            uint32_t *next, uint32_t *credit);
/** DATA for file[off, off+len); the reply (ACK or short reply) in *ack. */
int h_data(harness_t *h, const uint8_t *file, uint32_t off, uint32_t len, hframe_t *ack);
int h_end(harness_t *h, uint8_t flags, hframe_t *result);
/** A whole in-order push (credit respected); returns the RESULT status, or the first error
 *  status of BEGIN_ACK/ACK. */
int h_push(harness_t *h, const uint8_t *file, uint32_t total, uint16_t chunk, uint8_t flags);

/* reading replies */
uint32_t h_u32(const hframe_t *f, size_t at);
uint16_t h_u16(const hframe_t *f, size_t at);

/* images */
/** An app (app_build) encrypted for the RSA key in `pem_path` (malloc'ed); NULL on error. */
uint8_t *h_encrypt(const uint8_t *app, size_t len, const char *pem_path, size_t *out_len);
/** app_build with defaults for everything not given (ESP32, rev 0..3.99, 0x800 filler). */
uint8_t *h_app(const char *version, uint16_t chip, uint32_t sv, uint32_t data_len, size_t *len);

/** Bytes of app slot `idx` (pointer into the memory flash). */
const uint8_t *h_slot(harness_t *h, int idx);

#endif /* HARNESS_H */
