/*
 * fake_idf.h: a small stand-in for the parts of ESP-IDF the example's port (main/ota_uart_port.c)
 * calls, so that its logic runs on the host: a two-OTA partition table, otadata in RAM with
 * ESP-IDF's selection rules, empty app slots, a silent UART and NVS. Test code only; it says
 * nothing about the real ESP-IDF beyond what its comments cite.
 */
#pragma once
#include <stdint.h>

#include "esp_flash_partitions.h"
#include "esp_partition.h"

enum { FAKE_FACTORY, FAKE_OTA_0, FAKE_OTA_1, FAKE_OTADATA, FAKE_NPARTS };

typedef struct {
    esp_partition_t parts[FAKE_NPARTS];
    int running;                 /* FAKE_FACTORY, FAKE_OTA_0 or FAKE_OTA_1 */
    esp_ota_select_entry_t otadata[2];
} fake_idf_t;

extern fake_idf_t g_fake_idf;

/** Factory layout (ESP-IDF's two-OTA table), both otadata sectors erased, factory app running. */
void fake_idf_reset(void);
/** Writes otadata entry `i` (0 or 1) with a valid CRC. */
void fake_idf_set_entry(int i, uint32_t seq, esp_ota_img_states_t state);
