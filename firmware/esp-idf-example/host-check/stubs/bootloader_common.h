/* ESP-IDF API declarations for a compile check (README.md); not the real header. */
#pragma once
#include <stdbool.h>
#include "esp_flash_partitions.h"
int bootloader_common_get_active_otadata(esp_ota_select_entry_t *two_otadata);
