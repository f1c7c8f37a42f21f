/*
 * ota_uart_port.c: otarx_ops_t for ESP-IDF (see ota_uart_port.h). Thin on purpose: every rule of
 * the protocol lives in the portable receiver; this file only says how this chip does each step.
 *
 * - Slots: the app partitions in HELLO_ACK order (factory, ota_0, ota_1, ...); what HELLO_ACK
 *   reports about them (running, boot, target, states) is in ota_uart_info.c. Writes go straight
 *   to the target with esp_partition_write (flash encryption, if
 *   enabled, is applied by the partition API at the real address); esp_ota_set_boot_partition
 *   verifies the image again and writes otadata with ESP-IDF's sequence rule and anti-rollback.
 * - The durable resume record (SPEC §7) is an NVS blob {offset, image id prefix}.
 * - ROLLBACK answers first; the reset (esp_ota_mark_app_invalid_rollback_and_reboot) happens when
 *   the receiver calls reboot() after its reply has gone out.
 */
#include "ota_uart_port.h"
#include "ota_uart_info.h"

#include <string.h>

#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "sdkconfig.h"

static const char *TAG = "ota_uart";

#define NVS_NAMESPACE "ota_uart"
#define NVS_RECORD "resume"

static ota_port_t *port_of(void *user) { return (ota_port_t *)user; }

/* ---- UART, time, randomness ---- */

static int p_uart_write(void *user, const uint8_t *buf, size_t len)
{
    return uart_write_bytes(port_of(user)->uart, buf, len) == (int)len ? OTARX_OK : OTARX_ERR_IO;
}

static uint32_t p_now_ms(void *user)
{
    (void)user;
    return (uint32_t)(esp_timer_get_time() / 1000);
}

static int p_random(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    esp_fill_random(buf, len); /* the hardware RNG (true random with RF or the bootloader's seed) */
    return OTARX_OK;
}

static int p_set_baud(void *user, uint32_t baud)
{
    ota_port_t *p = port_of(user);
    /* the BAUD_ACK leaves at the old rate first */
    if (uart_wait_tx_done(p->uart, pdMS_TO_TICKS(200)) != ESP_OK ||
        uart_set_baudrate(p->uart, baud) != ESP_OK) {
        return OTARX_ERR_IO;
    }
    p->baud = baud;
    return OTARX_OK;
}

static int p_flash_read(void *user, uint8_t part, uint32_t off, uint8_t *buf, size_t len)
{
    ota_port_t *p = port_of(user);
    if (part >= p->napps || esp_partition_read(p->apps[part], off, buf, len) != ESP_OK) {
        return OTARX_FLASH_ERROR;
    }
    return OTARX_OK;
}

/* ---- the update slot and boot selection ---- */

static int p_flash_erase(void *user, uint8_t part, uint32_t off, uint32_t len)
{
    ota_port_t *p = port_of(user);
    if (part >= p->napps) {
        return OTARX_FLASH_ERROR;
    }
    p->slots[part].known = false;
    return esp_partition_erase_range(p->apps[part], off, len) == ESP_OK ? OTARX_OK
                                                                        : OTARX_FLASH_ERROR;
}

static int p_flash_write(void *user, uint8_t part, uint32_t off, const uint8_t *buf, size_t len)
{
    ota_port_t *p = port_of(user);
    if (part >= p->napps) {
        return OTARX_FLASH_ERROR;
    }
    p->slots[part].known = false;
    return esp_partition_write(p->apps[part], off, buf, len) == ESP_OK ? OTARX_OK
                                                                       : OTARX_FLASH_ERROR;
}

static int p_set_boot(void *user, uint8_t part)
{
    ota_port_t *p = port_of(user);
    esp_err_t err;
    if (part >= p->napps) {
        return OTARX_FLASH_ERROR;
    }
    err = esp_ota_set_boot_partition(p->apps[part]); /* verifies again, checks anti-rollback */
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_set_boot_partition: %s", esp_err_to_name(err));
        return OTARX_FLASH_ERROR;
    }
    return OTARX_OK;
}

static int p_confirm(void *user)
{
    (void)user;
    if (!ota_port_running_pending()) {
        return OTARX_NO_PENDING;
    }
    return esp_ota_mark_app_valid_cancel_rollback() == ESP_OK ? OTARX_OK : OTARX_FLASH_ERROR;
}

static int p_rollback(void *user)
{
    ota_port_t *p = port_of(user);
    if (!ota_port_running_pending()) {
        return OTARX_NO_PENDING;
    }
    if (!esp_ota_check_rollback_is_possible()) {
        return OTARX_BAD_STATE;
    }
    p->rollback_requested = true; /* done in p_reboot, after the reply has been sent */
    return OTARX_OK;
}

static void p_reboot(void *user)
{
    ota_port_t *p = port_of(user);
    (void)uart_wait_tx_done(p->uart, pdMS_TO_TICKS(500));
    if (p->rollback_requested) {
        (void)esp_ota_mark_app_invalid_rollback_and_reboot(); /* restarts on success */
    }
    esp_restart();
}

/* ---- durable resume record (NVS) ---- */

typedef struct {
    uint32_t offset;
    uint8_t image_id[20];
} nvs_record_t;

static int p_record_load(void *user, otarx_record_t *rec)
{
    nvs_record_t r;
    size_t len = sizeof(r);
    if (nvs_get_blob(port_of(user)->nvs, NVS_RECORD, &r, &len) != ESP_OK || len != sizeof(r)) {
        return OTARX_NO_SESSION;
    }
    rec->offset = r.offset;
    memcpy(rec->image_id, r.image_id, sizeof(rec->image_id));
    return OTARX_OK;
}

static int p_record_store(void *user, const otarx_record_t *rec)
{
    ota_port_t *p = port_of(user);
    esp_err_t err;
    if (rec == NULL) {
        err = nvs_erase_key(p->nvs, NVS_RECORD);
        if (err == ESP_ERR_NVS_NOT_FOUND) {
            return OTARX_OK;
        }
    } else {
        nvs_record_t r;
        r.offset = rec->offset;
        memcpy(r.image_id, rec->image_id, sizeof(r.image_id));
        err = nvs_set_blob(p->nvs, NVS_RECORD, &r, sizeof(r));
    }
    if (err == ESP_OK) {
        err = nvs_commit(p->nvs);
    }
    return err == ESP_OK ? OTARX_OK : OTARX_ERR_IO;
}

static void p_log(void *user, int level, const char *msg)
{
    (void)user;
    switch (level) {
    case 1: ESP_LOGE(TAG, "%s", msg); break;
    case 2: ESP_LOGW(TAG, "%s", msg); break;
    case 3: ESP_LOGI(TAG, "%s", msg); break;
    default: ESP_LOGD(TAG, "%s", msg); break;
    }
}

const otarx_ops_t ota_port_ops = {
    .uart_write = p_uart_write,
    .now_ms = p_now_ms,
    .random = p_random,
    .get_info = ota_port_get_info,
    .get_part = ota_port_get_part,
    .flash_erase = p_flash_erase,
    .flash_write = p_flash_write,
    .flash_read = p_flash_read,
    .set_boot = p_set_boot,
    .confirm = p_confirm,
    .rollback = p_rollback,
    .reboot = p_reboot,
    .set_baud = p_set_baud,
    .work_ms = NULL, /* the receiver's ESP32 flash typicals */
    .record_load = p_record_load,
    .record_store = p_record_store,
    .log = p_log,
};

esp_err_t ota_port_init(ota_port_t *p, uart_port_t uart, uint32_t baud, uint32_t max_baud)
{
    esp_partition_iterator_t it;
    esp_err_t err;
    uint8_t i, j;
    memset(p, 0, sizeof(*p));
    p->uart = uart;
    p->baud = baud;
    p->max_baud = max_baud;
#if CONFIG_UART_ISR_IN_IRAM
    p->iram_uart = true;
#endif
    for (it = esp_partition_find(ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_ANY, NULL);
         it != NULL && p->napps < OTARX_MAX_PARTS; it = esp_partition_next(it)) {
        const esp_partition_t *part = esp_partition_get(it);
        if (part->subtype == ESP_PARTITION_SUBTYPE_APP_FACTORY ||
            (part->subtype >= ESP_PARTITION_SUBTYPE_APP_OTA_MIN &&
             part->subtype < ESP_PARTITION_SUBTYPE_APP_OTA_MAX)) {
            p->apps[p->napps++] = part;
        }
    }
    esp_partition_iterator_release(it);
    /* HELLO_ACK order: by subtype (factory 0x00, then ota_0 0x10, ota_1 0x11, ...) */
    for (i = 1; i < p->napps; i++) {
        for (j = i; j > 0 && p->apps[j - 1]->subtype > p->apps[j]->subtype; j--) {
            const esp_partition_t *t = p->apps[j];
            p->apps[j] = p->apps[j - 1];
            p->apps[j - 1] = t;
        }
    }
    err = nvs_open(NVS_NAMESPACE, NVS_READWRITE, &p->nvs);
    if (err != ESP_OK) {
        return err;
    }
    for (i = 0; i < p->napps; i++) {
        ota_port_describe(p, i); /* the first HELLO is answered without verifying 3 MB */
    }
    return p->napps > 0 ? ESP_OK : ESP_ERR_NOT_FOUND;
}
