/*
 * ota_uart_info.c: what the ESP-IDF port reports about the device (HELLO_ACK, SPEC §4.2): the app
 * slots with their otadata state and a cached verification, the running slot, the app the
 * bootloader starts at the next reset, and the update target (SPEC §6.1: the next OTA slot after
 * the running one that neither runs, nor is selected by otadata, nor boots next).
 */
#include "ota_uart_info.h"

#include <string.h>

#include "bootloader_common.h"
#include "esp_flash_partitions.h"
#include "esp_ota_ops.h"
#include "hal/efuse_hal.h"
#include "sdkconfig.h"
#if CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
#include "esp_efuse.h"
#endif

#define OTADATA_SECTOR 0x1000u /* otadata holds one entry per 4 KiB sector */

static int index_of(const ota_port_t *p, const esp_partition_t *part)
{
    uint8_t i;
    for (i = 0; part != NULL && i < p->napps; i++) {
        if (p->apps[i]->address == part->address) {
            return i;
        }
    }
    return -1;
}

bool ota_port_running_pending(void)
{
    esp_ota_img_states_t st;
    return esp_ota_get_state_partition(esp_ota_get_running_partition(), &st) == ESP_OK &&
           st == ESP_OTA_IMG_PENDING_VERIFY;
}

static int index_of_subtype(const ota_port_t *p, int subtype)
{
    uint8_t i;
    for (i = 0; i < p->napps; i++) {
        if ((int)p->apps[i]->subtype == subtype) {
            return i;
        }
    }
    return -1;
}

/*
 * HELLO_ACK.boot (SPEC §4.2): the app the bootloader starts at the next reset. Normally the one
 * otadata selects (esp_ota_get_boot_partition). But a running app that is still PENDING_VERIFY is
 * marked ABORTED by the bootloader at that reset, which then takes the other otadata entry if it
 * is valid, else the factory app: esp_ota_get_boot_partition() would name the pending app itself.
 * (Like esp_ota_get_boot_partition, this does not verify the app it names.)
 */
static int next_boot(const ota_port_t *p)
{
    const esp_partition_t *otadata;
    esp_ota_select_entry_t two[2];
    int active, nota = 0;
    uint8_t i;
    if (!ota_port_running_pending()) {
        return index_of(p, esp_ota_get_boot_partition());
    }
    otadata = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_OTA, NULL);
    if (otadata == NULL || esp_partition_read(otadata, 0, &two[0], sizeof(two[0])) != ESP_OK ||
        esp_partition_read(otadata, OTADATA_SECTOR, &two[1], sizeof(two[1])) != ESP_OK) {
        return index_of(p, esp_ota_get_boot_partition());
    }
    active = bootloader_common_get_active_otadata(two);
    if (active >= 0) {
        two[active].ota_state = ESP_OTA_IMG_ABORTED; /* what the bootloader does at the reset */
        active = bootloader_common_get_active_otadata(two);
    }
    if (active < 0) {
        return index_of_subtype(p, ESP_PARTITION_SUBTYPE_APP_FACTORY);
    }
    for (i = 0; i < p->napps; i++) {
        nota += p->apps[i]->subtype >= ESP_PARTITION_SUBTYPE_APP_OTA_MIN &&
                p->apps[i]->subtype < ESP_PARTITION_SUBTYPE_APP_OTA_MAX;
    }
    if (nota == 0) {
        return -1;
    }
    return index_of_subtype(p, ESP_PARTITION_SUBTYPE_APP_OTA_MIN +
                                   (int)((two[active].ota_seq - 1u) % (uint32_t)nota));
}

int ota_port_get_info(void *user, otarx_dev_info_t *info)
{
    ota_port_t *p = (ota_port_t *)user;
    const esp_partition_t *run = esp_ota_get_running_partition();
    const esp_partition_t *t = NULL;
    int r = index_of(p, run), selected = index_of(p, esp_ota_get_boot_partition());
    int b = next_boot(p), target = -1;
    uint8_t i;
    memset(info, 0, sizeof(*info));
    info->chip_id = CONFIG_IDF_FIRMWARE_CHIP_ID;
    info->chip_rev = (uint16_t)efuse_hal_chip_revision();
#if CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    info->flags |= OTARX_DEV_ROLLBACK;
    if (ota_port_running_pending()) {
        info->flags |= OTARX_DEV_PENDING;
    }
#endif
#if CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
    info->flags |= OTARX_DEV_ANTI_ROLLBACK;
    info->efuse_secure_version = esp_efuse_read_secure_version();
#endif
    if (p->iram_uart) {
        info->flags |= OTARX_DEV_IRAM_UART;
    }
    info->max_baud = p->max_baud;
    info->baud = p->baud;
    info->nparts = p->napps;
    /* the next OTA slot after the running one that neither runs, nor is selected by otadata, nor
     * boots next (SPEC §6.1) */
    for (i = 0; i < p->napps; i++) {
        t = esp_ota_get_next_update_partition(t);
        if (t == NULL) {
            break;
        }
        if (t != run && index_of(p, t) != selected && index_of(p, t) != b) {
            target = index_of(p, t);
            break;
        }
    }
    info->running = r < 0 ? OTARX_PART_NONE : (uint8_t)r;
    info->boot = b < 0 ? OTARX_PART_NONE : (uint8_t)b;
    info->target = target < 0 ? OTARX_PART_NONE : (uint8_t)target;
    return OTARX_OK;
}

void ota_port_describe(ota_port_t *p, uint8_t i)
{
    ota_port_slot_t *s = &p->slots[i];
    esp_app_desc_t desc;
    otarx_image_info_t info;
    memset(&s->info, 0, sizeof(s->info));
    s->info.subtype = (uint8_t)p->apps[i]->subtype;
    s->info.offset = p->apps[i]->address;
    s->info.size = p->apps[i]->size;
    if (esp_ota_get_partition_description(p->apps[i], &desc) == ESP_OK) {
        s->info.secure_version = desc.secure_version;
        memcpy(s->info.version, desc.version, sizeof(s->info.version));
        memcpy(s->info.project, desc.project_name, sizeof(s->info.project));
        s->valid = otarx_image_verify(&ota_port_ops, p, i, p->apps[i]->size,
                                      CONFIG_IDF_FIRMWARE_CHIP_ID,
                                      (uint16_t)efuse_hal_chip_revision(), p->scratch,
                                      sizeof(p->scratch), &info) == OTARX_OK;
    } else {
        s->valid = false;
    }
    s->known = true;
}

int ota_port_get_part(void *user, uint8_t index, otarx_part_t *part)
{
    ota_port_t *p = (ota_port_t *)user;
    esp_ota_img_states_t st;
    if (index >= p->napps) {
        return OTARX_ERR_ARG;
    }
    if (!p->slots[index].known) {
        ota_port_describe(p, index); /* verified once per change, not per HELLO */
    }
    *part = p->slots[index].info;
    part->valid = p->slots[index].valid;
    part->state = OTARX_STATE_NONE;
    if (esp_ota_get_state_partition(p->apps[index], &st) == ESP_OK && st <= ESP_OTA_IMG_ABORTED) {
        part->state = (uint8_t)st;
    }
    return OTARX_OK;
}
