/*
 * fake_idf.c: see fake_idf.h. The otadata rules follow ESP-IDF's app_update and bootloader_support
 * (an entry is valid when its sequence is set, its CRC matches and its state is neither INVALID
 * nor ABORTED; the valid entry with the highest sequence selects OTA slot (seq - 1) % count, and
 * with none the factory app boots). The CRC is a stand-in, not ESP-IDF's CRC-32.
 */
#include "fake_idf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bootloader_common.h"
#include "driver/uart.h"
#include "esp_efuse.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "hal/efuse_hal.h"
#include "nvs.h"

fake_idf_t g_fake_idf;

struct esp_partition_iterator_opaque_ {
    int next;
};
static struct esp_partition_iterator_opaque_ s_iter;

static uint32_t fake_crc(uint32_t seq) { return seq ^ 0x5A5AA5A5u; }

static void set_part(int i, esp_partition_type_t type, esp_partition_subtype_t sub, uint32_t addr,
                     uint32_t size, const char *label)
{
    esp_partition_t *p = &g_fake_idf.parts[i];
    p->type = type;
    p->subtype = sub;
    p->address = addr;
    p->size = size;
    p->erase_size = 0x1000;
    strncpy(p->label, label, sizeof(p->label) - 1);
}

void fake_idf_reset(void)
{
    memset(&g_fake_idf, 0, sizeof(g_fake_idf));
    set_part(FAKE_FACTORY, ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_APP_FACTORY, 0x10000, 0x100000, "factory");
    set_part(FAKE_OTA_0, ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_APP_OTA_0, 0x110000, 0x100000, "ota_0");
    set_part(FAKE_OTA_1, ESP_PARTITION_TYPE_APP, ESP_PARTITION_SUBTYPE_APP_OTA_1, 0x210000, 0x100000, "ota_1");
    set_part(FAKE_OTADATA, ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_OTA, 0xd000, 0x2000, "otadata");
    memset(g_fake_idf.otadata, 0xFF, sizeof(g_fake_idf.otadata));
    g_fake_idf.running = FAKE_FACTORY;
}

void fake_idf_set_entry(int i, uint32_t seq, esp_ota_img_states_t state)
{
    esp_ota_select_entry_t *e = &g_fake_idf.otadata[i];
    memset(e, 0xFF, sizeof(*e));
    e->ota_seq = seq;
    e->ota_state = (uint32_t)state;
    e->crc = fake_crc(seq);
}

static int entry_ok(const esp_ota_select_entry_t *e)
{
    return e->ota_seq != UINT32_MAX && e->crc == fake_crc(e->ota_seq);
}

int bootloader_common_get_active_otadata(esp_ota_select_entry_t *two)
{
    int i, best = -1;
    for (i = 0; i < 2; i++) {
        if (entry_ok(&two[i]) && two[i].ota_state != ESP_OTA_IMG_INVALID &&
            two[i].ota_state != ESP_OTA_IMG_ABORTED &&
            (best < 0 || two[i].ota_seq > two[best].ota_seq)) {
            best = i;
        }
    }
    return best;
}

static int is_ota(const esp_partition_t *p)
{
    return p != NULL && p->type == ESP_PARTITION_TYPE_APP &&
           p->subtype >= ESP_PARTITION_SUBTYPE_APP_OTA_MIN && p->subtype < ESP_PARTITION_SUBTYPE_APP_OTA_MAX;
}

/* ---- app_update ---- */

const esp_partition_t *esp_ota_get_running_partition(void) { return &g_fake_idf.parts[g_fake_idf.running]; }

const esp_partition_t *esp_ota_get_boot_partition(void)
{
    esp_ota_select_entry_t two[2];
    int a;
    memcpy(two, g_fake_idf.otadata, sizeof(two));
    a = bootloader_common_get_active_otadata(two);
    return a < 0 ? &g_fake_idf.parts[FAKE_FACTORY] : &g_fake_idf.parts[FAKE_OTA_0 + (int)((two[a].ota_seq - 1u) % 2u)];
}

const esp_partition_t *esp_ota_get_next_update_partition(const esp_partition_t *start_from)
{
    int i, next_is_result;
    if (start_from == NULL) {
        start_from = esp_ota_get_running_partition();
    }
    next_is_result = !is_ota(start_from);
    for (i = FAKE_OTA_0; i <= FAKE_OTA_1; i++) {
        if (next_is_result) {
            return &g_fake_idf.parts[i];
        }
        next_is_result = g_fake_idf.parts[i].address == start_from->address;
    }
    return &g_fake_idf.parts[FAKE_OTA_0];
}

esp_err_t esp_ota_get_state_partition(const esp_partition_t *partition, esp_ota_img_states_t *ota_state)
{
    int i, best = -1;
    if (!is_ota(partition)) {
        return ESP_ERR_NOT_FOUND;
    }
    for (i = 0; i < 2; i++) {
        const esp_ota_select_entry_t *e = &g_fake_idf.otadata[i];
        if (entry_ok(e) && (e->ota_seq - 1u) % 2u == (uint32_t)(partition->subtype - ESP_PARTITION_SUBTYPE_APP_OTA_MIN) &&
            (best < 0 || e->ota_seq > g_fake_idf.otadata[best].ota_seq)) {
            best = i;
        }
    }
    if (best < 0) {
        return ESP_ERR_NOT_FOUND;
    }
    *ota_state = (esp_ota_img_states_t)g_fake_idf.otadata[best].ota_state;
    return ESP_OK;
}

esp_err_t esp_ota_get_partition_description(const esp_partition_t *partition, esp_app_desc_t *app_desc)
{
    (void)partition;
    (void)app_desc;
    return ESP_ERR_NOT_FOUND; /* the slots hold no app: nothing to verify */
}

esp_err_t esp_ota_set_boot_partition(const esp_partition_t *partition) { (void)partition; return ESP_OK; }
esp_err_t esp_ota_mark_app_valid_cancel_rollback(void) { return ESP_OK; }
esp_err_t esp_ota_mark_app_invalid_rollback_and_reboot(void) { return ESP_FAIL; }
bool esp_ota_check_rollback_is_possible(void) { return true; }

/* ---- partitions ---- */

const esp_partition_t *esp_partition_find_first(esp_partition_type_t type, esp_partition_subtype_t subtype, const char *label)
{
    int i;
    (void)label;
    for (i = 0; i < FAKE_NPARTS; i++) {
        if (g_fake_idf.parts[i].type == type && (subtype == ESP_PARTITION_SUBTYPE_ANY || g_fake_idf.parts[i].subtype == subtype)) {
            return &g_fake_idf.parts[i];
        }
    }
    return NULL;
}

esp_partition_iterator_t esp_partition_find(esp_partition_type_t type, esp_partition_subtype_t subtype, const char *label)
{
    (void)label;
    if (type != ESP_PARTITION_TYPE_APP || subtype != ESP_PARTITION_SUBTYPE_ANY) {
        return NULL;
    }
    s_iter.next = FAKE_FACTORY;
    return &s_iter;
}

const esp_partition_t *esp_partition_get(esp_partition_iterator_t it) { return &g_fake_idf.parts[it->next]; }

esp_partition_iterator_t esp_partition_next(esp_partition_iterator_t it)
{
    return ++it->next <= FAKE_OTA_1 ? it : NULL;
}

void esp_partition_iterator_release(esp_partition_iterator_t it) { (void)it; }

esp_err_t esp_partition_read(const esp_partition_t *partition, size_t src_offset, void *dst, size_t size)
{
    if (partition == &g_fake_idf.parts[FAKE_OTADATA]) {
        /* entry i sits at the start of sector i */
        size_t i = src_offset / 0x1000u;
        if (src_offset % 0x1000u != 0 || i > 1 || size > sizeof(esp_ota_select_entry_t)) {
            return ESP_FAIL;
        }
        memcpy(dst, &g_fake_idf.otadata[i], size);
        return ESP_OK;
    }
    memset(dst, 0xFF, size); /* erased app slots */
    return ESP_OK;
}

esp_err_t esp_partition_write(const esp_partition_t *partition, size_t dst_offset, const void *src, size_t size)
{
    (void)partition;
    (void)dst_offset;
    (void)src;
    (void)size;
    return ESP_OK;
}

esp_err_t esp_partition_erase_range(const esp_partition_t *partition, size_t offset, size_t size)
{
    (void)partition;
    (void)offset;
    (void)size;
    return ESP_OK;
}

/* ---- chip, time, UART, NVS, log ---- */

uint32_t efuse_hal_chip_revision(void) { return 300; }
uint32_t esp_efuse_read_secure_version(void) { return 0; }
int64_t esp_timer_get_time(void) { return 0; }
void esp_fill_random(void *buf, size_t len) { memset(buf, 0x5A, len); }
void esp_restart(void) { abort(); }
const char *esp_err_to_name(esp_err_t code) { return code == ESP_OK ? "ESP_OK" : "ESP_FAIL"; }
int uart_write_bytes(uart_port_t uart_num, const void *src, size_t size) { (void)uart_num; (void)src; return (int)size; }
esp_err_t uart_wait_tx_done(uart_port_t uart_num, TickType_t ticks) { (void)uart_num; (void)ticks; return ESP_OK; }
esp_err_t uart_set_baudrate(uart_port_t uart_num, uint32_t baud) { (void)uart_num; (void)baud; return ESP_OK; }
esp_err_t nvs_open(const char *ns, nvs_open_mode_t mode, nvs_handle_t *h) { (void)ns; (void)mode; *h = 1; return ESP_OK; }
esp_err_t nvs_get_blob(nvs_handle_t h, const char *key, void *out, size_t *len)
{
    (void)h; (void)key; (void)out; (void)len;
    return ESP_ERR_NVS_NOT_FOUND;
}
esp_err_t nvs_set_blob(nvs_handle_t h, const char *key, const void *v, size_t len) { (void)h; (void)key; (void)v; (void)len; return ESP_OK; }
esp_err_t nvs_erase_key(nvs_handle_t h, const char *key) { (void)h; (void)key; return ESP_OK; }
esp_err_t nvs_commit(nvs_handle_t h) { (void)h; return ESP_OK; }
void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...) { (void)level; (void)tag; (void)format; }
